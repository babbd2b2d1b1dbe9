/**
 * The weighted-split judge: "80 % of traffic to reviews v1, 10 % to v2, 10 % to v3".
 *
 * Gateway API conformance judges a split with a flat band: 500 requests, pass when every share is within
 * ±0.05 of its weight, the whole batch tried up to `MaxTestRetries` = 10 times (kubernetes-sigs/gateway-api
 * `conformance/utils/weight/weight.go`, `TestWeightedDistribution`; `conformance/tests/httproute-weight.go`).
 * Istio's integration tests use ±10 points on 100 requests (istio/istio `tests/integration/pilot/common/routing.go`,
 * Count 100), istio.io's docs test buckets 100 requests into ±10 bands
 * (`content/en/docs/tasks/traffic-management/traffic-shifting/test.sh`). A band has no stated false-failure rate
 * and no stated power, and rerunning until a batch passes quietly turns a real 7-point shift into a pass. This
 * judge states both numbers and keeps them, exactly (no normal approximation, no simulation):
 *
 *  - false failures: a healthy mesh is failed with probability ≤ α (default 1e-4, from config);
 *  - power: a split that is off by the minimum detectable shift (default 10 points) in any class is failed with
 *    probability ≥ the stated power (default 0.999).
 *
 * How (docs/statistics.md says it for people):
 *
 *  1. Every class with a weight strictly between 0 and 100 gets its own sequential test of its count, checked
 *     after every request: share = weight, against weight − shift and weight + shift (sequential.ts). A
 *     two-way split has one such test (one count fixes the other). Each test gets α / k of the false-failure
 *     budget (Bonferroni over the k tests), and a miss budget of 1 − power against each alternative.
 *  2. Each test is the one that, among all tests of that count that stop by the same maximum, keeps those two
 *     budgets with the fewest requests on average when the class is healthy: it is built exactly by backward
 *     induction (Lagrange multipliers on the error rates, tuned until the exact rates meet the budgets). In
 *     shape it is two one-sided sequential probability-ratio tests merged: at every request count the class
 *     count falls in one of fail low | continue | pass | continue | fail high.
 *  3. Every test ends by maxRequests = 1.5 × the size of the fixed-sample exact test with the same α and power
 *     (rounded up to 10): there each count is either passed or failed, and that truncation is inside the exact
 *     error rates of step 2, so it costs no α. (Doubling it saves less than a request on average.)
 *  4. The split fails as soon as any test fails; a test that passed stays passed; the split passes once every
 *     test has passed.
 *
 * Why this keeps both promises. False failures: the split fails only when some class's test fails, and that
 * test, run on its own, would have failed on the same requests — so P(fail | healthy) ≤ Σ α/k = α, whatever
 * the correlation between counts. Power: if class c is off by the shift, the split can pass only after c's own
 * test passed, so P(fail) ≥ 1 − P(c's test passes) ≥ power, exactly computed in step 2 (and larger shifts are
 * caught at least as often). Both hold however the requests are batched, because a verdict reads the records in
 * the order they were sent and stops at the first decisive one.
 *
 * Weight 0 and weight 100 need no statistics: a request in a weight-0 class is impossible under the expected
 * split, so one is proof. The same holds for a request that failed (error, no response, HTTP ≥ 400) or that the
 * classifier could not attribute, and for a class outside the expectation: under "80/10/10" every request is
 * answered by one of the three. Each of these fails the split at once, is listed in the sentence, and costs no
 * α. (A subset without endpoints, or a VirtualService naming a subset no DestinationRule defines, shows up as
 * exactly such 503s — the failures are evidence about the split, not noise to filter out.) Against a shift of
 * the minimum size into such a category, no split passes before (1 − shift)^n ≤ 1 − power: 66 requests for 10
 * points at 0.999; a 100/0 split is judged on exactly those.
 *
 * The sentence's p, for a failure, is the stagewise sequential p-value of the failing test on the side it
 * failed (the probability, on a healthy mesh, that this test fails on that side at an earlier request, or at
 * this one with a count at least as far out), divided by the share of α that side may spend and multiplied by
 * α (a weighted Bonferroni adjustment over the tests and their sides). By construction a failure reads p ≤ α.
 * A pass states instead what it rests on: the power against the minimum shift, and the number of requests.
 */
import type { RequestRecord } from '../observe/records.ts';
import type { Verdict } from './verdict.ts';
import { describeOutcome } from './outcomes.ts';
import { describeRecord } from './rates.ts';
import { decisionAt, designShareTest, fewestMoreRequests, operatingCharacteristic, stagewiseP, type ShareTest } from './sequential.ts';
import { binomialCdf, binomialUpperTail, clopperPearson, formatP, formatPercent, pIs } from './statistics.ts';

export interface SplitExpectation {
  /** Percent of traffic per class, e.g. {"reviews-v1": 80, "reviews-v2": 10, "reviews-v3": 10}; sums to 100. */
  weights: Readonly<Record<string, number>>;
  /** Overall false-failure budget for this split; default 1e-4 (config `alpha`). */
  alpha?: number;
  /** The smallest shift, in percentage points, that must be caught; default 10. */
  minShiftPoints?: number;
  /** Probability of catching that shift; default 0.999. */
  power?: number;
}

/** How long the tests may run, as a multiple of the fixed-sample exact test's size (rounded up to 10). */
export const HORIZON_OVER_FIXED_SAMPLE = 1.5;

/** What the plan says about one tested class: the exact figures of its sequential test. */
export interface ClassDesign {
  /** Expected share as a fraction. */
  share: number;
  /** Exact probability that this class's test fails when the share is share − shift / share + shift (null: no such share). */
  powerBelow: number | null;
  powerAbove: number | null;
  /** Exact probability that this class's test fails a healthy class (≤ its α share), and per side. */
  falseFailure: number;
  falseFailureBelow: number;
  falseFailureAbove: number;
  /** Exact mean number of requests this class's test needs when the class is healthy. */
  expectedRequests: number;
}

export interface SplitPlan {
  /** The most requests the verdict can need: every test has decided by then. */
  maxRequests: number;
  /** The fewest requests after which the split can pass (the certainty window, or later if no test can pass sooner). */
  fewestToPass: number;
  /** The fewest requests after which the verdict can be reached on statistics (pass or fail): the driver's first batch. */
  firstDecision: number;
  /** Size of the fixed-sample exact test (two-sided, α/k, the same power) that maxRequests is a multiple of. */
  fixedSampleSize: number;
  alpha: number;
  minShiftPoints: number;
  power: number;
  /** Classes judged statistically (0 < weight < 100). */
  testedClasses: string[];
  /** Bonferroni divisor: the number of distinct tests among testedClasses. */
  multiplicity: number;
  /** Per-class tests, keyed by class name (a two-way split: both names, one test). */
  classes: Readonly<Record<string, ClassDesign>>;
  /**
   * Smallest exact power against the minimum shift: over each class's own test (both directions) and over a
   * leak of that size into failures or a weight-0 class within the certainty window.
   */
  achievedPower: number;
  /** Exact upper bound on the false-failure rate (Σ over tests, ≤ alpha). */
  falseFailureBound: number;
}

export type SplitDecision = 'pass' | 'fail' | 'continue';

export interface SplitJudgement {
  decision: SplitDecision;
  verdict: Verdict;
  /** With 'continue': the fewest further requests after which the verdict can change; send them, then judge again. */
  moreRequests?: number;
}

interface Normalized {
  entries: [string, number][];
  alpha: number;
  minShiftPoints: number;
  power: number;
}

function normalize(expectation: SplitExpectation): Normalized {
  const entries = Object.entries(expectation.weights);
  if (entries.length === 0) throw new RangeError('a split needs at least one class in weights');
  for (const [name, w] of entries) {
    if (!Number.isFinite(w) || w < 0 || w > 100) throw new RangeError(`weight of ${name} must be between 0 and 100, got ${w}`);
  }
  const total = entries.reduce((a, [, w]) => a + w, 0);
  if (Math.abs(total - 100) > 1e-6) {
    throw new RangeError(`weights must sum to 100 (they are percentages, as in a VirtualService), got ${total}`);
  }
  const alpha = expectation.alpha ?? 1e-4;
  const minShiftPoints = expectation.minShiftPoints ?? 10;
  const power = expectation.power ?? 0.999;
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`alpha must be in (0, 0.5), got ${alpha}`);
  if (!(minShiftPoints > 0 && minShiftPoints <= 100)) throw new RangeError(`minShiftPoints must be in (0, 100], got ${minShiftPoints}`);
  if (!(power > 0 && power < 1)) throw new RangeError(`power must be in (0, 1), got ${power}`);
  return { entries, alpha, minShiftPoints, power };
}

const isTested = (w: number): boolean => w > 0 && w < 100;

/** The shares a class must be told apart from: weight ∓ shift, where that is still a share. */
function alternativesOf(share: number, shift: number): { below: number | null; above: number | null } {
  const inRange = (q: number) => q > -1e-12 && q < 1 + 1e-12;
  const clamp = (q: number) => Math.min(1, Math.max(0, q));
  return { below: inRange(share - shift) ? clamp(share - shift) : null, above: inRange(share + shift) ? clamp(share + shift) : null };
}

/** Requests needed so that a shift of that size into a should-be-empty category is seen: (1 − shift)^n ≤ 1 − power. */
function certaintyRequests(shift: number, power: number): number {
  if (shift >= 1) return 1;
  return Math.max(1, Math.ceil(Math.log(1 - power) / Math.log(1 - shift) - 1e-9));
}

/** Exact power of the fixed-sample two-sided binomial test of share at n requests (α/2 in each tail), per alternative. */
function fixedSamplePowers(n: number, share: number, alternatives: readonly number[], alpha: number): number[] {
  // Largest count in the lower rejection tail and smallest in the upper one, by bisection on the exact tails.
  let low = -1;
  for (let step = 1 << 22; step > 0; step >>= 1) if (low + step <= n && binomialCdf(low + step, n, share) <= alpha / 2) low += step;
  let high = n + 1;
  for (let step = 1 << 22; step > 0; step >>= 1) if (high - step >= 0 && binomialUpperTail(high - step, n, share) <= alpha / 2) high -= step;
  return alternatives.map((q) => binomialCdf(low, n, q) + binomialUpperTail(high, n, q));
}

/**
 * The size of the fixed-sample exact binomial test of share (two-sided, α/2 in each tail) with power ≥ target
 * against every alternative. Power is not perfectly monotone in n for a discrete count, so this bisects to a
 * size that verifiably meets the target and then steps down while smaller sizes still do: the smallest n of
 * the run of sizes that meet it.
 */
export function fixedSampleRequests(share: number, alternatives: readonly number[], alpha: number, power: number): number {
  if (alternatives.length === 0) return 0;
  const meets = (n: number) => fixedSamplePowers(n, share, alternatives, alpha).every((p) => p >= power);
  let high = 16;
  while (!meets(high)) high *= 2;
  let low = high / 2;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (meets(mid)) high = mid;
    else low = mid;
  }
  while (high > 1 && meets(high - 1)) high--;
  return high;
}

/** One sequential test of the split and the class whose count it reads. */
interface PlannedTest {
  /** The class whose count the test reads (a two-way split: the first tested class). */
  className: string;
  /** Every tested class it speaks for (a two-way split: both). */
  classNames: string[];
  test: ShareTest;
}

interface FullPlan extends SplitPlan {
  normalized: Normalized;
  tests: PlannedTest[];
  /** No pass before this many requests: the certainty window. */
  certaintyWindow: number;
}

const plans = new Map<string, FullPlan>();

function classDesignOf(test: ShareTest, shift: number): ClassDesign {
  const { share } = test.spec;
  const { below, above } = alternativesOf(share, shift);
  const at = (q: number | null) => {
    if (q === null) return null;
    const index = test.spec.alternatives.indexOf(q);
    const oc = test.atAlternatives[index];
    return oc ? 1 - oc.pass : null;
  };
  return {
    share,
    powerBelow: at(below),
    powerAbove: at(above),
    falseFailure: test.healthy.failBelow + test.healthy.failAbove,
    falseFailureBelow: test.healthy.failBelow,
    falseFailureAbove: test.healthy.failAbove,
    expectedRequests: test.healthy.expectedRequests,
  };
}

/** The first request count at which the test has a region of the given kind at all. */
function firstRequestWith(test: ShareTest, kind: 'pass' | 'fail'): number {
  for (let n = 1; n <= test.spec.maxRequests; n++) {
    if (kind === 'pass' && (test.acceptFrom[n] ?? 1) <= (test.acceptTo[n] ?? 0)) return n;
    if (kind === 'fail' && ((test.rejectAtOrBelow[n] ?? -1) >= 0 || (test.rejectAtOrAbove[n] ?? n + 1) <= n)) return n;
  }
  return test.spec.maxRequests;
}

function buildPlan(norm: Normalized): FullPlan {
  const shift = norm.minShiftPoints / 100;
  const beta = 1 - norm.power;
  const tested = norm.entries.filter(([, w]) => isTested(w));
  const testedClasses = tested.map(([name]) => name);
  // A two-way split's two class tests are one test (one count determines the other), so it is counted once.
  const twoWay = tested.length === 2;
  const readers = twoWay ? tested.slice(0, 1) : tested;
  const multiplicity = readers.length;
  const alphaPerTest = norm.alpha / Math.max(1, multiplicity);
  const certaintyWindow = certaintyRequests(shift, norm.power);
  const alternativesFor = (share: number) => {
    const { below, above } = alternativesOf(share, shift);
    return [below, above].filter((q): q is number => q !== null);
  };
  const shares = [...new Set(readers.map(([, w]) => w / 100))];
  const fixedSampleSize = Math.max(0, ...shares.map((s) => fixedSampleRequests(s, alternativesFor(s), alphaPerTest, norm.power)));
  const maxRequests = shares.length === 0 ? certaintyWindow : Math.max(certaintyWindow, Math.ceil((HORIZON_OVER_FIXED_SAMPLE * fixedSampleSize) / 10) * 10);
  const byShare = new Map(
    shares.map((share) => [
      share,
      designShareTest({ share, alternatives: alternativesFor(share), alpha: alphaPerTest, beta, maxRequests, fewestToPass: certaintyWindow }),
    ]),
  );
  const tests: PlannedTest[] = readers.map(([name, w]) => ({
    className: name,
    classNames: twoWay ? testedClasses : [name],
    test: byShare.get(w / 100)!,
  }));
  const classes: Record<string, ClassDesign> = {};
  for (const planned of tests) for (const name of planned.classNames) classes[name] = classDesignOf(planned.test, shift);
  if (twoWay) {
    // The second class's share mirrors the first's: its "below" is the first's "above".
    const [first, second] = testedClasses as [string, string];
    const mirrored = classes[first]!;
    classes[second] = {
      ...mirrored,
      share: 1 - mirrored.share,
      powerBelow: mirrored.powerAbove,
      powerAbove: mirrored.powerBelow,
      falseFailureBelow: mirrored.falseFailureAbove,
      falseFailureAbove: mirrored.falseFailureBelow,
    };
  }
  const certaintyPower = 1 - Math.pow(1 - shift, certaintyWindow);
  const testPowers = tests.flatMap(({ test }) => test.atAlternatives.map((a) => 1 - a.pass));
  const fewestToPass = Math.max(certaintyWindow, ...tests.map(({ test }) => firstRequestWith(test, 'pass')));
  const firstFail = Math.min(maxRequests, ...tests.map(({ test }) => firstRequestWith(test, 'fail')));
  return {
    maxRequests,
    fewestToPass,
    firstDecision: Math.min(fewestToPass, firstFail),
    fixedSampleSize,
    alpha: norm.alpha,
    minShiftPoints: norm.minShiftPoints,
    power: norm.power,
    testedClasses,
    multiplicity,
    classes,
    achievedPower: Math.min(certaintyPower, ...testPowers),
    falseFailureBound: tests.reduce((sum, { test }) => sum + test.healthy.failBelow + test.healthy.failAbove, 0),
    normalized: norm,
    tests,
    certaintyWindow,
  };
}

function planFor(expectation: SplitExpectation): FullPlan {
  const norm = normalize(expectation);
  const key = JSON.stringify([norm.entries, norm.alpha, norm.minShiftPoints, norm.power]);
  let plan = plans.get(key);
  if (!plan) {
    plan = buildPlan(norm);
    plans.set(key, plan);
  }
  return plan;
}

/**
 * How many requests the split can need and when it can first be decided: send plan.firstDecision requests,
 * call judgeSplit, and while it says 'continue' send its `moreRequests` and judge again. Deterministic in the
 * expectation (and memoised); building a plan takes a fraction of a second.
 */
export function planSplitSampling(expectation: SplitExpectation): SplitPlan {
  const { normalized: _n, tests: _t, certaintyWindow: _c, ...plan } = planFor(expectation);
  return plan;
}

function testFor(plan: FullPlan, className: string): PlannedTest {
  const planned = plan.tests.find((t) => t.classNames.includes(className));
  if (!planned) throw new RangeError(`${className} is not a class with a weight strictly between 0 and 100 in this split`);
  return planned;
}

/** The tested class's share as the test reads it: a two-way split's second class is read through the first. */
function readShare(planned: PlannedTest, className: string, trueSharePercent: number): number {
  if (!(trueSharePercent >= 0 && trueSharePercent <= 100)) throw new RangeError(`trueSharePercent must be in [0, 100]`);
  const q = trueSharePercent / 100;
  return className === planned.className ? q : 1 - q;
}

/**
 * Exact probability that one class's own sequential test fails when that class truly gets `trueSharePercent`
 * of the traffic. At weight ± the minimum shift this is the power figure of the plan, and a lower bound on the
 * whole split's probability of failing; at the weight itself it is that class's false-failure rate.
 */
export function classRejectionProbability(expectation: SplitExpectation, className: string, trueSharePercent: number): number {
  const planned = testFor(planFor(expectation), className);
  const oc = operatingCharacteristic(planned.test, readShare(planned, className, trueSharePercent));
  return Math.min(1, oc.failBelow + oc.failAbove);
}

/** Exact mean number of requests one class's own test needs when that class truly gets `trueSharePercent`. */
export function classExpectedRequests(expectation: SplitExpectation, className: string, trueSharePercent: number): number {
  const planned = testFor(planFor(expectation), className);
  return operatingCharacteristic(planned.test, readShare(planned, className, trueSharePercent)).expectedRequests;
}

/** A failing test: which class, which side, at which request count and count. */
interface Failure {
  planned: PlannedTest;
  side: 'below' | 'above';
  n: number;
  count: number;
}

/**
 * The per-request procedure, fed one request at a time (its class, or null for a request that counts for no
 * tested class). judgeSplit uses it on records; the bench and the Monte Carlo self-test feed it simulated
 * classes directly, so what they measure is this very procedure.
 */
export class SplitProgress {
  /** Requests so far. */
  n = 0;
  decision: SplitDecision = 'continue';
  readonly failures: Failure[] = [];
  private readonly counts: number[];
  /** Request count at which each test passed (null: not yet). */
  readonly passedAt: (number | null)[];
  private readonly index = new Map<string, number>();

  constructor(private readonly plan: FullPlan) {
    this.counts = plan.tests.map(() => 0);
    this.passedAt = plan.tests.map(() => null);
    plan.tests.forEach((t, i) => this.index.set(t.className, i));
  }

  static of(expectation: SplitExpectation): SplitProgress {
    return new SplitProgress(planFor(expectation));
  }

  get maxRequests(): number {
    return this.plan.maxRequests;
  }

  countOf(testIndex: number): number {
    return this.counts[testIndex] ?? 0;
  }

  /** One more request, answered by `className`; returns the decision after it. */
  add(className: string | null | undefined): SplitDecision {
    if (this.decision !== 'continue') return this.decision;
    this.n++;
    const i = className === null || className === undefined ? undefined : this.index.get(className);
    if (i !== undefined) this.counts[i] = (this.counts[i] ?? 0) + 1;
    let allPassed = true;
    this.plan.tests.forEach((planned, t) => {
      if (this.passedAt[t] !== null) return;
      const count = this.counts[t] ?? 0;
      const decision = decisionAt(planned.test, this.n, count);
      if (decision === 'pass') this.passedAt[t] = this.n;
      else {
        allPassed = false;
        if (decision !== 'continue') this.failures.push({ planned, side: decision === 'fail-below' ? 'below' : 'above', n: this.n, count });
      }
    });
    if (this.failures.length > 0) this.decision = 'fail';
    else if (allPassed && this.n >= this.plan.certaintyWindow) this.decision = 'pass';
    return this.decision;
  }

  /** The fewest further requests after which the decision can change (≥ 1 while undecided). */
  moreRequests(): number {
    const { plan } = this;
    let earliestFail = Number.POSITIVE_INFINITY;
    let earliestPass = Math.max(0, plan.certaintyWindow - this.n);
    plan.tests.forEach((planned, t) => {
      if (this.passedAt[t] !== null) return;
      const count = this.counts[t] ?? 0;
      earliestFail = Math.min(earliestFail, fewestMoreRequests(planned.test, this.n, count, 'fail'));
      earliestPass = Math.max(earliestPass, fewestMoreRequests(planned.test, this.n, count, 'pass'));
    });
    return Math.max(1, Math.min(earliestFail, earliestPass, plan.maxRequests - this.n));
  }
}
/** Why a record cannot count for any class ("HTTP 503 UH", "connection reset …", "unclassified"), or null when it can. */
export function splitFailureReason(record: RequestRecord): string | null {
  if (record.error || record.status === 0 || record.status < 200 || record.status >= 400) {
    const outcome = describeOutcome(record);
    return outcome.length > 60 ? `${outcome.slice(0, 57)}…` : outcome;
  }
  if (!record.classification) return 'unclassified';
  return null;
}

function tally(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([what, count]) => `${count}× ${what}`)
    .join(', ');
}

function splitLabel(entries: readonly [string, number][]): string {
  return entries.map(([, w]) => String(w)).join('/');
}

/**
 * Weighted-Bonferroni adjusted p of a failure: the test's stagewise p on the side it failed, scaled by α over
 * the share of α that side may spend. Since that p is at most the side's exact false-failure rate whenever the
 * side fails, an adjusted p of a failure is at most α.
 */
function adjustedP(plan: FullPlan, failure: Failure): number {
  const { test } = failure.planned;
  const sideBudget = failure.side === 'below' ? test.healthy.failBelow : test.healthy.failAbove;
  const p = stagewiseP(test, failure.n, failure.count, failure.side);
  return Math.min(1, (p * plan.alpha) / Math.max(sideBudget, Number.MIN_VALUE));
}

/** "reviews-v2 above 10 %": the class and direction of a failing test, as the reader thinks of the split. */
function failureLabel(plan: FullPlan, failure: Failure): string {
  const weight = plan.normalized.entries.find(([name]) => name === failure.planned.className)?.[1] ?? 0;
  return `${failure.planned.className} ${failure.side} ${weight} %`;
}

/**
 * Judge a weighted split from the records so far (in the order they were sent).
 *
 * - 'fail' at once on any request that failed, was unclassified, or reached a class with weight 0 or outside
 *   the expectation; otherwise at the first request after which some class's sequential test fails.
 * - 'pass' at the first request after which every class's test has passed.
 * - 'continue' until then, with `moreRequests`: the fewest further requests after which that can change. With
 *   `final: true` (no more records will come) an undecided split fails: it was not shown to be the expected split.
 *
 * The tests read the records in order and stop at the first decisive one, so calling with extra records is
 * harmless (the verdict is about the first n); the certainties (failures, weight-0 traffic) are checked on
 * every record given.
 */
export function judgeSplit(expectation: SplitExpectation, records: readonly RequestRecord[], options: { final: boolean }): SplitJudgement {
  const plan = planFor(expectation);
  const { entries, alpha, minShiftPoints, power } = plan.normalized;
  const label = splitLabel(entries);
  const weights = new Map(entries);

  const failures: string[] = [];
  const failedAt: number[] = [];
  const outside: string[] = [];
  const zeroHits: string[] = [];
  for (const [index, record] of records.entries()) {
    const reason = splitFailureReason(record);
    if (reason !== null) {
      failures.push(reason);
      failedAt.push(index);
    } else if (!weights.has(record.classification ?? '')) outside.push(record.classification ?? '');
    else if (weights.get(record.classification ?? '') === 0) zeroHits.push(record.classification ?? '');
  }
  const certain = failures.length + outside.length + zeroHits.length > 0;

  const progress = new SplitProgress(plan);
  if (!certain) {
    for (const record of records) {
      if (progress.add(record.classification) !== 'continue') break;
    }
  }
  const n = certain ? records.length : progress.n;

  const counts = new Map<string, number>(entries.map(([name]) => [name, 0]));
  for (let i = 0; i < n; i++) {
    const record = records[i] as RequestRecord;
    const c = record.classification;
    if (c !== undefined && counts.has(c) && splitFailureReason(record) === null) counts.set(c, (counts.get(c) ?? 0) + 1);
  }

  const figures: Verdict['figures'] = {
    split: label,
    n,
    records: records.length,
    maxRequests: plan.maxRequests,
    alpha,
    power,
    minShiftPoints,
    failures: failures.length,
    outsideClasses: outside.length,
  };

  const parts: string[] = [];
  for (const [name, weight] of entries) {
    const x = counts.get(name) ?? 0;
    const [low, high] = clopperPearson(x, n);
    const share = n === 0 ? 0 : x / n;
    parts.push(
      n === 0
        ? `${name} no requests yet, expected ${weight} %`
        : `${name} ${formatPercent(share)} (95 % CI ${formatPercent(low, false)}–${formatPercent(high)}) of ${n}, expected ${weight} %`,
    );
    figures[`${name}.count`] = x;
    figures[`${name}.share`] = n === 0 ? null : share;
    figures[`${name}.ciLow`] = n === 0 ? null : low;
    figures[`${name}.ciHigh`] = n === 0 ? null : high;
    figures[`${name}.expected`] = weight / 100;
  }
  if (!certain) {
    plan.tests.forEach((planned, t) => {
      const at = progress.passedAt[t];
      const failure = progress.failures.find((f) => f.planned === planned);
      figures[`${planned.className}.test`] = failure ? `fail ${failure.side}` : at !== null ? 'pass' : 'undecided';
      figures[`${planned.className}.decidedAt`] = failure ? failure.n : (at ?? null);
    });
  }

  let decision: SplitDecision;
  let tail: string;
  let moreRequests: number | undefined;
  const shiftPhrase = `a ${minShiftPoints}-point shift would have been detected with power ≥ ${power}`;
  if (certain) {
    decision = 'fail';
    const extra: string[] = [];
    if (outside.length > 0) extra.push(`${outside.length} went to classes outside the split (${tally(outside)})`);
    if (zeroHits.length > 0) extra.push(`${zeroHits.length} went to weight-0 classes (${tally(zeroHits)})`);
    parts.push(...extra);
    figures.p = 0;
    if (failures.length > 0) {
      // Requests that failed are a different finding from a wrong split: said first, each named with what
      // became of it (status and Envoy's flag, or the transport failure), and the split is not called wrong.
      const shown = failedAt.slice(0, 3).map((i) => describeRecord(records[i] as RequestRecord, i));
      const more = failedAt.length > 3 ? `, and ${failedAt.length - 3} more` : '';
      parts.unshift(`${failures.length} of ${n} requests failed or were unclassified (${tally(failures)}): ${shown.join('; ')}${more}; of the others:`);
      tail =
        extra.length > 0
          ? `p = 0 < α = ${formatP(alpha)} (under ${label} every request reaches a weighted class): the split differs, and requests failed`
          : `requests failed, so the split is not shown (a failed request reaches no version of ${label}: p = 0 < α = ${formatP(alpha)})`;
    } else {
      tail = `p = 0 < α = ${formatP(alpha)} (under ${label} every request reaches a weighted class): the split differs`;
    }
  } else if (progress.decision === 'fail') {
    decision = 'fail';
    const p = Math.min(...progress.failures.map((f) => adjustedP(plan, f)));
    figures.p = p;
    tail = `${pIs(p)} < α = ${formatP(alpha)}: the split differs (${progress.failures.map((f) => failureLabel(plan, f)).join(', ')}; decided after ${n} of at most ${plan.maxRequests} requests)`;
  } else if (progress.decision === 'pass') {
    decision = 'pass';
    figures.p = null;
    tail = `consistent with ${label} (${shiftPhrase}; decided after ${n} of at most ${plan.maxRequests} requests)`;
  } else {
    figures.p = null;
    const undecided = plan.tests.filter((_, t) => progress.passedAt[t] === null).map((t) => t.className);
    const waiting = undecided.length > 0 ? `${undecided.join(', ')} not yet decided` : `no pass before ${plan.certaintyWindow} requests`;
    if (options.final) {
      decision = 'fail';
      tail = `${waiting} when the requests ran out (${n} of at most ${plan.maxRequests}): not shown to be ${label}`;
    } else {
      decision = 'continue';
      moreRequests = progress.moreRequests();
      figures.moreRequests = moreRequests;
      tail = `${waiting} after ${n} requests: continue for at least ${moreRequests} more (at most ${plan.maxRequests} in all)`;
    }
  }
  figures.decision = decision;
  return {
    decision,
    verdict: { pass: decision === 'pass', sentence: `${parts.join('; ').replace('of the others:; ', 'of the others: ')}; ${tail}`, judge: 'weighted-split', figures },
    ...(moreRequests !== undefined && { moreRequests }),
  };
}
