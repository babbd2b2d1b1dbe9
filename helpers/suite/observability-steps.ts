import type { FeatureName } from '../config/features.ts';
import { pollUntil, PollTimeoutError } from '../wait/poll.ts';
import { formatDuration } from '../config/timeouts.ts';
import { answerRecord, fetchAnswer, type ApiAnswer, type Reading } from '../observe/addons/answer.ts';
import { grafanaApi, readDashboardPanels, readDashboardsInFolder } from '../observe/addons/grafana.ts';
import { callName, jaegerApi, readEndToEndTrace, readJaegerServices, type ServiceCall } from '../observe/addons/jaeger.ts';
import { kialiApi, readGraphEdges, readKialiStatus, specName, type EdgeSpec } from '../observe/addons/kiali.ts';
import { errorRatios, prometheusApi, readErrorRatioPerService, readFinitePerService, readPositivePerService, readSeriesPresence, type ServiceExpectation } from '../observe/addons/prometheus.ts';
import { reviewsVersionFromHtml } from '../config/bookinfo.ts';
import type { RequestRecord } from '../observe/records.ts';
import { sendTraffic } from '../observe/traffic.ts';
import type { Expectation } from '../judge/expectation.ts';
import type { MetricObservation } from '../observe/prometheus.ts';
import type { Recording } from '../record/recording.ts';
import { recordingOf as recordCheck, type Observed, type StepEnv } from './step-env.ts';

/** An observability recording: its check id is its title's slug (these checks have no catalogue entry). */
function recordingOf(env: StepEnv, feature: FeatureName, title: string, expectation: Expectation, requests: RequestRecord[], metrics: MetricObservation[]): Recording {
  const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
  return recordCheck(env, feature, slug, title, expectation, requests, metrics);
}

/**
 * The observability suites' steps. An add-on's verdict is structural, not statistical: did its API answer
 * what the lab says it shows? Each check is one API answer, read by a pure reader (helpers/observe/addons/)
 * into a classification, and recorded as a request judged by `all-match` against the one classification a
 * passing answer gets, so `meshproof judge` re-judges it offline like any other recording. Checks that need
 * fresh data send Bookinfo traffic through the gateway first, then ask in a bounded poll until the data is
 * there; the answer recorded is the last one asked, passing or not.
 */

/**
 * GETs of /productpage sent before a check that needs fresh data. The add-ons show only what traffic made, once
 * Prometheus has scraped it (every 15 s, istio/istio@1.30.3 samples/addons/prometheus.yaml); 40 pages is this
 * suite's choice, enough for reviews' three versions (routed round-robin) to each have requests.
 */
export const productpageBatch = 40;

/**
 * The Part 04 PromQL queries, as the lab writes them. The error rate divides two sums by destination_service,
 * and the TCP query reads istio_tcp_sent_bytes_total, which Istio records only on TCP filter chains.
 */
export const labQueries = {
  requestRate: {
    title: 'request rate by destination service',
    promql: 'rate(istio_requests_total{reporter="destination"}[5m])',
  },
  p99Latency: {
    title: 'P99 latency per service',
    promql: 'histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[5m])) by (le, destination_service))',
  },
  errorRate: {
    title: 'error rate per destination service',
    promql:
      'sum(rate(istio_requests_total{reporter="destination", response_code=~"5.*"}[5m])) by (destination_service) / ' +
      'sum(rate(istio_requests_total{reporter="destination"}[5m])) by (destination_service)',
  },
  tcpBytesSent: {
    title: 'TCP bytes sent',
    promql: 'sum(rate(istio_tcp_sent_bytes_total[5m])) by (destination_service)',
  },
} as const;

/** Kiali's graph window: the lab's `duration=60s`. Rates are averaged over it. */
export const kialiGraphWindowSeconds = 60;

/** The lab's Grafana dashboards (Part 04's table), with the titles Istio gives them, in folder istio (docs/addons.md). */
export const labDashboards = {
  folder: 'istio',
  titles: ['Istio Mesh Dashboard', 'Istio Service Dashboard', 'Istio Workload Dashboard', 'Istio Control Plane Dashboard'],
} as const;

/**
 * The calls Kiali must draw for Bookinfo. Only reviews v2 and v3 call ratings (samples/bookinfo reviews:
 * ENABLE_RATINGS); the baseline routes reviews round-robin, so a batch of product pages reaches both.
 */
export const labGraph = {
  namespace: 'bookinfo',
  edges: [
    { from: 'productpage', to: 'details' },
    { from: 'productpage', to: 'reviews' },
    { from: 'reviews-v2', to: 'ratings' },
    { from: 'reviews-v3', to: 'ratings' },
  ],
} as const;

// ---------------------------------------------------------------------------------------------------------
// The shared mechanics: traffic first, then a bounded poll that keeps its last answer

function sendProductpages(env: StepEnv, count: number): Promise<RequestRecord[]> {
  const { timeouts } = env.config;
  return sendTraffic({
    baseUrl: env.ingressUrl,
    path: '/productpage',
    count,
    concurrency: 4,
    deadlineMs: timeouts.trafficBatch,
    requestTimeoutMs: timeouts.request,
    // Which reviews version rendered each page: kept in the recording, it shows which reviews → ratings calls
    // the traffic can have caused (only v2 and v3 call ratings).
    classify: ({ body }) => reviewsVersionFromHtml(body),
  });
}

/** The traffic as a verdict of its own: an add-on with nothing to show because Bookinfo failed says so first. */
function trafficRecording(env: StepEnv, feature: FeatureName, records: RequestRecord[]): Recording {
  const title = `${records.length} GET /productpage through the gateway are served`;
  const description = `the traffic the add-on must show: ${title}`;
  return recordingOf(env, feature, title, { judge: 'all-match', description, matcher: { status: 200 } }, records, []);
}

interface Observation<R extends Reading> {
  answer: ApiAnswer;
  reading: R;
}

/**
 * Asks until the reading passes or the deadline comes, and returns the last observation either way: the
 * verdict is made from it, so a timeout is a failed verdict saying what the add-on answered last, not an
 * exception. If no answer came at all before the deadline, the reader classifies that.
 */
async function awaitReading<R extends Reading>(
  what: string,
  wait: { timeoutMs: number; intervalMs: number },
  ask: (signal: AbortSignal) => Promise<ApiAnswer>,
  read: (answer: ApiAnswer) => R,
): Promise<Observation<R>> {
  const startedAt = Date.now();
  let last: Observation<R> | undefined;
  try {
    return await pollUntil<Observation<R>>({ what, ...wait }, async (signal) => {
      const answer = await ask(signal);
      const seen: Observation<R> = { answer, reading: read(answer) };
      last = seen;
      return seen.reading.pass ? { done: true, value: seen } : { done: false, seen: seen.reading.classification };
    });
  } catch (error) {
    if (!(error instanceof PollTimeoutError)) throw error;
    if (last) return last;
    const answer: ApiAnswer = { url: '', startedAt, latencyMs: Date.now() - startedAt, status: 0, body: '', error: `no answer within ${formatDuration(wait.timeoutMs)}` };
    return { answer, reading: read(answer) };
  }
}

/** One check as a recording: the answer, classified, judged against the classification a passing answer gets. */
function checkRecording(env: StepEnv, feature: FeatureName, title: string, description: string, { answer, reading }: Observation<Reading>): Recording {
  const expectation = { judge: 'all-match' as const, description, matcher: { classification: reading.expected, status: 200 } };
  return recordingOf(env, feature, title, expectation, [answerRecord(answer, reading.classification)], []);
}

const within = (ms: number) => `within ${formatDuration(ms)}`;

// ---------------------------------------------------------------------------------------------------------
// Prometheus

/**
 * The lab's four PromQL queries after Bookinfo traffic. The request rate, P99 latency and error rate must each
 * answer for every Bookinfo service. The error rate of a service without 5xx has no series (PromQL divides only
 * series present on both sides), so it counts as 0 % when the request rate shows the service had traffic.
 * The TCP query is expected to be EMPTY: Bookinfo speaks only HTTP, and Istio records istio_tcp_* only for
 * TCP-proxied traffic (istio.io's Istio Standard Metrics, https://istio.io/latest/docs/reference/config/metrics/).
 * Its verdict passes when Prometheus runs it and says which series it returned, so an empty answer is reported as
 * what it is: the query is valid, TCP telemetry is not shown.
 */
export async function observeLabQueries(env: StepEnv, feature: FeatureName, expected: ServiceExpectation): Promise<Observed> {
  const { timeouts } = env.config;
  const traffic = await sendProductpages(env, productpageBatch);
  const wait = { timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll };
  const ask = (promql: string) => (signal?: AbortSignal) => fetchAnswer(prometheusApi.query(env.addons.prometheus, promql), timeouts.request, signal);
  const services = expected.services.join(', ');
  const { requestRate, p99Latency, errorRate, tcpBytesSent } = labQueries;

  const rate = await awaitReading(`${requestRate.title} to show ${services}`, wait, ask(requestRate.promql), (a) => readPositivePerService(a, expected, 'a rate above 0'));
  const p99 = await awaitReading(`${p99Latency.title} to show ${services}`, wait, ask(p99Latency.promql), (a) => readFinitePerService(a, expected, 'a P99'));
  // Asked once: once the request rate shows the traffic, a missing error rate is not a matter of waiting.
  const errorsAnswer = await ask(errorRate.promql)();
  const errors = { answer: errorsAnswer, reading: readErrorRatioPerService(errorsAnswer, expected, rate.reading.withData, 'an error rate') };
  const ratios = errorRatios(errorsAnswer, expected.namespace);
  const fivexx = ratios && Object.entries(ratios).map(([service, ratio]) => `${service} ${+(ratio * 100).toFixed(2)} %`);
  const tcpAnswer = await ask(tcpBytesSent.promql)();
  const tcp = readSeriesPresence(tcpAnswer);

  const tcpDescription = !tcp.answered
    ? `${tcpBytesSent.promql} runs`
    : tcp.series === 0
      ? `${tcpBytesSent.promql} runs and returns no series, as expected here: Bookinfo sends only HTTP and Istio records ` +
        'istio_tcp_* only on TCP filter chains, so this shows the query is valid, not that TCP telemetry works'
      : `${tcpBytesSent.promql} runs and returns ${tcp.classification} (this lab was expected to have no TCP traffic)`;
  const tcpExpectation = { judge: 'all-match' as const, description: tcpDescription, matcher: { status: 200 } };
  return {
    recordings: [
      trafficRecording(env, feature, traffic),
      checkRecording(env, feature, requestRate.title, `${requestRate.promql} has a rate above 0 for ${services} ${within(wait.timeoutMs)}`, rate),
      checkRecording(env, feature, p99Latency.title, `${p99Latency.promql} has a P99 for ${services} ${within(wait.timeoutMs)}`, p99),
      checkRecording(
        env,
        feature,
        errorRate.title,
        `${errorRate.promql} gives each of ${services} an error rate: its ratio, or none while the request rate shows its traffic ` +
          `(no 5xx, 0 %)${fivexx === undefined ? '' : fivexx.length ? `; 5xx at ${fivexx.join(', ')}` : '; no 5xx at any of them'}`,
        errors,
      ),
      recordingOf(env, feature, `${tcpBytesSent.title} (empty: the lab has no TCP traffic)`, tcpExpectation, [answerRecord(tcpAnswer, tcp.classification)], []),
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------
// Grafana

/**
 * Istio's dashboards in Grafana: every title is a dashboard in `folder` (one search), and each has panels (its
 * own GET). Grafana provisions dashboards in the background after it starts serving, so the search is polled.
 */
export async function observeGrafanaDashboards(env: StepEnv, feature: FeatureName, expected: { folder: string; titles: readonly string[] }): Promise<Observed> {
  const { timeouts } = env.config;
  const wait = { timeoutMs: timeouts.addonReady, intervalMs: timeouts.poll };
  const titles = expected.titles.join(', ');
  const search = await awaitReading(
    `Grafana to list ${titles} in folder ${expected.folder}`,
    wait,
    (signal) => fetchAnswer(grafanaApi.search(env.addons.grafana, 'Istio'), timeouts.request, signal),
    (a) => readDashboardsInFolder(a, expected),
  );
  const recordings = [checkRecording(env, feature, `the Istio dashboards are in folder ${expected.folder}`, `${titles} are dashboards in folder ${expected.folder} ${within(wait.timeoutMs)}`, search)];
  for (const title of expected.titles) {
    const uid = search.reading.uids[title];
    // A dashboard the search did not find has no uid to fetch: its verdict is made from the search answer.
    const answer = uid === undefined ? search.answer : await fetchAnswer(grafanaApi.dashboard(env.addons.grafana, uid), timeouts.request);
    const reading = uid === undefined ? { pass: false, classification: `not found in folder ${expected.folder} by /api/search`, expected: 'has panels' } : readDashboardPanels(answer, title);
    recordings.push(checkRecording(env, feature, `${title} has panels`, `the ${title} has panels`, { answer, reading }));
  }
  return { recordings };
}

// ---------------------------------------------------------------------------------------------------------
// Jaeger

/** Traces asked for at once: the lab's query asks Jaeger's `/api/traces` for `limit=20`. */
const jaegerTraceLimit = 20;
/** Traces are asked for from a little before the traffic began, for clocks a little apart (host and cluster). */
const clockSkewMarginMs = 5_000;

/**
 * Distributed tracing after /productpage traffic: `service` (productpage.bookinfo) is among Jaeger's services,
 * and at least one trace of a `path` request that started since the traffic crosses every call in `calls`
 * (productpage → details and productpage → reviews: parent links through references[].spanID).
 */
export async function observeJaegerTraces(env: StepEnv, feature: FeatureName, expected: { service: string; path: string; calls: readonly ServiceCall[] }): Promise<Observed> {
  const { timeouts } = env.config;
  const since = Date.now() - clockSkewMarginMs;
  const traffic = await sendProductpages(env, productpageBatch);
  const wait = { timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll };
  const services = await awaitReading(
    `Jaeger to list ${expected.service}`,
    wait,
    (signal) => fetchAnswer(jaegerApi.services(env.addons.jaeger), timeouts.request, signal),
    (a) => readJaegerServices(a, expected.service),
  );
  const calls = expected.calls.map(callName).join(' and ');
  const trace = await awaitReading(
    `a ${expected.path} trace in Jaeger crossing ${calls}`,
    wait,
    (signal) =>
      fetchAnswer(jaegerApi.traces(env.addons.jaeger, { service: expected.service, limit: jaegerTraceLimit, startMs: since, endMs: Date.now() }), timeouts.request, signal),
    (a) => readEndToEndTrace(a, expected),
  );
  return {
    recordings: [
      trafficRecording(env, feature, traffic),
      checkRecording(env, feature, `${expected.service} is among Jaeger's services`, `Jaeger lists ${expected.service} ${within(wait.timeoutMs)} of the traffic`, services),
      checkRecording(
        env,
        feature,
        `a ${expected.path} trace crosses ${calls}`,
        `one of ${expected.service}'s traces since the traffic is of a ${expected.path} request and crosses ${calls}, ${within(wait.timeoutMs)}`,
        trace,
      ),
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------
// Kiali

/** Kiali reports itself running (`/kiali/api/status`). */
export async function observeKialiStatus(env: StepEnv, feature: FeatureName): Promise<Observed> {
  const { timeouts } = env.config;
  const wait = { timeoutMs: timeouts.addonReady, intervalMs: timeouts.poll };
  const status = await awaitReading(
    'Kiali to report itself running',
    wait,
    (signal) => fetchAnswer(kialiApi.status(env.addons.kiali), timeouts.request, signal),
    readKialiStatus,
  );
  return { recordings: [checkRecording(env, feature, 'Kiali is running', `/kiali/api/status says "Kiali state": "running" ${within(wait.timeoutMs)}`, status)] };
}

/**
 * The versionedApp graph of `namespace` after /productpage traffic: every edge in `edges` is there with a
 * rate above 0, and carries mutual TLS only (isMTLS "100"; Istio's auto mTLS, on by default, encrypts every
 * call between sidecars). The graph shows rates over the last 60 s, so while the poll waits for Prometheus and
 * Kiali to catch up, the traffic is sent again once it is half a window old.
 */
export async function observeKialiGraph(env: StepEnv, feature: FeatureName, expected: { namespace: string; edges: readonly EdgeSpec[] }): Promise<Observed> {
  const { timeouts } = env.config;
  const traffic = await sendProductpages(env, productpageBatch);
  let lastBatchAt = Date.now();
  const wait = { timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll };
  const url = kialiApi.graph(env.addons.kiali, { namespace: expected.namespace, graphType: 'versionedApp', durationSeconds: kialiGraphWindowSeconds });
  const edges = expected.edges.map(specName).join(', ');
  const live = await awaitReading(
    `Kiali's ${expected.namespace} graph to show live traffic on ${edges}`,
    wait,
    async (signal) => {
      if (Date.now() - lastBatchAt > (kialiGraphWindowSeconds * 1000) / 2) {
        traffic.push(...(await sendProductpages(env, productpageBatch)));
        lastBatchAt = Date.now();
      }
      return fetchAnswer(url, timeouts.request, signal);
    },
    (a) => readGraphEdges(a, expected).live,
  );
  // mTLS is read from the same answer as the traffic it is about.
  const mtls = readGraphEdges(live.answer, expected).mtls;
  return {
    recordings: [
      trafficRecording(env, feature, traffic),
      checkRecording(env, feature, `the ${expected.namespace} graph shows live traffic on ${edges}`, `Kiali's versionedApp graph of ${expected.namespace} has ${edges} with a rate above 0 ${within(wait.timeoutMs)}`, live),
      checkRecording(env, feature, `the ${expected.namespace} graph shows mutual TLS on ${edges}`, `every live edge of ${edges} in that graph carried mutual TLS only (isMTLS 100 %)`, {
        answer: live.answer,
        reading: mtls,
      }),
    ],
  };
}
