/**
 * The design of the weighted-split judge: "80 % of traffic to reviews v1, 10 % to v2, 10 % to v3".
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
 *
 * This file designs the tests and answers what they promise (the plan, each class's exact figures). Judging
 * records against the plan is split.ts; the sentence a verdict says is split-sentence.ts.
 */
import { designShareTest, operatingCharacteristic, type ShareTest } from './sequential.ts';
import { binomialCdf, binomialUpperTail } from './statistics.ts';

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

/** An expectation checked, with its defaults filled in. */
export interface Normalized {
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
export interface PlannedTest {
  /** The class whose count the test reads (a two-way split: the first tested class). */
  className: string;
  /** Every tested class it speaks for (a two-way split: both). */
  classNames: string[];
  test: ShareTest;
}

export interface FullPlan extends SplitPlan {
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

/** The full plan, tests included, memoised: for the judge (split.ts), which reads every test request by request. */
export function planFor(expectation: SplitExpectation): FullPlan {
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

