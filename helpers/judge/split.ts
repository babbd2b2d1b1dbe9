/**
 * Judging a weighted split against its plan (split-design.ts), request by request:
 *
 *  - The split fails as soon as any class's test fails; a test that passed stays passed; the split passes once
 *    every test has passed.
 *
 * Why this keeps both promises of the design. False failures: the split fails only when some class's test
 * fails, and that test, run on its own, would have failed on the same requests — so P(fail | healthy) ≤ Σ α/k =
 * α, whatever the correlation between counts. Power: if class c is off by the shift, the split can pass only
 * after c's own test passed, so P(fail) ≥ 1 − P(c's test passes) ≥ power, exactly computed by the design (and
 * larger shifts are caught at least as often). Both hold however the requests are batched, because a verdict
 * reads the records in the order they were sent and stops at the first decisive one.
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
 * The sentence itself is worded in split-sentence.ts.
 */
import type { RequestRecord } from '../observe/records.ts';
import { describeOutcome } from './outcomes.ts';
import { decisionAt, fewestMoreRequests, stagewiseP } from './sequential.ts';
import { planFor, type FullPlan, type PlannedTest, type SplitExpectation } from './split-design.ts';
import { splitLabel, splitSentence, type ClassShare, type SplitFindings } from './split-sentence.ts';
import { clopperPearson } from './statistics.ts';
import type { Verdict } from './verdict.ts';

export type SplitDecision = 'pass' | 'fail' | 'continue';

export interface SplitJudgement {
  decision: SplitDecision;
  verdict: Verdict;
  /** With 'continue': the fewest further requests after which the verdict can change; send them, then judge again. */
  moreRequests?: number;
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

  const failed: SplitFindings['failed'] = [];
  const outside: string[] = [];
  const zeroHits: string[] = [];
  for (const [index, record] of records.entries()) {
    const reason = splitFailureReason(record);
    if (reason !== null) failed.push({ reason, index });
    else if (!weights.has(record.classification ?? '')) outside.push(record.classification ?? '');
    else if (weights.get(record.classification ?? '') === 0) zeroHits.push(record.classification ?? '');
  }
  const certain = failed.length + outside.length + zeroHits.length > 0;

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
    failures: failed.length,
    outsideClasses: outside.length,
  };

  const shares: ClassShare[] = entries.map(([name, weight]) => {
    const count = counts.get(name) ?? 0;
    const [low, high] = clopperPearson(count, n);
    return n === 0 ? { name, weight, count, share: null, ciLow: null, ciHigh: null } : { name, weight, count, share: count / n, ciLow: low, ciHigh: high };
  });
  for (const { name, weight, count, share, ciLow, ciHigh } of shares) {
    figures[`${name}.count`] = count;
    figures[`${name}.share`] = share;
    figures[`${name}.ciLow`] = ciLow;
    figures[`${name}.ciHigh`] = ciHigh;
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
  let outcome: SplitFindings['outcome'];
  let moreRequests: number | undefined;
  if (certain) {
    decision = 'fail';
    figures.p = 0;
    outcome = { kind: 'certain' };
  } else if (progress.decision === 'fail') {
    decision = 'fail';
    const p = Math.min(...progress.failures.map((f) => adjustedP(plan, f)));
    figures.p = p;
    const tests = progress.failures.map((f) => ({ className: f.planned.className, side: f.side, weight: weights.get(f.planned.className) ?? 0 }));
    outcome = { kind: 'failed', p, tests };
  } else if (progress.decision === 'pass') {
    decision = 'pass';
    figures.p = null;
    outcome = { kind: 'passed' };
  } else {
    figures.p = null;
    const undecided = plan.tests.filter((_, t) => progress.passedAt[t] === null).map((t) => t.className);
    if (options.final) {
      // No more records will come: a split not shown to be the expected one fails.
      decision = 'fail';
    } else {
      decision = 'continue';
      moreRequests = progress.moreRequests();
      figures.moreRequests = moreRequests;
    }
    outcome = { kind: 'undecided', undecided, certaintyWindow: plan.certaintyWindow, final: options.final, ...(moreRequests !== undefined && { moreRequests }) };
  }
  figures.decision = decision;
  const findings: SplitFindings = { label, n, maxRequests: plan.maxRequests, alpha, power, minShiftPoints, shares, failed, outside, zeroHits, outcome };
  return {
    decision,
    verdict: { pass: decision === 'pass', sentence: splitSentence(findings, records), judge: 'weighted-split', figures },
    ...(moreRequests !== undefined && { moreRequests }),
  };
}
