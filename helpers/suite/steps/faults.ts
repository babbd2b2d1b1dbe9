import { randomBytes } from 'node:crypto';
import { loginAs, reviewsApiBatch, type BookinfoSession } from '../../observe/bookinfo.ts';
import { reviewsVersionFromHtml, reviewsVersionFromStart } from '../../config/bookinfo.ts';
import { featureFixtures } from '../../config/features.ts';
import { faultDelayMs } from '../../config/manifests.ts';
import { fetchAnswer } from '../../observe/addons/answer.ts';
import { jaegerApi, readTraceById, type TraceRecord } from '../../observe/addons/jaeger.ts';
import { sendTraffic } from '../../observe/traffic.ts';
import type { RequestRecord } from '../../observe/records.ts';
import type { Expectation } from '../../judge/expectation.ts';
import { judgeTraceDelay, spanCall } from '../../judge/trace.ts';
import { pollUntil, PollTimeoutError } from '../../wait/poll.ts';
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

/**
 * One GET /productpage through the gateway, in a trace of its own: a W3C `traceparent` with a fresh trace id, which
 * the gateway's sidecar continues rather than replacing (Envoy's OpenTelemetry tracer starts its span as a child of
 * an incoming traceparent: envoyproxy/envoy source/extensions/tracers/opentelemetry/opentelemetry_tracer_impl.cc
 * Driver::startSpan), and productpage and reviews forward (productpage.py getForwardHeaders). An x-request-id would
 * not do: the gateway treats the host as external and sets a new one (Istio's gateway listener uses the remote
 * address, istio/istio@1.30.3 pilot/pkg/networking/core/gateway.go; Envoy's conn_manager_utility.cc then forces a
 * fresh request id on every edge request unless preserve_external_request_id is set, which Istio does not set).
 */
async function tracedPage(env: StepEnv, session: BookinfoSession | undefined): Promise<{ traceId: string; request: string; record: RequestRecord }> {
  const traceId = randomBytes(16).toString('hex');
  const { timeouts } = env.config;
  const [record] = await sendTraffic({
    baseUrl: env.ingressUrl,
    path: '/productpage',
    count: 1,
    concurrency: 1,
    deadlineMs: timeouts.trafficBatch,
    requestTimeoutMs: timeouts.request,
    headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    ...(session && { session }),
    classify: ({ body }) => reviewsVersionFromHtml(body),
  });
  return { traceId, request: `GET /productpage ${session ? `as ${session.user}` : 'anonymous'}`, record: record! };
}

/**
 * Asks Jaeger for one trace until `complete` holds or the deadline comes, and keeps the last answer either way: spans
 * arrive after their streams end, the delayed call's last, so a trace read too early would be judged on half of it.
 */
async function awaitTrace(env: StepEnv, page: { traceId: string; request: string; record: RequestRecord }, complete: (trace: TraceRecord) => boolean): Promise<TraceRecord> {
  const { timeouts } = env.config;
  let last: TraceRecord = { traceID: page.traceId, request: page.request, sentAt: page.record.startedAt, spans: [] };
  try {
    return await pollUntil<TraceRecord>({ what: `the trace of ${page.request} (${page.traceId}) in Jaeger`, timeoutMs: timeouts.traceArrival, intervalMs: timeouts.tracePoll }, async (signal) => {
      const answer = await fetchAnswer(jaegerApi.trace(env.addons.jaeger, page.traceId), timeouts.request, signal);
      const read = readTraceById(answer, page.traceId);
      last = { ...last, spans: read.spans };
      return complete(last) ? { done: true, value: last } : { done: false, seen: read.classification };
    });
  } catch (error) {
    if (!(error instanceof PollTimeoutError)) throw error;
    return last;
  }
}

/**
 * A control trace is complete when every reviews server span has the call to ratings it makes: reviews v1 never calls
 * ratings, v2 and v3 do (samples/bookinfo reviews: ENABLE_RATINGS), so a delayed call is waited for, if there is one.
 */
function callsSettled(trace: TraceRecord, from: string, to: string): boolean {
  const servers = trace.spans.filter((s) => spanCall(s) === undefined && s.tags['istio.canonical_service'] === from);
  if (servers.length === 0) return false;
  return servers.every((server) => server.tags['istio.canonical_revision'] === 'v1' || trace.spans.some((s) => s.parentSpanID === server.spanID && spanCall(s)?.to === to));
}

/**
 * jason's page in Jaeger (issue #10 §5): under the 7 s delay, reviews-v2's call to ratings lasts the delay, and
 * productpage's two calls to reviews end unanswered at its 3 s timeout, before ratings answers. The control, an
 * anonymous page sent at the same moment, has no call to ratings near the delay. The delay is the one the suite's
 * own file gives jason's calls, so a changed file changes the bound.
 */
export async function observeJasonsTrace(env: StepEnv): Promise<Observed> {
  const subject = checkOf('fault-delay', 'trace', 'trace-delay');
  const control = checkOf('fault-delay', 'trace-others', 'trace-delay');
  const delayMs = faultDelayMs(featureFixtures['fault-delay'], 'ratings', { 'end-user': 'jason' });
  if (delayMs === undefined) throw new Error(`${featureFixtures['fault-delay'].join(' + ')} gives jason's calls to ratings no delay: there is nothing to trace`);
  const expectationOf = (check: typeof subject): Extract<Expectation, { judge: 'trace-delay' }> => ({
    judge: 'trace-delay',
    description: check.title,
    call: check.call,
    delayMs,
    delayed: check.delayed,
    ...(check.gaveUp && { gaveUp: check.gaveUp }),
  });
  const session = await loginAs(env.ingressUrl, 'jason', { timeoutMs: env.config.timeouts.request });
  const [jason, anonymous] = await Promise.all([tracedPage(env, session), tracedPage(env, undefined)]);
  const wanted = expectationOf(subject);
  const jasonTrace = await awaitTrace(env, jason, (trace) => judgeTraceDelay(wanted, [trace]).pass);
  // Read after jason's trace is complete: a delayed call of the control, sent at the same moment, has ended by then.
  const controlTrace = await awaitTrace(env, anonymous, (trace) => callsSettled(trace, control.call.from, control.call.to));
  return {
    recordings: [
      recordingOf(env, 'fault-delay', subject.id, subject.title, wanted, [jason.record], [], { traces: [jasonTrace] }),
      recordingOf(env, 'fault-delay', control.id, control.title, expectationOf(control), [anonymous.record], [], { traces: [controlTrace] }),
    ],
  };
}
