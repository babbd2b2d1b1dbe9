import type { AppliedConfig } from '../apply/feature-config.ts';
import type { MeshproofConfig } from '../config/config.ts';
import type { FeatureName } from '../config/features.ts';
import { awaitConfigLive, probeAnswer, probeUserAgent } from '../gate/config-live.ts';
import { httpGet } from '../gate/http-probe.ts';
import { judgeExpectation } from '../judge/rejudge.ts';
import type { Verdict } from '../judge/verdict.ts';
import { loginAs, reviewsApiBatch, type BookinfoSession } from '../observe/bookinfo.ts';
import type { MetricSelector, PrometheusClient, Snapshot } from '../observe/prometheus.ts';
import type { RequestRecord } from '../observe/records.ts';
import { planAllMatchSampling, planRateSampling } from '../judge/rates.ts';
import { sampleSplit } from '../observe/sampling.ts';
import { recordingFormat, type Expectation, type Recording } from '../record/recording.ts';
import type { AddonUrls } from '../provision/readiness.ts';
import { sendFromPod, type PodExec } from '../observe/mesh-client.ts';

/**
 * The steps feature suites are made of, as plain functions of what a run provides: they observe, judge
 * through the same pure judges `meshproof judge` uses, and return recordings. The suites add the Allure steps
 * and the assertions; the self-tests run these against the Bookinfo double and a real Prometheus.
 */
export interface StepEnv {
  config: MeshproofConfig;
  ingressUrl: string;
  prometheus: PrometheusClient;
  /** The addons' APIs on this machine (port-forwards held by the run): Prometheus, Grafana, Jaeger, Kiali. */
  addons: AddonUrls;
  versions: { meshproof: string; istio?: string; kubernetes?: string };
  /** Runs a command in the in-mesh client pod (meshproof/mesh-client), for east-west traffic. */
  meshClient: PodExec;
  /** The same in the client pod without a sidecar (meshproof-legacy/legacy-client): plaintext, outside the mesh. */
  legacyClient: PodExec;
  /** Service URLs as the clients in the cluster reach them. */
  meshUrls: { reviews: string; ratings: string; productpage: string };
  /** The headers that make an in-mesh request come from a Bookinfo user (reviews forwards end-user to ratings). */
  asUser: (user: string) => Promise<Record<string, string>>;
}

/** The in-mesh targets in a real mesh; the self-tests point them at the Bookinfo double. */
export const bookinfoMeshUrls = {
  reviews: 'http://reviews.bookinfo.svc.cluster.local:9080/reviews/0',
  ratings: 'http://ratings.bookinfo.svc.cluster.local:9080/ratings/0',
  productpage: 'http://productpage.bookinfo.svc.cluster.local:9080/productpage',
};

/** In the mesh, a user is who end-user says: reviews and its sidecar read the header (reviews forwards it). */
export const endUserHeader = async (user: string): Promise<Record<string, string>> => ({ 'end-user': user });

export interface Observed {
  recordings: Recording[];
}

const reviewsApiPath = '/api/v1/products/0/reviews';

/** The config-live gate through the gateway: the probe crosses productpage's sidecar, where reviews is routed. */
export function proveLiveViaIngress(env: StepEnv, applied: AppliedConfig, what: string): Promise<void> {
  return awaitConfigLive({ what, timeoutMs: env.config.timeouts.configLive, intervalMs: env.config.timeouts.configLivePoll }, async () => {
    const { status } = await httpGet(`${env.ingressUrl}${reviewsApiPath}`, env.config.timeouts.request, { 'user-agent': probeUserAgent(applied.applyId, 'reviews') });
    return probeAnswer(status, `GET ${reviewsApiPath} through the gateway`);
  });
}

/**
 * The config-live gate from inside the mesh, for a VirtualService the gateway's path cannot reach (ratings sits
 * behind reviews): the in-mesh client's own sidecar must answer the host's probe route. One request per exec.
 */
export function proveLiveFromMesh(env: StepEnv, applied: AppliedConfig, host: keyof StepEnv['meshUrls'], what: string): Promise<void> {
  const { timeouts } = env.config;
  return awaitConfigLive({ what, timeoutMs: timeouts.configLive, intervalMs: timeouts.configLivePoll }, async () => {
    const [record] = await sendFromPod(env.meshClient, {
      url: env.meshUrls[host],
      count: 1,
      concurrency: 1,
      timeoutMs: timeouts.request,
      headers: { 'user-agent': probeUserAgent(applied.applyId, host) },
    });
    return probeAnswer(record?.status ?? 0, `${host} from the in-mesh client`);
  });
}

/**
 * For a configuration with a reviews route and a ratings route behind it: the reviews probe through the
 * gateway, then the ratings probe from inside the mesh (the gateway's probe never passes the reviews route).
 */
export async function proveReviewsAndRatingsLive(env: StepEnv, applied: AppliedConfig, what: string): Promise<void> {
  await proveLiveViaIngress(env, applied, `${what} (the reviews route)`);
  await proveLiveFromMesh(env, applied, 'ratings', `${what} (the ratings route)`);
}

export function recordingOf(env: StepEnv, feature: FeatureName, title: string, expectation: Expectation, requests: Recording['requests'], metrics: Recording['metrics']): Recording {
  const recording: Recording = {
    format: recordingFormat,
    feature,
    title,
    recordedAt: new Date().toISOString(),
    versions: env.versions,
    expectation,
    requests,
    metrics,
  };
  return { ...recording, verdict: judgeExpectation(expectation, requests, metrics) };
}

/** Requests a destination sidecar may count beyond the batch: a page productpage retried, a stray probe. */
const metricSlack = (count: number) => Math.max(2, Math.ceil(count * 0.01));

const reviewsByVersion: MetricSelector = {
  metric: 'istio_requests_total',
  labels: { reporter: 'destination', destination_service_name: 'reviews' },
  by: ['destination_version'],
};

/** A baseline of reviews' destination-side counters, after Prometheus has caught up with earlier traffic. */
function reviewsBaseline(env: StepEnv) {
  return env.prometheus.snapshotAfterScrape(reviewsByVersion, { timeoutMs: env.config.timeouts.metricPropagation, intervalMs: env.config.timeouts.metricPoll });
}

/** Waits (bounded) until the selected counters rose by `atLeast` since `before`, then snapshots them. */
async function afterIncrease(env: StepEnv, selector: MetricSelector, before: Snapshot, atLeast: number): Promise<Snapshot> {
  const { timeouts } = env.config;
  // If the scrape never comes, the metric verdict made from this snapshot says so; waiting more cannot help.
  await env.prometheus
    .awaitMetricIncrease({ selector, atLeast, baseline: before, timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll })
    .catch(() => undefined);
  return env.prometheus.snapshot(selector);
}

/**
 * A metric-increase recording: `count` events expected in the counter (or one group of it), a little slack
 * above. With `atLeastOne`, zero events fail too: the behaviour must have happened at all.
 */
function countedRecording(
  env: StepEnv,
  feature: FeatureName,
  title: string,
  metrics: Recording['metrics'],
  count: number,
  description: string,
  options: { group?: Record<string, string>; atLeastOne?: boolean } = {},
): Recording {
  const expectation: Expectation = {
    judge: 'metric-increase',
    description,
    metric: metrics[0]!.name,
    ...(options.group && { group: options.group }),
    atLeast: options.atLeastOne ? Math.max(1, count) : count,
    atMost: count + metricSlack(count),
  };
  return recordingOf(env, feature, title, expectation, [], metrics);
}

/**
 * Prometheus' side of a batch: reviews' destination sidecars must have counted, per version, the responses
 * each version served. Returns the metric observation and one metric-increase recording per version.
 */
async function reviewsCountedInPrometheus(env: StepEnv, feature: FeatureName, title: string, before: Snapshot, records: RequestRecord[]) {
  const served = new Map<string, number>();
  for (const r of records) if (r.status === 200 && r.classification?.startsWith('reviews-v')) served.set(r.classification, (served.get(r.classification) ?? 0) + 1);
  const total = [...served.values()].reduce((a, b) => a + b, 0);
  const after = await afterIncrease(env, reviewsByVersion, before, total);
  const metrics: Recording['metrics'] = [{ name: 'requests at reviews by version', before, after }];
  const recordings = [...served.entries()]
    .sort()
    .map(([version, count]) =>
      countedRecording(env, feature, `${title}: ${version} in Prometheus`, metrics, count, `Prometheus counted the ${count} requests ${version} served`, {
        group: { destination_version: version.replace('reviews-', '') },
      }),
    );
  return { metrics, recordings };
}

function reviewsApi(env: StepEnv, session?: BookinfoSession, headers?: Record<string, string>) {
  const { timeouts } = env.config;
  return reviewsApiBatch({
    baseUrl: env.ingressUrl,
    concurrency: 8,
    deadlineMs: timeouts.trafficBatch,
    requestTimeoutMs: timeouts.request,
    ...(session && { session }),
    ...(headers && { headers }),
  });
}

/**
 * A reviews split as the responses show it and as Prometheus counted it: the batch is sampled look by look
 * (helpers/observe/sampling.ts) through the gateway, then reviews' destination-side istio_requests_total must
 * have risen, per version, by the number of responses each version served.
 */
export async function observeReviewsSplit(env: StepEnv, feature: FeatureName, title: string, weights: Record<string, number>): Promise<Observed> {
  const { alpha } = env.config;
  const before = await reviewsBaseline(env);
  const expectation: Expectation = { judge: 'weighted-split', description: title, weights, alpha };
  const { records } = await sampleSplit({ weights, alpha }, reviewsApi(env));
  const counted = await reviewsCountedInPrometheus(env, feature, title, before, records);
  return { recordings: [recordingOf(env, feature, title, expectation, records, counted.metrics), ...counted.recordings] };
}

export interface UserRoute {
  /** Who sends: a Bookinfo user who logs in, an anonymous visitor, or one who only sets the header. */
  who: { user: string } | { anonymous: true } | { endUserHeader: string };
  /** The reviews version every one of their requests must be served by. */
  servedBy: string;
  title: string;
}

/**
 * Deterministic routing: every request of each sender is served by its version. The batch size makes a wrong
 * route on 10 % of requests show up with probability 1 − α (planAllMatchSampling).
 */
export async function observeUserRouting(env: StepEnv, feature: FeatureName, routes: UserRoute[]): Promise<Observed> {
  const count = planAllMatchSampling({ alpha: env.config.alpha });
  const recordings: Recording[] = [];
  for (const route of routes) {
    const before = await reviewsBaseline(env);
    const session = 'user' in route.who ? await loginAs(env.ingressUrl, route.who.user, { timeoutMs: env.config.timeouts.request }) : undefined;
    // productpage sets end-user from its session only: a bare header must change nothing (productpage.py).
    const headers = 'endUserHeader' in route.who ? { 'end-user': route.who.endUserHeader } : undefined;
    const records = await reviewsApi(env, session, headers)(count);
    const expectation: Expectation = { judge: 'all-match', description: route.title, matcher: { classification: route.servedBy, status: 200 } };
    const counted = await reviewsCountedInPrometheus(env, feature, route.title, before, records);
    recordings.push(recordingOf(env, feature, route.title, expectation, records, counted.metrics), ...counted.recordings);
  }
  return { recordings };
}

/**
 * A fixed delay, measured where it happens: in-mesh requests as `user` to reviews (routed to v2, which calls
 * ratings with the user's end-user header) must each take at least the delay, and not much more. Envoy's
 * fixedDelay is a floor per request; the margin covers reviews' own work and two sidecar hops on a busy machine.
 */
export async function observeInMeshDelay(env: StepEnv, feature: FeatureName, options: { user: string; delayMs: number; title: string }): Promise<Observed> {
  const { timeouts } = env.config;
  const count = 10;
  // The delay is injected by reviews-v2's sidecar on its call to ratings, which reports it as the source with
  // response flag DI (DelayInjected; Envoy stream_info/utility.h).
  const delayed: MetricSelector = {
    metric: 'istio_requests_total',
    labels: { reporter: 'source', source_workload: 'reviews-v2', destination_service_name: 'ratings', response_flags: 'DI' },
  };
  const before = await env.prometheus.snapshotAfterScrape(delayed, { timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll });
  const records = await sendFromPod(env.meshClient, {
    url: env.meshUrls.reviews,
    count,
    concurrency: count,
    timeoutMs: timeouts.request,
    headers: await env.asUser(options.user),
  });
  const expectation: Expectation = { judge: 'latency', description: options.title, atLeastMs: options.delayMs, atMostMs: options.delayMs + delayMarginMs, quantile: 0.95 };
  const after = await afterIncrease(env, delayed, before, count);
  const metrics: Recording['metrics'] = [{ name: 'delayed calls from reviews-v2 to ratings', before, after }];
  return {
    recordings: [
      recordingOf(env, feature, options.title, expectation, records, metrics),
      countedRecording(env, feature, `${options.title}: in Prometheus`, metrics, count, `reviews-v2's sidecar reported ${count} calls to ratings delayed by the fault (DI)`),
    ],
  };
}

/** How much longer than a fixed delay a delayed request may take (reviews' own work, two sidecar hops). */
export const delayMarginMs = 1_500;

/**
 * What the user sees: productpage gives reviews 3 s twice, so with a longer delay on the ratings call the reviews
 * API answers "reviews unavailable" for that user (samples/bookinfo productpage.py), every time.
 */
export async function observeUserFacingFault(env: StepEnv, feature: FeatureName, options: { user: string; classification: string; title: string }): Promise<Observed> {
  const session = await loginAs(env.ingressUrl, options.user, { timeoutMs: env.config.timeouts.request });
  const count = 20;
  const records = await reviewsApiBatch({ baseUrl: env.ingressUrl, concurrency: count, deadlineMs: env.config.timeouts.trafficBatch, requestTimeoutMs: env.config.timeouts.request, session })(count);
  const expectation: Expectation = { judge: 'all-match', description: options.title, matcher: { classification: options.classification } };
  return { recordings: [recordingOf(env, feature, options.title, expectation, records, [])] };
}

/**
 * An abort rate, measured at the client: the in-mesh client calls ratings directly, so its own sidecar applies
 * the fault and answers `status` to about `rate` of the requests (exact binomial test, a batch sized so a
 * 10-point error in the rate is caught with power 0.999). Prometheus must agree: the client sidecar reports the
 * aborts as the source with response flag FI, and none of them ever reaches ratings.
 */
export async function observeAbortRate(env: StepEnv, feature: FeatureName, options: { status: number; rate: number; title: string }): Promise<Observed> {
  const { timeouts, alpha } = env.config;
  const count = planRateSampling(options.rate, { alpha });
  const aborted: MetricSelector = {
    metric: 'istio_requests_total',
    labels: { reporter: 'source', source_workload: 'mesh-client', destination_service_name: 'ratings', response_code: String(options.status), response_flags: 'FI' },
  };
  const before = await env.prometheus.snapshotAfterScrape(aborted, { timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll });
  const records = await sendFromPod(env.meshClient, { url: env.meshUrls.ratings, count, concurrency: 20, timeoutMs: timeouts.request });
  const expectation: Expectation = { judge: 'rate', description: options.title, matcher: { status: options.status }, expectedRate: options.rate, alpha };
  const abortedCount = records.filter((r) => r.status === options.status).length;
  const after = await afterIncrease(env, aborted, before, abortedCount);
  const metrics: Recording['metrics'] = [{ name: 'aborted calls from the in-mesh client to ratings', before, after }];
  return {
    recordings: [
      recordingOf(env, feature, options.title, expectation, records, metrics),
      countedRecording(env, feature, `${options.title}: in Prometheus`, metrics, abortedCount, `the client sidecar reported the ${abortedCount} aborts (FI)`),
    ],
  };
}

/**
 * STRICT mTLS proven live by its effect, which only the new policy can have: plaintext from the client outside
 * the mesh is refused (under PERMISSIVE, the default, it is served).
 */
export function provePlaintextRefused(env: StepEnv, what: string): Promise<void> {
  const { timeouts } = env.config;
  return awaitConfigLive({ what, timeoutMs: timeouts.configLive, intervalMs: timeouts.configLivePoll }, async () => {
    const [record] = await sendFromPod(env.legacyClient, { url: env.meshUrls.productpage, count: 1, concurrency: 1, timeoutMs: timeouts.request });
    return record?.status === 0
      ? { done: true, value: undefined, seen: `plaintext refused (${record.error ?? 'no response'})` }
      : { done: false, seen: `plaintext from outside the mesh still answered ${record?.status}` };
  });
}

/**
 * STRICT mTLS: every plaintext request from outside the mesh gets no response (the server sidecar resets it:
 * curl exit code 56, HTTP code 000), every request between sidecars is served, and productpage's sidecar reports
 * the mesh client's requests with connection_security_policy="mutual_tls".
 */
export async function observeStrictMtls(env: StepEnv, feature: FeatureName): Promise<Observed> {
  const { timeouts, alpha } = env.config;
  const count = planAllMatchSampling({ alpha });
  const overMtls: MetricSelector = {
    metric: 'istio_requests_total',
    labels: { reporter: 'destination', destination_workload: 'productpage-v1', source_workload: 'mesh-client', connection_security_policy: 'mutual_tls' },
  };
  const before = await env.prometheus.snapshotAfterScrape(overMtls, { timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll });
  const batch = { url: env.meshUrls.productpage, count, concurrency: 8, timeoutMs: timeouts.request };
  const plaintext = await sendFromPod(env.legacyClient, batch);
  const mesh = await sendFromPod(env.meshClient, batch);
  const served = mesh.filter((r) => r.status === 200).length;
  const after = await afterIncrease(env, overMtls, before, served);
  const metrics: Recording['metrics'] = [{ name: 'productpage requests from the mesh client over mutual TLS', before, after }];
  const refusedTitle = 'plaintext from outside the mesh is refused';
  const servedTitle = 'requests between sidecars are served';
  return {
    recordings: [
      recordingOf(env, feature, refusedTitle, { judge: 'all-match', description: refusedTitle, matcher: { status: 0 } }, plaintext, []),
      recordingOf(env, feature, servedTitle, { judge: 'all-match', description: servedTitle, matcher: { status: 200 } }, mesh, metrics),
      countedRecording(env, feature, `${servedTitle}: over mutual TLS in Prometheus`, metrics, served, `productpage's sidecar reported the ${served} requests as mutual_tls`),
    ],
  };
}

/** One burst of concurrent in-mesh requests to reviews, beyond what the circuit breaker admits. */
function reviewsBurst(env: StepEnv, count: number, concurrency: number) {
  return sendFromPod(env.meshClient, { url: env.meshUrls.reviews, count, concurrency, timeoutMs: env.config.timeouts.request });
}

/**
 * A circuit breaker proven live by its effect, which only it can have: reviews never answers 503 by itself, so a
 * 503 in a burst of concurrent requests comes from the client sidecar's overflow (flag UO).
 */
export function proveCircuitBreakerTrips(env: StepEnv, what: string): Promise<void> {
  const { timeouts } = env.config;
  return awaitConfigLive({ what, timeoutMs: timeouts.configLive, intervalMs: timeouts.configLivePoll }, async () => {
    const burst = await reviewsBurst(env, 20, 20);
    const refused = burst.filter((r) => r.status === 503).length;
    return refused > 0
      ? { done: true, value: undefined, seen: `${refused} of 20 concurrent requests refused with 503` }
      : { done: false, seen: `all 20 concurrent requests admitted: statuses ${[...new Set(burst.map((r) => r.status))].join(', ')}` };
  });
}

/**
 * The circuit breaker under load: concurrent in-mesh requests to reviews are either served or refused with 503
 * (nothing else), the client's sidecar reports each refusal as an overflow (response flag UO) and at least one
 * happened, and reviews' own sidecars counted every request that was served.
 */
export async function observeCircuitBreaker(env: StepEnv, feature: FeatureName, options: { count: number; concurrency: number }): Promise<Observed> {
  const { timeouts } = env.config;
  const overflowed: MetricSelector = {
    metric: 'istio_requests_total',
    labels: { reporter: 'source', source_workload: 'mesh-client', destination_service_name: 'reviews', response_code: '503', response_flags: 'UO' },
  };
  const overflowBefore = await env.prometheus.snapshotAfterScrape(overflowed, { timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll });
  const servedBefore = await env.prometheus.snapshot(reviewsByVersion);
  const records = await reviewsBurst(env, options.count, options.concurrency);
  const refused = records.filter((r) => r.status === 503).length;
  const served = records.filter((r) => r.status === 200).length;
  const overflows: Recording['metrics'] = [
    { name: 'overflows from the in-mesh client to reviews', before: overflowBefore, after: await afterIncrease(env, overflowed, overflowBefore, Math.max(1, refused)) },
  ];
  const arrivals: Recording['metrics'] = [
    { name: 'requests at reviews by version', before: servedBefore, after: await afterIncrease(env, reviewsByVersion, servedBefore, served) },
  ];
  const title = `${options.count} requests, ${options.concurrency} at a time, are served or refused with 503`;
  return {
    recordings: [
      recordingOf(env, feature, title, { judge: 'all-match', description: title, matcher: { statusIn: [200, 503] } }, records, [...overflows, ...arrivals]),
      countedRecording(env, feature, `${title}: overflows in Prometheus`, overflows, refused, `the client sidecar reported the ${refused} refusals as overflows (UO)`, { atLeastOne: true }),
      countedRecording(env, feature, `${title}: served requests in Prometheus`, arrivals, served, `reviews' sidecars counted the ${served} requests served`),
    ],
  };
}

/**
 * Mirroring: every request through the gateway is answered by the primary version, and the mirror version's own
 * sidecar counts a copy of each (reporter="destination"; copies have no source-side series, istio/istio#23496).
 */
export async function observeMirroring(env: StepEnv, feature: FeatureName, options: { primary: string; mirror: string; title: string }): Promise<Observed> {
  const count = planAllMatchSampling({ alpha: env.config.alpha });
  const before = await reviewsBaseline(env);
  const records = await reviewsApi(env)(count);
  const answered = records.filter((r) => r.status === 200 && r.classification === options.primary).length;
  const after = await afterIncrease(env, reviewsByVersion, before, 2 * answered);
  const metrics: Recording['metrics'] = [{ name: 'requests at reviews by version', before, after }];
  const version = (name: string) => ({ destination_version: name.replace('reviews-', '') });
  return {
    recordings: [
      recordingOf(env, feature, options.title, { judge: 'all-match', description: options.title, matcher: { classification: options.primary, status: 200 } }, records, metrics),
      countedRecording(env, feature, `${options.title}: ${options.primary} in Prometheus`, metrics, answered, `${options.primary} counted the ${answered} requests it answered`, { group: version(options.primary) }),
      countedRecording(env, feature, `${options.title}: mirror copies at ${options.mirror}`, metrics, answered, `${options.mirror} received a copy of each of the ${answered} requests`, { group: version(options.mirror) }),
    ],
  };
}

/**
 * A route timeout: in-mesh requests as `user` (whose calls through reviews v2 are slowed past the timeout) all
 * finish within the timeout plus a margin, and the client sidecar reports the ones it cut off as 504 with flag
 * UT (UpstreamRequestTimeout) — at least one, since reviews v2 takes one request in three or so.
 */
export async function observeRouteTimeout(env: StepEnv, feature: FeatureName, options: { user: string; timeoutMs: number; title: string }): Promise<Observed> {
  const { timeouts } = env.config;
  const count = 30;
  const timedOut: MetricSelector = {
    metric: 'istio_requests_total',
    labels: { reporter: 'source', source_workload: 'mesh-client', destination_service_name: 'reviews', response_code: '504', response_flags: 'UT' },
  };
  const before = await env.prometheus.snapshotAfterScrape(timedOut, { timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll });
  const records = await sendFromPod(env.meshClient, { url: env.meshUrls.reviews, count, concurrency: 10, timeoutMs: timeouts.request, headers: await env.asUser(options.user) });
  const cut = records.filter((r) => r.status === 504).length;
  const metrics: Recording['metrics'] = [{ name: 'requests to reviews cut off by the route timeout', before, after: await afterIncrease(env, timedOut, before, Math.max(1, cut)) }];
  return {
    recordings: [
      recordingOf(env, feature, options.title, { judge: 'latency', description: options.title, atMostMs: options.timeoutMs + delayMarginMs, quantile: 1 }, records, metrics),
      countedRecording(env, feature, `${options.title}: timeouts in Prometheus`, metrics, cut, `the client sidecar reported the ${cut} requests it cut off as 504 UT`, { atLeastOne: true }),
    ],
  };
}

export function verdictsOf(observed: Observed): Verdict[] {
  return observed.recordings.map((r) => r.verdict!);
}
