import type { RequestRecord } from '../observe/records.ts';
import { describeRecord } from './rates.ts';
import { formatP, formatPercent, pIs } from './statistics.ts';

/**
 * The sentence of a weighted-split verdict, worded from what the judge found (split.ts): each class's share
 * with its interval against its weight, then why the split passed, failed or goes on. A person reads it in the
 * report and the terminal, so its words change more often than the statistics behind it, and apart from them.
 */

/** One class as the judge counted it; share and interval are null before the first request. */
export interface ClassShare {
  name: string;
  /** The expected share, in percent. */
  weight: number;
  count: number;
  share: number | null;
  ciLow: number | null;
  ciHigh: number | null;
}

/** A class's test that failed, and on which side of its weight. */
export interface FailedTest {
  className: string;
  side: 'below' | 'above';
  weight: number;
}

/** What judgeSplit found, in numbers and records. */
export interface SplitFindings {
  /** The expected split as a person writes it, "80/10/10". */
  label: string;
  /** Requests judged. */
  n: number;
  maxRequests: number;
  alpha: number;
  power: number;
  minShiftPoints: number;
  shares: ClassShare[];
  /** Requests that failed or were unclassified: why each, and where it stands among the records. */
  failed: { reason: string; index: number }[];
  /** Classes of requests outside the expectation, one entry per request. */
  outside: string[];
  /** Classes of requests that reached a weight-0 class, one entry per request. */
  zeroHits: string[];
  outcome:
    | { kind: 'certain' }
    | { kind: 'failed'; p: number; tests: FailedTest[] }
    | { kind: 'passed' }
    | { kind: 'undecided'; undecided: string[]; certaintyWindow: number; final: boolean; moreRequests?: number };
}

/** "80/10/10": the weights in the order the expectation gives them. */
export function splitLabel(entries: readonly [string, number][]): string {
  return entries.map(([, w]) => String(w)).join('/');
}

/** "3× HTTP 503 UH, 1× unclassified": the most frequent first. */
function tally(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([what, count]) => `${count}× ${what}`)
    .join(', ');
}

/** "reviews-v1 79.5 % (95 % CI 75.2–83.4 %) of 400, expected 80 %". */
function shareText({ name, weight, share, ciLow, ciHigh }: ClassShare, n: number): string {
  if (n === 0 || share === null || ciLow === null || ciHigh === null) return `${name} no requests yet, expected ${weight} %`;
  return `${name} ${formatPercent(share)} (95 % CI ${formatPercent(ciLow, false)}–${formatPercent(ciHigh)}) of ${n}, expected ${weight} %`;
}

/** "reviews-v2 above 10 %": the class and direction of a failing test, as the reader thinks of the split. */
function failedTestText({ className, side, weight }: FailedTest): string {
  return `${className} ${side} ${weight} %`;
}

/** The verdict's sentence; `records` are the ones judged, for naming the requests that failed. */
export function splitSentence(findings: SplitFindings, records: readonly RequestRecord[]): string {
  const { label, n, maxRequests, alpha, power, minShiftPoints, failed, outside, zeroHits, outcome } = findings;
  const parts = findings.shares.map((share) => shareText(share, n));
  let tail: string;
  switch (outcome.kind) {
    case 'certain': {
      const extra: string[] = [];
      if (outside.length > 0) extra.push(`${outside.length} went to classes outside the split (${tally(outside)})`);
      if (zeroHits.length > 0) extra.push(`${zeroHits.length} went to weight-0 classes (${tally(zeroHits)})`);
      parts.push(...extra);
      if (failed.length > 0) {
        // Requests that failed are a different finding from a wrong split: said first, each named with what
        // became of it (status and Envoy's flag, or the transport failure), and the split is not called wrong.
        const shown = failed.slice(0, 3).map(({ index }) => describeRecord(records[index] as RequestRecord, index));
        const more = failed.length > 3 ? `, and ${failed.length - 3} more` : '';
        parts.unshift(`${failed.length} of ${n} requests failed or were unclassified (${tally(failed.map(({ reason }) => reason))}): ${shown.join('; ')}${more}; of the others:`);
        tail =
          extra.length > 0
            ? `p = 0 < α = ${formatP(alpha)} (under ${label} every request reaches a weighted class): the split differs, and requests failed`
            : `requests failed, so the split is not shown (a failed request reaches no version of ${label}: p = 0 < α = ${formatP(alpha)})`;
      } else {
        tail = `p = 0 < α = ${formatP(alpha)} (under ${label} every request reaches a weighted class): the split differs`;
      }
      break;
    }
    case 'failed':
      tail = `${pIs(outcome.p)} < α = ${formatP(alpha)}: the split differs (${outcome.tests.map(failedTestText).join(', ')}; decided after ${n} of at most ${maxRequests} requests)`;
      break;
    case 'passed':
      tail = `consistent with ${label} (a ${minShiftPoints}-point shift would have been detected with power ≥ ${power}; decided after ${n} of at most ${maxRequests} requests)`;
      break;
    case 'undecided': {
      const waiting = outcome.undecided.length > 0 ? `${outcome.undecided.join(', ')} not yet decided` : `no pass before ${outcome.certaintyWindow} requests`;
      tail = outcome.final
        ? `${waiting} when the requests ran out (${n} of at most ${maxRequests}): not shown to be ${label}`
        : `${waiting} after ${n} requests: continue for at least ${outcome.moreRequests} more (at most ${maxRequests} in all)`;
      break;
    }
  }
  return `${parts.join('; ').replace('of the others:; ', 'of the others: ')}; ${tail}`;
}
