import type { RequestRecord } from '../observe/records.ts';
import { describeMatcher, matches, type RequestMatcher } from './matchers.ts';
import { describeRecord } from './rates.ts';
import { formatDuration } from '../config/timeouts.ts';
import type { Verdict } from './verdict.ts';

/**
 * Outlier detection seen from the client: one upstream 5xx ejects the only endpoint, every request during the
 * ejection is refused by the client's own sidecar, and the endpoint serves again once the ejection time is over.
 *
 * The timing follows Envoy (envoyproxy/envoy@v1.37.0 source/common/upstream/outlier_detection_impl.cc): the
 * ejection happens as soon as consecutive_5xx is reached, but on the main thread, so a request sent within
 * moments of the 5xx may still reach the host (`reactionMs`); the host is released only on the interval timer,
 * so it returns between the ejection time and the ejection time plus one interval. Around both edges the
 * judge accepts either answer (`toleranceMs` covers the client's clock and its exec start-up); everywhere
 * else one answer is required.
 */
export interface EjectionExpectation {
  description: string;
  /** The request that fails and must eject the endpoint, e.g. {status: 500}. */
  trigger: RequestMatcher;
  /** A request refused by the client's sidecar, e.g. {status: 503, responseFlag: 'UH'}. */
  refused: RequestMatcher;
  /** A request the endpoint serves, e.g. {status: 200}. */
  served: RequestMatcher;
  /** baseEjectionTime of the DestinationRule (the first ejection lasts exactly this). */
  ejectionMs: number;
  /** Its outlier-detection interval: the release comes on this timer. */
  intervalMs: number;
  reactionMs: number;
  toleranceMs: number;
  /** Refused requests needed to show the ejection at all. */
  minRefused: number;
}

const at = (ms: number) => formatDuration(Math.max(0, ms));

export function judgeEjection(expectation: EjectionExpectation, records: readonly RequestRecord[]): Verdict {
  const ordered = records.map((record, index) => ({ record, index })).sort((a, b) => a.record.startedAt - b.record.startedAt);
  const figures: Verdict['figures'] = { n: records.length, ejectionMs: expectation.ejectionMs, intervalMs: expectation.intervalMs, minRefused: expectation.minRefused };
  const fail = (why: string): Verdict => ({ pass: false, judge: 'ejection', figures, sentence: `${expectation.description}: ${why}` });
  const first = ordered[0];
  if (!first) return fail('no requests were observed, so nothing is shown');
  if (!matches(expectation.trigger, first.record)) {
    return fail(`the first request should have failed (${describeMatcher(expectation.trigger)}) and ejected the endpoint, but was ${describeRecord(first.record, first.index)}`);
  }
  const t0 = first.record.startedAt + first.record.latencyMs;
  const mustBeRefusedUntil = t0 + expectation.ejectionMs - expectation.toleranceMs;
  const mustBeServedFrom = t0 + expectation.ejectionMs + expectation.intervalMs + expectation.toleranceMs;
  const problems: string[] = [];
  let refused = 0;
  let lastRefused: number | undefined;
  let servedAgain: number | undefined;
  let servedAfterWindow = 0;
  for (const { record, index } of ordered.slice(1)) {
    const start = record.startedAt;
    const isRefused = matches(expectation.refused, record);
    const isServed = matches(expectation.served, record);
    if (isRefused) {
      refused += 1;
      lastRefused = start - t0;
    }
    if (isServed && start >= t0 + expectation.reactionMs && servedAgain === undefined) servedAgain = start - t0;
    const where = `${describeRecord(record, index)} at ${at(start - t0)}`;
    if (!isRefused && !isServed) problems.push(`${where} is neither refused (${describeMatcher(expectation.refused)}) nor served`);
    else if (isServed && start >= t0 + expectation.reactionMs && start < mustBeRefusedUntil) problems.push(`${where} was served during the ejection`);
    else if (isRefused && start >= mustBeServedFrom) problems.push(`${where} was still refused after the ejection time`);
    if (isServed && start >= mustBeServedFrom) servedAfterWindow += 1;
  }
  Object.assign(figures, { refused, lastRefusedMs: lastRefused ?? null, servedAgainMs: servedAgain ?? null });
  if (refused < expectation.minRefused) problems.push(`only ${refused} refused, at least ${expectation.minRefused} expected`);
  if (servedAfterWindow === 0) problems.push(`no request after ${at(mustBeServedFrom - t0)} shows the endpoint back`);
  const expected = `ejected for ${at(expectation.ejectionMs)} and back by the next ${at(expectation.intervalMs)} tick`;
  const observed =
    `after ${describeRecord(first.record, first.index)}, ${refused} of ${ordered.length - 1} requests were refused ` +
    `(${describeMatcher(expectation.refused)})${lastRefused !== undefined ? ` until ${at(lastRefused)}` : ''}` +
    `${servedAgain !== undefined ? `, served again from ${at(servedAgain)}` : ', never served again'}; expected ${expected}`;
  const shown = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
  return {
    pass: problems.length === 0,
    judge: 'ejection',
    figures,
    sentence: `${expectation.description}: ${observed}${problems.length ? `: not met, ${shown}` : ': met'}`,
  };
}
