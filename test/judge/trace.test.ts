import { describe, expect, it } from 'vitest';
import type { SpanRecord, TraceRecord } from '../../helpers/observe/addons/jaeger.ts';
import { judgeTraceDelay, type TraceDelayExpectation } from '../../helpers/judge/trace.ts';

/** The trace verdict on hand-made traces: the edges the simulated mesh cannot be relied on to hit. */
const expectation: TraceDelayExpectation = {
  description: "jason's trace",
  call: { from: 'reviews', fromRevision: 'v2', to: 'ratings' },
  delayMs: 7_000,
  delayed: true,
  gaveUp: { from: 'productpage', to: 'reviews', attempts: 2, timeoutMs: 3_000, toleranceMs: 500 },
};
const client = (id: string, from: string, revision: string, to: string, startMs: number, durationMs: number, status: string, flags: string): SpanRecord => ({
  spanID: id,
  service: `${from}.bookinfo`,
  operation: `${to}.bookinfo.svc.cluster.local:9080/*`,
  startUs: startMs * 1000,
  durationUs: durationMs * 1000,
  tags: { upstream_cluster: `outbound|9080||${to}.bookinfo.svc.cluster.local`, 'http.status_code': status, response_flags: flags, 'istio.canonical_service': from, 'istio.canonical_revision': revision },
});
const trace = (...spans: SpanRecord[]): TraceRecord[] => [{ traceID: 'abc', request: 'GET /productpage as jason', sentAt: 0, spans }];

describe('the trace-delay judge', () => {
  it('takes a delayed call that reads a fraction of a millisecond short as the delay (timers tick in whole ms), and not one that reads a whole ms short', () => {
    const attempts = [client('p1', 'productpage', 'v1', 'reviews', 1, 3_000, '0', 'DC'), client('p2', 'productpage', 'v1', 'reviews', 3_001, 3_000, '0', 'DC')];
    expect(judgeTraceDelay(expectation, trace(...attempts, client('r1', 'reviews', 'v2', 'ratings', 2, 6_999.4, '200', 'DI'))).pass).toBe(true);
    const short = judgeTraceDelay(expectation, trace(...attempts, client('r1', 'reviews', 'v2', 'ratings', 2, 6_998.9, '200', 'DI')));
    expect(short.pass).toBe(false);
    expect(short.sentence).toMatch(/1 of its 1 calls from reviews-v2 to ratings took less than the 7 s delay/);
  });

  it('fails a productpage that waited the delay out: one call, answered, still waiting when ratings answered', () => {
    const verdict = judgeTraceDelay(expectation, trace(client('p1', 'productpage', 'v1', 'reviews', 0, 7_020, '200', '-'), client('r1', 'reviews', 'v2', 'ratings', 5, 7_010, '200', 'DI')));
    expect(verdict.pass).toBe(false);
    expect(verdict.sentence).toMatch(/productpage called reviews once, 2 times expected; .* 1 of them ended with an answer, not given up; productpage was still waiting when reviews-v2's call to ratings ended$/);
    expect(judgeTraceDelay(expectation, []).sentence).toBe("jason's trace: no trace was recorded");
  });
});
