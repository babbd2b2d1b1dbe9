/**
 * Judges for the features that are not a split: "every request by jason is served by reviews-v2" (all match),
 * "about 10 % of requests get HTTP 500" (a rate), "the 7 s delay" (latency). Pure functions of recorded
 * requests, like every judge (STYLE.md "Judging is pure").
 */
import type { PlannedRequests } from '../config/features.ts';
import { formatDuration } from '../config/timeouts.ts';
import type { RequestRecord } from '../observe/records.ts';
import type { Verdict } from './verdict.ts';
import { describeOutcome } from './outcomes.ts';
import { binomialPmf, exactBinomialTest, formatP, formatPercent, pIs } from './statistics.ts';

/**
 * One record in a sentence: "#4 HTTP 200 reviews-v1 in 12 ms", "#9 HTTP 503 UO in 2 ms", "#2 the name did not
 * resolve (curl exit code 6) in 3 ms" (1-based position in the records given).
 */
export function describeRecord(record: RequestRecord, index: number): string {
  const cls = record.classification ? ` ${record.classification}` : '';
  return `#${index + 1} ${describeOutcome(record)}${cls} in ${formatDuration(record.latencyMs)}`;
}

const SHOWN_EXCEPTIONS = 3;

/**
 * Pass iff every record satisfies the predicate (and there is at least one record: nothing observed proves
 * nothing). For deterministic routing, where one exception is a wrong route, not noise. The description names
 * what every request should do: judgeAllMatch(jasonRecords, r => r.classification === 'reviews-v2',
 * 'requests by jason served by reviews-v2').
 */
export function judgeAllMatch(
  records: readonly RequestRecord[],
  predicate: (record: RequestRecord) => boolean,
  description: string,
): Verdict {
  const exceptions: number[] = [];
  records.forEach((r, i) => {
    if (!predicate(r)) exceptions.push(i);
  });
  const n = records.length;
  const figures: Verdict['figures'] = { n, exceptions: exceptions.length };
  if (n === 0) {
    return { pass: false, judge: 'all-match', figures, sentence: `${description}: no requests were observed, so nothing is shown` };
  }
  if (exceptions.length === 0) {
    return { pass: true, judge: 'all-match', figures, sentence: `${description}: all ${n} of ${n} requests` };
  }
  const shown = exceptions.slice(0, SHOWN_EXCEPTIONS).map((i) => describeRecord(records[i] as RequestRecord, i));
  const more = exceptions.length > SHOWN_EXCEPTIONS ? `, and ${exceptions.length - SHOWN_EXCEPTIONS} more` : '';
  return {
    pass: false,
    judge: 'all-match',
    figures,
    sentence:
      `${description}: ${n - exceptions.length} of ${n} requests; ${exceptions.length} ` +
      `${exceptions.length === 1 ? 'exception' : 'exceptions'}: ${shown.join('; ')}${more}`,
  };
}

/**
 * Requests for an all-match verdict: enough that routing wrong on `minShiftPoints` % of requests shows at least
 * one exception with probability 1 − α, i.e. the smallest n with (1 − shift)^n ≤ α (88 at α = 1e-4, 10 points).
 */
export function planAllMatchSampling({ alpha = 1e-4, minShiftPoints = 10 }: { alpha?: number; minShiftPoints?: number } = {}): number {
  return Math.ceil(Math.log(alpha) / Math.log(1 - minShiftPoints / 100));
}

/** How many requests a catalogue check sends at the run's α (helpers/config/features.ts PlannedRequests). */
export function plannedRequests(requests: PlannedRequests, alpha: number, expectedRate?: number): number {
  if (requests === 'all-match') return planAllMatchSampling({ alpha });
  if (requests === 'rate') return planRateSampling(expectedRate ?? 0.1, { alpha });
  return requests;
}

export interface RateOptions {
  /** False-failure rate of the verdict; default 1e-4 (config `alpha`). */
  alpha?: number;
  /** What is being counted, for the sentence; default "matching requests". */
  description?: string;
  /** Shift (percentage points) whose detection power the sentence reports on a pass; default 10. */
  minShiftPoints?: number;
}

/**
 * The exact probability that a two-sided exact binomial test at α on n requests rejects when the true rate is
 * `trueRate` (rejection region: every count whose R-style two-sided p-value is ≤ α under `expectedRate`).
 */
export function rateTestPower(n: number, expectedRate: number, trueRate: number, alpha: number): number {
  // p(x) = Σ pmf(y) over pmf(y) ≤ pmf(x)·(1 + 1e-7): sort the pmf once and read p(x) off prefix sums, O(n log n)
  // instead of one O(n) test per count.
  const pmf = Array.from({ length: n + 1 }, (_, x) => binomialPmf(x, n, expectedRate));
  const sorted = [...pmf].sort((a, b) => a - b);
  const prefix = new Float64Array(n + 2);
  sorted.forEach((v, i) => (prefix[i + 1] = (prefix[i] ?? 0) + v));
  let power = 0;
  for (let x = 0; x <= n; x++) {
    const limit = (pmf[x] ?? 0) * (1 + 1e-7);
    let lo = 0;
    let hi = n + 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] ?? Infinity) <= limit) lo = mid + 1;
      else hi = mid;
    }
    if ((prefix[lo] ?? 1) <= alpha) power += binomialPmf(x, n, trueRate);
  }
  return Math.min(1, power);
}

/**
 * The smallest n at which the exact two-sided test at α detects a shift of `minShiftPoints` either way (where
 * that rate exists) with probability ≥ `power`. Use it to decide how many requests a rate check sends.
 */
export function planRateSampling(
  expectedRate: number,
  { alpha = 1e-4, minShiftPoints = 10, power = 0.999 }: { alpha?: number; minShiftPoints?: number; power?: number } = {},
): number {
  checkRate(expectedRate);
  const shift = minShiftPoints / 100;
  const alternatives = [expectedRate - shift, expectedRate + shift].filter((q) => q >= 0 && q <= 1);
  if (alternatives.length === 0) return 1;
  const enough = (n: number) => alternatives.every((q) => rateTestPower(n, expectedRate, q, alpha) >= power);
  let high = 16;
  while (!enough(high)) {
    if (high > 100_000) throw new RangeError(`no n up to 100,000 reaches power ${power}: raise minShiftPoints`);
    high *= 2;
  }
  let low = high / 2;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (enough(mid)) high = mid;
    else low = mid;
  }
  return high;
}

function checkRate(expectedRate: number): void {
  if (!(expectedRate >= 0 && expectedRate <= 1)) {
    throw new RangeError(`expectedRate is a fraction between 0 and 1 (pass 0.1 for 10 %), got ${expectedRate}`);
  }
}

/**
 * "About 10 % of requests get HTTP 500": an exact two-sided binomial test of rate = expectedRate (a fraction).
 * Fails when p < α; a pass says "consistent with" and how likely the test was to catch a shift of
 * minShiftPoints with this many requests, because a handful of requests is consistent with almost anything.
 */
export function judgeRate(
  records: readonly RequestRecord[],
  predicate: (record: RequestRecord) => boolean,
  expectedRate: number,
  options: RateOptions = {},
): Verdict {
  checkRate(expectedRate);
  const alpha = options.alpha ?? 1e-4;
  const description = options.description ?? 'matching requests';
  const minShiftPoints = options.minShiftPoints ?? 10;
  const n = records.length;
  const x = records.filter(predicate).length;
  const expected = formatPercent(expectedRate).replace('.0 %', ' %');
  if (n === 0) {
    return {
      pass: false,
      judge: 'rate',
      figures: { n, count: x, expectedRate, alpha },
      sentence: `${description}: no requests were observed, expected ${expected}; nothing is shown`,
    };
  }
  const test = exactBinomialTest(x, n, expectedRate);
  const shift = minShiftPoints / 100;
  const alternatives = [expectedRate - shift, expectedRate + shift].filter((q) => q >= 0 && q <= 1);
  const power = alternatives.length === 0 ? 1 : Math.min(...alternatives.map((q) => rateTestPower(n, expectedRate, q, alpha)));
  const pass = test.pValue >= alpha;
  const observed = `${description}: ${formatPercent(test.estimate)} (95 % CI ${formatPercent(test.ci[0], false)}–${formatPercent(test.ci[1])}) of ${n}, expected ${expected}`;
  const sentence = pass
    ? `${observed}; ${pIs(test.pValue)} ≥ α = ${formatP(alpha)}: consistent with ${expected} ` +
      `(a ${minShiftPoints}-point shift would have been detected with power ${power >= 0.9995 ? '≥ 0.999' : power.toFixed(3)})`
    : `${observed}; ${pIs(test.pValue)} < α = ${formatP(alpha)}: the rate differs`;
  return {
    pass,
    judge: 'rate',
    figures: { n, count: x, rate: test.estimate, ciLow: test.ci[0], ciHigh: test.ci[1], expectedRate, p: test.pValue, alpha, power },
    sentence,
  };
}

export interface LatencyExpectation {
  /** Every request must take at least this long (e.g. 7000 for a 7 s fixedDelay). */
  atLeastMs?: number;
  /** The `quantile` of latencies must be at most this (e.g. 7000 + margin). */
  atMostMs?: number;
  /** Which quantile atMostMs bounds; default 0.95. */
  quantile?: number;
  /** Count requests that failed (error or no response) instead of failing the verdict; default false. */
  allowErrors?: boolean;
  /** What was timed, for the sentence; default "latency". */
  description?: string;
}

/**
 * Nearest-rank quantile: the smallest latency with at least q of the requests at or below it, so "p95 = 7.2 s"
 * reads literally as "95 % of requests took at most 7.2 s", never an interpolated value nobody measured.
 */
export function nearestRank(sortedValues: readonly number[], q: number): number {
  if (sortedValues.length === 0) return Number.NaN;
  return sortedValues[Math.min(sortedValues.length - 1, Math.max(0, Math.ceil(q * sortedValues.length) - 1))] as number;
}

/**
 * The delay check: every request took ≥ atLeastMs (a fixedDelay is a floor, each request must wait it) and
 * the chosen quantile (p95) is ≤ atMostMs (the delay is not much more than configured). A request that failed
 * has no response time, so by default it fails the verdict and is listed.
 */
export function judgeLatency(records: readonly RequestRecord[], expectation: LatencyExpectation): Verdict {
  const q = expectation.quantile ?? 0.95;
  if (!(q > 0 && q <= 1)) throw new RangeError(`quantile must be in (0, 1], got ${q}`);
  if (expectation.atLeastMs === undefined && expectation.atMostMs === undefined) {
    throw new RangeError('judgeLatency needs atLeastMs, atMostMs or both');
  }
  const description = expectation.description ?? 'latency';
  const qName = q === 0.5 ? 'median' : q === 1 ? 'max' : `p${Math.round(q * 100)}`;
  const errored: number[] = [];
  records.forEach((r, i) => {
    if (r.error || r.status === 0) errored.push(i);
  });
  const timed = records.filter((r) => expectation.allowErrors || !(r.error || r.status === 0));
  const sorted = timed.map((r) => r.latencyMs).sort((a, b) => a - b);
  const n = sorted.length;
  const figures: Verdict['figures'] = {
    n: records.length,
    errors: errored.length,
    atLeastMs: expectation.atLeastMs ?? null,
    atMostMs: expectation.atMostMs ?? null,
    quantile: q,
  };
  const wanted: string[] = [];
  if (expectation.atLeastMs !== undefined) wanted.push(`every request ≥ ${formatDuration(expectation.atLeastMs)}`);
  if (expectation.atMostMs !== undefined) wanted.push(`${qName} ≤ ${formatDuration(expectation.atMostMs)}`);
  if (n === 0) {
    return { pass: false, judge: 'latency', figures, sentence: `${description}: no timed requests; expected ${wanted.join(' and ')}` };
  }
  const min = sorted[0] as number;
  const median = nearestRank(sorted, 0.5);
  const atQ = nearestRank(sorted, q);
  const max = sorted[n - 1] as number;
  Object.assign(figures, { minMs: min, medianMs: median, quantileMs: atQ, maxMs: max });
  const problems: string[] = [];
  if (expectation.atLeastMs !== undefined) {
    const fast = timed.filter((r) => r.latencyMs < (expectation.atLeastMs as number));
    figures.tooFast = fast.length;
    if (fast.length > 0) {
      const shown = fast.slice(0, SHOWN_EXCEPTIONS).map((r) => formatDuration(r.latencyMs)).join(', ');
      problems.push(`${fast.length} took less than ${formatDuration(expectation.atLeastMs)} (${shown}${fast.length > SHOWN_EXCEPTIONS ? ', …' : ''})`);
    }
  }
  if (expectation.atMostMs !== undefined && atQ > expectation.atMostMs) {
    problems.push(`${qName} ${formatDuration(atQ)} is above ${formatDuration(expectation.atMostMs)}`);
  }
  if (!expectation.allowErrors && errored.length > 0) {
    const shown = errored.slice(0, SHOWN_EXCEPTIONS).map((i) => describeRecord(records[i] as RequestRecord, i));
    problems.push(`${errored.length} failed without a response (${shown.join('; ')}${errored.length > SHOWN_EXCEPTIONS ? '; …' : ''})`);
  }
  const observed =
    `${description}: ${n} requests took min ${formatDuration(min)}, median ${formatDuration(median)}, ` +
    `${q === 0.5 || q === 1 ? '' : `${qName} ${formatDuration(atQ)}, `}max ${formatDuration(max)}; expected ${wanted.join(' and ')}`;
  return {
    pass: problems.length === 0,
    judge: 'latency',
    figures,
    sentence: problems.length === 0 ? `${observed}: met` : `${observed}: not met, ${problems.join('; ')}`,
  };
}
