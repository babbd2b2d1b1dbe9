import type { AppliedConfig } from '../../apply/feature-config.ts';
import { istioDurationMs } from '../../config/manifests.ts';
import type { Expectation } from '../../judge/expectation.ts';
import { pollUntil } from '../../wait/poll.ts';
import { sendFromPod } from '../../observe/mesh-client.ts';
import type { MetricObservation, MetricSelector } from '../../observe/prometheus.ts';
import type { RequestRecord } from '../../observe/records.ts';
import { afterIncrease, baselineOf, checkOf, countedRecording, plannedRequests, ratioRecording, recordingOf, requestExpectation, reviewsByVersion, type Observed, type StepEnv } from '../step-env.ts';

/**
 * Resilience as the lab configures it: the circuit breaker and outlier detection (03-circuit-breaker.yaml), the
 * route timeout and retries (05-timeout-retry.yaml). Where Bookinfo cannot show a behaviour (reviews never
 * answers 5xx), meshproof's own httpbin does, under the lab's exact values (fixtures/checks/).
 */

const fromMeshClient = (service: string, extra: Record<string, string> = {}): MetricSelector => ({
  metric: 'istio_requests_total',
  labels: { reporter: 'source', source_workload: 'mesh-client', destination_service_name: service, ...extra },
});

/**
 * The circuit breaker: one request at a time is always served (the control: a breaker that refuses everything
 * fails here); a concurrent burst beyond 1 connection and 1 pending request is served or refused by the client's
 * sidecar as an overflow (503 UO, Envoy's "… reset reason: overflow"), some refused; Prometheus shows the
 * overflows and reviews' sidecars count what was served. istio.io's own test stopped asserting percentages
 * (istio.io#7074): how many overflow depends on timing.
 */
export async function observeCircuitBreaker(env: StepEnv): Promise<Observed> {
  const { timeouts, alpha } = env.config;
  const sequential = checkOf('circuit-breaker', 'sequential', 'all-match');
  const burst = checkOf('circuit-breaker', 'burst', 'all-match');
  const overflowsCheck = checkOf('circuit-breaker', 'overflows', 'metric-increase');
  const servedCheck = checkOf('circuit-breaker', 'served', 'metric-increase');
  const reviews = (count: number, concurrency: number) => sendFromPod(env.meshClient, { url: env.meshUrls.reviews, count, concurrency, timeoutMs: timeouts.request });

  const oneAtATime = await reviews(plannedRequests(sequential.requests, alpha), sequential.concurrency);
  const overflowed = fromMeshClient('reviews', { response_code: '503', response_flags: 'UO' });
  const overflowBefore = await baselineOf(env, overflowed);
  const servedBefore = await env.prometheus.snapshot(reviewsByVersion);
  const records = await reviews(plannedRequests(burst.requests, alpha), burst.concurrency);
  const refused = records.filter((r) => r.status === 503).length;
  const served = records.filter((r) => r.status === 200).length;
  const overflows: MetricObservation[] = [{ name: overflowsCheck.metric, before: overflowBefore, after: await afterIncrease(env, overflowed, overflowBefore, Math.max(1, refused)) }];
  const arrivals: MetricObservation[] = [{ name: servedCheck.metric, before: servedBefore, after: await afterIncrease(env, reviewsByVersion, servedBefore, served) }];
  return {
    recordings: [
      recordingOf(env, 'circuit-breaker', sequential.id, sequential.title, requestExpectation(sequential, alpha), oneAtATime, []),
      recordingOf(env, 'circuit-breaker', burst.id, burst.title, requestExpectation(burst, alpha), records, [...overflows, ...arrivals]),
      countedRecording(env, 'circuit-breaker', overflowsCheck, overflows, refused, `the client's sidecar reported the ${refused} refusals as overflows (UO)`),
      countedRecording(env, 'circuit-breaker', servedCheck, arrivals, served, `reviews' sidecars counted the ${served} requests served`),
    ],
  };
}

/** The outlier-detection values of the DestinationRule for `host` in what was applied. */
function outlierDetectionOf(applied: AppliedConfig, host: string): { ejectionMs: number; intervalMs: number } {
  const rule = applied.objects.find(({ object }) => object.kind === 'DestinationRule' && (object.spec as { host?: string }).host?.split('.')[0] === host);
  const od = (rule?.object.spec as { trafficPolicy?: { outlierDetection?: { baseEjectionTime?: string; interval?: string } } } | undefined)?.trafficPolicy?.outlierDetection;
  if (!od?.baseEjectionTime || !od.interval) throw new Error(`the applied configuration has no outlier detection with baseEjectionTime and interval for ${host}`);
  return { ejectionMs: istioDurationMs(od.baseEjectionTime), intervalMs: istioDurationMs(od.interval) };
}

/**
 * "Circuit trips after 1 consecutive 5xx error", shown on meshproof's httpbin under the lab's exact outlier
 * detection: one /status/500 ejects the only endpoint; right after, every request is refused by the client's
 * sidecar with 503 UH "no healthy upstream" (Istio sets the panic threshold to minHealthPercent, 0 by default,
 * so an empty pool is not rescued: pilot cluster_traffic_policy.go, istio/api destination_rule.proto at 1.30.3);
 * and after baseEjectionTime, on the next interval tick, the endpoint serves again. The waits come from the
 * applied DestinationRule, so a lab with 3 m waits 3 m.
 */
export async function observeEjection(env: StepEnv, applied: AppliedConfig): Promise<Observed> {
  const { timeouts } = env.config;
  const check = checkOf('circuit-breaker', 'ejection', 'ejection');
  const counted = checkOf('circuit-breaker', 'ejection-counted', 'metric-increase');
  const { ejectionMs, intervalMs } = outlierDetectionOf(applied, 'httpbin');
  const refusedSelector = fromMeshClient('httpbin', { response_code: '503', response_flags: check.refusedFlag });
  const before = await baselineOf(env, refusedSelector);
  const one = (path: string) => sendFromPod(env.meshClient, { url: `${env.meshUrls.httpbin}${path}`, count: 1, concurrency: 1, timeoutMs: timeouts.request });
  const records: RequestRecord[] = [...(await one('/status/500'))];
  const t0 = records[0]!.startedAt + records[0]!.latencyMs;
  records.push(...(await sendFromPod(env.meshClient, { url: `${env.meshUrls.httpbin}/get`, count: 2 * check.minRefused, concurrency: 1, timeoutMs: timeouts.request })));
  const backBy = t0 + ejectionMs + intervalMs + check.toleranceMs;
  // Until a request after the release window is served; bounded: an ejection that never ends is the verdict's.
  await pollUntil(
    { what: 'httpbin to serve again after its ejection', timeoutMs: Math.round(Math.max(0, backBy - Date.now()) + timeouts.ejectionGrace), intervalMs: timeouts.ejectionPoll },
    async () => {
      const [record] = await one('/get');
      records.push(record!);
      return record!.startedAt >= backBy && record!.status === 200 ? { done: true, value: undefined } : { done: false, seen: `HTTP ${record!.status} at ${Math.round(record!.startedAt - t0)} ms` };
    },
  ).catch(() => undefined);
  const expectation: Expectation = {
    judge: 'ejection',
    description: check.title,
    trigger: { status: 500 },
    refused: { status: 503, responseFlag: check.refusedFlag },
    served: { status: 200 },
    ejectionMs,
    intervalMs,
    reactionMs: check.reactionMs,
    toleranceMs: check.toleranceMs,
    minRefused: check.minRefused,
  };
  const refused = records.filter((r) => r.status === 503).length;
  const metrics: MetricObservation[] = [{ name: counted.metric, before, after: await afterIncrease(env, refusedSelector, before, refused) }];
  return {
    recordings: [
      recordingOf(env, 'circuit-breaker', check.id, check.title, expectation, records, []),
      countedRecording(env, 'circuit-breaker', counted, metrics, refused, `the client's sidecar reported the ${refused} refusals as UH`),
    ],
  };
}

/**
 * The route timeout: in-mesh requests as jason (whose calls through reviews v2 wait 7 s for ratings) all end
 * within 3 s plus a margin, and the client's sidecar reports the ones it cut off as 504 UT, at least one.
 */
export async function observeRouteTimeout(env: StepEnv): Promise<Observed> {
  const { timeouts, alpha } = env.config;
  const check = checkOf('timeouts-retries', 'timeout', 'latency');
  const counted = checkOf('timeouts-retries', 'timeout-counted', 'metric-increase');
  const timedOut = fromMeshClient('reviews', { response_code: '504', response_flags: 'UT' });
  const before = await baselineOf(env, timedOut);
  const records = await sendFromPod(env.meshClient, {
    url: env.meshUrls.reviews,
    count: plannedRequests(check.requests, alpha),
    concurrency: check.concurrency,
    timeoutMs: timeouts.request,
    headers: await env.asUser('jason'),
  });
  const cut = records.filter((r) => r.status === 504).length;
  const metrics: MetricObservation[] = [{ name: counted.metric, before, after: await afterIncrease(env, timedOut, before, Math.max(1, cut)) }];
  return {
    recordings: [
      recordingOf(env, 'timeouts-retries', check.id, check.title, requestExpectation(check, alpha), records, metrics),
      countedRecording(env, 'timeouts-retries', counted, metrics, cut, `the client's sidecar reported the ${cut} requests it cut off as 504 UT`),
    ],
  };
}

const attemptsAtHttpbin: MetricSelector = {
  metric: 'istio_requests_total',
  labels: { reporter: 'destination', destination_workload: 'httpbin', source_workload: 'mesh-client', response_code: '503' },
};
const requestsToHttpbin = fromMeshClient('httpbin', { response_code: '503' });

/**
 * Requests to httpbin /status/503 and the two counters that show how often each was tried: the client's sidecar
 * counts one per request, httpbin's sidecar one per attempt that reached it (istio/proxy istio_stats.cc at
 * 1.30.3 counts per downstream stream, and each retry is a new stream upstream).
 */
async function attemptsPerRequest(env: StepEnv, count: number, concurrency: number) {
  const before = { attempts: await baselineOf(env, attemptsAtHttpbin), requests: await env.prometheus.snapshot(requestsToHttpbin) };
  const records = await sendFromPod(env.meshClient, { url: `${env.meshUrls.httpbin}/status/503`, count, concurrency, timeoutMs: env.config.timeouts.request });
  const requests = await afterIncrease(env, requestsToHttpbin, before.requests, count);
  const attempts = await afterIncrease(env, attemptsAtHttpbin, before.attempts, count);
  const metrics: MetricObservation[] = [
    { name: 'attempts at httpbin', before: before.attempts, after: attempts },
    { name: 'requests from the in-mesh client to httpbin', before: before.requests, after: requests },
  ];
  return { records, metrics };
}

/** The control, under the baseline: Istio's default retry policy never retries an application's 503. */
export async function observeNoRetriesBefore(env: StepEnv): Promise<Observed> {
  const check = checkOf('timeouts-retries', 'no-retries-before', 'counter-ratio');
  const final = checkOf('timeouts-retries', 'retries-final', 'all-match');
  const count = plannedRequests(final.requests, env.config.alpha);
  const { metrics } = await attemptsPerRequest(env, count, final.concurrency);
  return { recordings: [ratioRecording(env, 'timeouts-retries', check, metrics, count)] };
}

/**
 * "2 automatic retries on failure (5xx errors, connect failures)", shown with the lab's retry block on httpbin
 * answering 503: each request reaches httpbin 1 + 2 times, the client gets the last attempt's 503, and its
 * sidecar flags each request URX (UpstreamRetryLimitExceeded: envoyproxy/envoy@v1.37.0 router.cc).
 */
export async function observeRetries(env: StepEnv): Promise<Observed> {
  const { alpha } = env.config;
  const final = checkOf('timeouts-retries', 'retries-final', 'all-match');
  const ratio = checkOf('timeouts-retries', 'retries', 'counter-ratio');
  const exhausted = checkOf('timeouts-retries', 'retries-exhausted', 'metric-increase');
  const count = plannedRequests(final.requests, alpha);
  const flagged = fromMeshClient('httpbin', { response_code: '503', response_flags: 'URX' });
  const flaggedBefore = await baselineOf(env, flagged);
  const { records, metrics } = await attemptsPerRequest(env, count, final.concurrency);
  const flaggedMetrics: MetricObservation[] = [{ name: exhausted.metric, before: flaggedBefore, after: await afterIncrease(env, flagged, flaggedBefore, count) }];
  return {
    recordings: [
      recordingOf(env, 'timeouts-retries', final.id, final.title, requestExpectation(final, alpha), records, metrics),
      ratioRecording(env, 'timeouts-retries', ratio, metrics, count),
      countedRecording(env, 'timeouts-retries', exhausted, flaggedMetrics, count, `the client's sidecar flagged the ${count} requests URX`),
    ],
  };
}
