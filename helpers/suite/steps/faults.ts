import { loginAs, reviewsApiBatch } from '../../observe/bookinfo.ts';
import { reviewsVersionFromStart } from '../../config/bookinfo.ts';
import { sendFromPod } from '../../observe/mesh-client.ts';
import type { MetricObservation, MetricSelector } from '../../observe/prometheus.ts';
import { afterIncrease, baselineOf, checkOf, countedRecording, plannedRequests, recordingOf, requestExpectation, type Check, type Observed, type StepEnv } from '../step-env.ts';

/**
 * Fault injection on ratings (the lab's 02-fault-injection.yaml): a 7 s delay for jason and 10 % HTTP 500 for
 * every call. Envoy's fault filter runs in the caller's sidecar: the delay first, then the abort, each with its
 * flag in the order set, so jason's aborted calls are reported "DI,FI" (envoyproxy/envoy@v1.37.0
 * source/extensions/filters/http/fault/fault_filter.cc; source/common/stream_info/utility.cc prints flags in the
 * order they were set).
 */

/** A delay is DI, and DI,FI when the abort followed it. */
const delayedFlags = 'DI(,FI)?';

/**
 * jason's delay, measured where it happens: in-mesh requests as jason to reviews (routed to v2, which calls
 * ratings with jason's end-user) each take at least the delay and not much more; reviews-v2's sidecar reports the
 * delayed calls. The control: calls to ratings without end-user: jason, through the same fault route's
 * VirtualService, stay far below the delay.
 */
export async function observeDelayForJasonOnly(env: StepEnv): Promise<Observed> {
  const { timeouts, alpha } = env.config;
  const jason = checkOf('fault-delay', 'jason', 'latency');
  const counted = checkOf('fault-delay', 'jason-counted', 'metric-increase');
  const others = checkOf('fault-delay', 'others', 'latency');
  const delayed: MetricSelector = {
    metric: 'istio_requests_total',
    labels: { reporter: 'source', source_workload: 'reviews-v2', destination_service_name: 'ratings' },
    labelsMatching: { response_flags: delayedFlags },
  };
  const before = await baselineOf(env, delayed);
  const count = plannedRequests(jason.requests, alpha);
  const records = await sendFromPod(env.meshClient, {
    url: env.meshUrls.reviews,
    count,
    concurrency: jason.concurrency,
    timeoutMs: timeouts.request,
    headers: await env.asUser('jason'),
    classifyBody: reviewsVersionFromStart,
  });
  const metrics: MetricObservation[] = [{ name: counted.metric, before, after: await afterIncrease(env, delayed, before, count) }];
  const control = await sendFromPod(env.meshClient, { url: env.meshUrls.ratings, count: plannedRequests(others.requests, alpha), concurrency: others.concurrency, timeoutMs: timeouts.request });
  return {
    recordings: [
      recordingOf(env, 'fault-delay', jason.id, jason.title, requestExpectation(jason, alpha), records, metrics),
      countedRecording(env, 'fault-delay', counted, metrics, count, `reviews-v2's sidecar reported ${count} calls to ratings delayed by the fault (DI)`),
      recordingOf(env, 'fault-delay', others.id, others.title, requestExpectation(others, alpha), control, []),
    ],
  };
}

/**
 * What jason sees: productpage gives reviews 3 s twice, so with a longer delay on the ratings call the reviews
 * API answers "reviews unavailable" for jason (samples/bookinfo productpage.py), every time.
 */
export async function observeJasonSeesReviewsUnavailable(env: StepEnv): Promise<Observed> {
  const check = checkOf('fault-delay', 'jason-sees', 'all-match');
  const session = await loginAs(env.ingressUrl, 'jason', { timeoutMs: env.config.timeouts.request });
  const send = reviewsApiBatch({ baseUrl: env.ingressUrl, concurrency: check.concurrency, deadlineMs: env.config.timeouts.trafficBatch, requestTimeoutMs: env.config.timeouts.request, session });
  const records = await send(plannedRequests(check.requests, env.config.alpha));
  return { recordings: [recordingOf(env, 'fault-delay', check.id, check.title, requestExpectation(check, env.config.alpha), records, [])] };
}

/** One population's abort rate: the in-mesh client calls ratings directly, so its own sidecar applies the fault. */
async function abortsFor(env: StepEnv, rate: Check<'rate'>, counted: Check<'metric-increase'>, headers: Record<string, string>, flags: string) {
  const { timeouts, alpha } = env.config;
  const aborted: MetricSelector = {
    metric: 'istio_requests_total',
    labels: { reporter: 'source', source_workload: 'mesh-client', destination_service_name: 'ratings', response_code: '500', response_flags: flags },
  };
  const before = await baselineOf(env, aborted);
  const records = await sendFromPod(env.meshClient, {
    url: env.meshUrls.ratings,
    count: plannedRequests(rate.requests, alpha, rate.expectedRate),
    concurrency: rate.concurrency,
    timeoutMs: timeouts.request,
    headers,
  });
  const abortedCount = records.filter((r) => r.status === 500).length;
  const metrics: MetricObservation[] = [{ name: counted.metric, before, after: await afterIncrease(env, aborted, before, abortedCount) }];
  return {
    records,
    recordings: [
      recordingOf(env, 'fault-abort', rate.id, rate.title, requestExpectation(rate, alpha), records, metrics),
      countedRecording(env, 'fault-abort', counted, metrics, abortedCount, `the client's sidecar reported the ${abortedCount} aborts (${flags})`),
    ],
  };
}

/**
 * HTTP 500 for 10 % of all calls to ratings, as the lab says: everyone else's calls (exact binomial test, a
 * batch sized so a 10-point error is caught with power 0.999, each abort Envoy's own "fault filter abort"), every
 * other call served by ratings; and jason's calls too, after their 7 s delay.
 */
export async function observeAbortRate(env: StepEnv): Promise<Observed> {
  const others = await abortsFor(env, checkOf('fault-abort', 'others', 'rate'), checkOf('fault-abort', 'others-counted', 'metric-increase'), {}, 'FI');
  const answered = checkOf('fault-abort', 'others-answered', 'all-match');
  const jason = await abortsFor(env, checkOf('fault-abort', 'jason', 'rate'), checkOf('fault-abort', 'jason-counted', 'metric-increase'), await env.asUser('jason'), 'DI,FI');
  return {
    recordings: [
      ...others.recordings.slice(0, 1),
      recordingOf(env, 'fault-abort', answered.id, answered.title, requestExpectation(answered, env.config.alpha), others.records, []),
      ...others.recordings.slice(1),
      ...jason.recordings,
    ],
  };
}
