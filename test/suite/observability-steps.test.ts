import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../helpers/config/config.ts';
import type { Timeouts } from '../../helpers/config/timeouts.ts';
import { judgeRecording } from '../../helpers/judge/rejudge.ts';
import { PrometheusClient } from '../../helpers/observe/prometheus.ts';
import { parseRecording } from '../../helpers/record/recording.ts';
import {
  observeGrafanaDashboards,
  observeJaegerTraces,
  observeKialiGraph,
  observeKialiStatus,
  observeLabQueries,
  productpageBatch,
} from '../../helpers/suite/observability-steps.ts';
import { bookinfoMeshUrls, verdictsOf, type Observed, type StepEnv } from '../../helpers/suite/step-env.ts';
import { startBookinfoDouble, type BookinfoDouble, type ReviewsVersion } from '../support/bookinfo-double.ts';
import { startIstioExporter, type IstioExporter } from '../support/istio-exporter.ts';
import { prometheusAvailability, startPrometheus, type PrometheusHarness } from '../support/prometheus-harness.ts';
import { startStaticHttpServer, type StaticHttpServer, type StaticRoute } from '../support/static-http-server.ts';
import { useTempDirs } from '../support/temp.ts';

/**
 * The observability steps against a simulated stack: the Bookinfo double plays the gateway, loopback servers
 * answer as Grafana, Jaeger and Kiali do (bodies written from the documented shapes; data appears only after
 * the traffic, as spans and scrapes arrive), and a real Prometheus scrapes an Istio-shaped exporter that
 * counts each product page at productpage, details, reviews and, for reviews v2 and v3, ratings.
 */
const tempDir = useTempDirs('meshproof-observability-');
const availability = prometheusAvailability();

const config = () =>
  loadConfig(
    {
      MESHPROOF_TIMEOUT_METRIC_PROPAGATION: '15s',
      MESHPROOF_TIMEOUT_METRIC_POLL: '100ms',
      MESHPROOF_TIMEOUT_ADDON_READY: '5s',
      MESHPROOF_TIMEOUT_POLL: '50ms',
      MESHPROOF_TIMEOUT_REQUEST: '5s',
    },
    tempDir(),
  );

function stepEnv(ingressUrl: string, addons: StepEnv['addons']): StepEnv {
  const unused = () => {
    throw new Error('the observability steps send no in-mesh traffic');
  };
  return {
    config: config(),
    runId: 'test-run',
    ingressUrl,
    addons,
    prometheus: new PrometheusClient({ url: addons.prometheus, requestTimeoutMs: 5_000 }),
    versions: { meshproof: 'test' },
    meshClient: unused,
    legacyClient: unused,
    meshUrls: bookinfoMeshUrls,
    asUser: unused,
    proxyAdmin: unused,
  };
}

/** The same env with shorter deadlines: a broken add-on fails its verdict once they pass. */
const hurried = (env: StepEnv, timeouts: Partial<Timeouts>): StepEnv => ({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, ...timeouts } } });

/** Every recording is valid in the format and is judged offline as it was when made. */
function expectReJudgeable(observed: Observed): void {
  for (const recording of observed.recordings) {
    const parsed = parseRecording(JSON.parse(JSON.stringify(recording)), recording.title);
    expect(judgeRecording(parsed)).toEqual(recording.verdict);
  }
}

const summary = (observed: Observed) => observed.recordings.map((r) => [r.title, r.verdict!.pass]);

/**
 * A route whose body changes with the number of times it was asked for (answers that fill in over time).
 * Assigning the route again makes it a fixed one.
 */
function answersInTurn(routes: Record<string, StaticRoute>, path: string, bodies: (asked: number) => unknown): { asked: () => number } {
  let asked = 0;
  Object.defineProperty(routes, path, {
    configurable: true,
    enumerable: true,
    get: () => ({ body: JSON.stringify(bodies(++asked)) }),
    set: (value: StaticRoute) => Object.defineProperty(routes, path, { value, writable: true, enumerable: true, configurable: true }),
  });
  return { asked: () => asked };
}
const json = (body: unknown): StaticRoute => ({ body: JSON.stringify(body) });

// ---------------------------------------------------------------------------------------------------------
// Bodies as the add-ons answer (the upstream sources are named at the top of each file in helpers/observe/addons/)

const istioFolder = { folderId: 1, folderUid: 'b2c0e1f4-istio', folderTitle: 'istio', folderUrl: '/dashboards/f/b2c0e1f4-istio/istio' };
const hit = (title: string, uid: string, folder: typeof istioFolder | null = istioFolder) => ({
  id: uid.length,
  uid,
  orgId: 1,
  title,
  uri: `db/${title.toLowerCase().replace(/ /g, '-')}`,
  url: `/d/${uid}/${title.toLowerCase().replace(/ /g, '-')}`,
  slug: '',
  type: 'dash-db',
  tags: [],
  isStarred: false,
  ...(folder ?? {}),
});
const dashboardBody = (uid: string, title: string, panelTitles: string[]) => ({
  dashboard: {
    id: uid.length,
    uid,
    title,
    schemaVersion: 39,
    panels: [{ id: 1, type: 'row', title: 'General', collapsed: false, panels: [] }, ...panelTitles.map((t, i) => ({ id: i + 2, type: 'timeseries', title: t, targets: [{ expr: 'sum(irate(istio_requests_total[1m]))', refId: 'A' }] }))],
  },
  meta: { type: 'db', slug: title.toLowerCase().replace(/ /g, '-'), provisioned: true, ...istioFolder },
});
const labDashboards = ['Istio Mesh Dashboard', 'Istio Service Dashboard', 'Istio Workload Dashboard', 'Istio Control Plane Dashboard'];
const uids: Record<string, string> = {
  'Istio Mesh Dashboard': '1a9a8ea49444aae205c7737573e894f9',
  'Istio Service Dashboard': 'LJ_uJAvmk',
  'Istio Workload Dashboard': 'UbsSZTDik',
  'Istio Control Plane Dashboard': '1813f692a8e4ac77155348d4c7d2fba8',
  'Istio Performance Dashboard': 'c6a5b2e8-perf',
};

const jaegerServices = (names: string[]) => ({ data: names, total: names.length, limit: 0, offset: 0, errors: null });
/** A /productpage trace with each sidecar's span; without propagation the services below productpage start their own traces. */
function productpageTrace(traceID: string, propagated: boolean) {
  const span = (spanID: string, processID: string, op: string, parent?: string) => ({
    traceID,
    spanID,
    flags: 1,
    operationName: op,
    references: parent ? [{ refType: 'CHILD_OF', traceID, spanID: parent }] : [],
    startTime: 1_767_261_600_000_000,
    duration: 12_000,
    tags: [{ key: 'component', type: 'string', value: 'proxy' }],
    logs: [],
    processID,
    warnings: null,
  });
  const spans = [
    span('0000000000000001', 'p1', 'productpage.bookinfo.svc.cluster.local:9080/productpage'),
    span('0000000000000002', 'p2', 'productpage.bookinfo.svc.cluster.local:9080/productpage', '0000000000000001'),
    span('0000000000000003', 'p2', 'details.bookinfo.svc.cluster.local:9080/*', '0000000000000002'),
    span('0000000000000005', 'p2', 'reviews.bookinfo.svc.cluster.local:9080/*', '0000000000000002'),
    ...(propagated
      ? [span('0000000000000004', 'p3', 'details.bookinfo.svc.cluster.local:9080/*', '0000000000000003'), span('0000000000000006', 'p4', 'reviews.bookinfo.svc.cluster.local:9080/*', '0000000000000005')]
      : []),
  ];
  const process = (serviceName: string) => ({ serviceName, tags: [{ key: 'ip', type: 'string', value: '10.244.0.20' }] });
  return { traceID, spans, processes: { p1: process('istio-ingressgateway.istio-system'), p2: process('productpage.bookinfo'), p3: process('details.bookinfo'), p4: process('reviews.bookinfo') }, warnings: null };
}
const jaegerTraces = (traces: unknown[]) => ({ data: traces, total: traces.length, limit: 0, offset: 0, errors: null });

const kialiStatus = (state: string) => ({
  status: { 'Kiali commit hash': '6d0a8c1b', 'Kiali container version': 'v2.26.0', 'Kiali state': state, 'Kiali version': 'v2.26.0', 'Disabled features': '' },
  externalServices: [{ name: 'Prometheus', version: '3.10.0', url: 'http://prometheus.istio-system:9090' }],
  warningMessages: [],
  istioEnvironment: { istioAPIEnabled: true },
});
/** A versionedApp graph of bookinfo with these edges ("productpage-v1>details-v1": rate, isMTLS or null for none). */
function kialiGraph(edges: Record<string, [rate: string, isMTLS: string | null]>) {
  const id = (name: string) => createHash('sha256').update(`Kubernetes_${name}`).digest('hex');
  const names = new Set(Object.keys(edges).flatMap((e) => e.split('>')));
  const nodes = [...names].map((name) => {
    const [, app, version] = /^(.+)-(v\d+|latest)$/.exec(name)!;
    const namespace = app === 'istio-ingressgateway' ? 'istio-system' : 'bookinfo';
    return { data: { id: id(name), nodeType: 'app', cluster: 'Kubernetes', namespace, workload: name, app, version, healthData: null, ...(namespace !== 'bookinfo' && { isOutside: true, isRoot: true }) } };
  });
  return {
    timestamp: 1767261660,
    duration: 60,
    graphType: 'versionedApp',
    elements: {
      nodes,
      edges: Object.entries(edges).map(([e, [rate, isMTLS]]) => {
        const [from, to] = e.split('>') as [string, string];
        return { data: { id: id(e), source: id(from), target: id(to), ...(isMTLS !== null && { isMTLS }), traffic: { protocol: 'http', rates: { http: rate, httpPercentReq: '100.0' } } } };
      }),
    },
  };
}
const healthyGraph: Record<string, [string, string | null]> = {
  'istio-ingressgateway-latest>productpage-v1': ['0.67', '100'],
  'productpage-v1>details-v1': ['0.67', '100'],
  'productpage-v1>reviews-v1': ['0.22', '100'],
  'productpage-v1>reviews-v2': ['0.23', '100'],
  'productpage-v1>reviews-v3': ['0.22', '100'],
  'reviews-v2>ratings-v1': ['0.23', '100'],
  'reviews-v3>ratings-v1': ['0.22', '100'],
};
const labEdges = [
  { from: 'productpage', to: 'details' },
  { from: 'productpage', to: 'reviews' },
  { from: 'reviews-v2', to: 'ratings' },
  { from: 'reviews-v3', to: 'ratings' },
];

// ---------------------------------------------------------------------------------------------------------

describe('the observability steps against loopback Grafana, Jaeger and Kiali', () => {
  let double: BookinfoDouble;
  let addons: StaticHttpServer;
  let env: StepEnv;
  /** Called on every product page the double serves: the add-ons' data arrives with the traffic. */
  let onPage: () => void = () => {};

  beforeAll(async () => {
    double = await startBookinfoDouble({ seed: 7, onReviews: () => onPage() });
    addons = await startStaticHttpServer();
    env = stepEnv(double.url, { prometheus: 'http://127.0.0.1:9', grafana: addons.url, jaeger: addons.url, kiali: addons.url });
  });
  afterAll(async () => {
    await Promise.all([double?.stop(), addons?.close()]);
  });

  it('passes the four Istio dashboards in folder istio, each with panels', async () => {
    addons.routes['/api/search'] = json(Object.keys(uids).map((title) => hit(title, uids[title]!)));
    for (const title of labDashboards) addons.routes[`/api/dashboards/uid/${uids[title]}`] = json(dashboardBody(uids[title]!, title, ['Request Volume', 'Success Rate']));
    const observed = await observeGrafanaDashboards(env, 'grafana', { folder: 'istio', titles: labDashboards });
    expect(summary(observed)).toEqual([
      ['the Istio dashboards are in folder istio', true],
      ['Istio Mesh Dashboard has panels', true],
      ['Istio Service Dashboard has panels', true],
      ['Istio Workload Dashboard has panels', true],
      ['Istio Control Plane Dashboard has panels', true],
    ]);
    expect(observed.recordings[0]!.verdict!.sentence).toMatch(/^Istio Mesh Dashboard, .* are dashboards in folder istio within 5 s \(served by all 4 in folder istio with status 200\): all 1 of 1 requests$/);
    expectReJudgeable(observed);
  });

  it('fails a dashboard not provisioned, one outside the folder and one without panels, each by name', async () => {
    addons.routes['/api/search'] = json([hit('Istio Mesh Dashboard', uids['Istio Mesh Dashboard']!), hit('Istio Service Dashboard', uids['Istio Service Dashboard']!), hit('Istio Workload Dashboard', uids['Istio Workload Dashboard']!, null)]);
    addons.routes[`/api/dashboards/uid/${uids['Istio Service Dashboard']}`] = json(dashboardBody(uids['Istio Service Dashboard']!, 'Istio Service Dashboard', []));
    const observed = await observeGrafanaDashboards(hurried(env, { addonReady: 300 }), 'grafana', { folder: 'istio', titles: labDashboards });
    const [folder, mesh, service, workload, controlPlane] = verdictsOf(observed);
    expect(folder!.pass).toBe(false);
    expect(folder!.sentence).toMatch(/1 exception: #1 HTTP 200 Istio Workload Dashboard: in folder General; Istio Control Plane Dashboard: not found — dashboards found: /);
    expect(mesh!.pass).toBe(true);
    expect(service!.sentence).toMatch(/1 exception: #1 HTTP 200 no panels in /);
    expect(workload!.sentence).toMatch(/1 exception: #1 HTTP 200 not found in folder istio by \/api\/search in /);
    expect(controlPlane!.pass).toBe(false);
    expectReJudgeable(observed);
  });

  it('waits for Jaeger to hold a /productpage trace across productpage → details and → reviews', async () => {
    addons.routes['/jaeger/api/services'] = json(jaegerServices(['istio-ingressgateway.istio-system']));
    // Each sidecar flushes its spans on its own: the first answers hold the trace without details' and reviews' spans.
    const traces = answersInTurn(addons.routes, '/jaeger/api/traces', (asked) => jaegerTraces([productpageTrace('4bf92f3577b34da6a3ce929d0e0e4736', asked >= 3)]));
    let pages = 0;
    onPage = () => {
      if (++pages === productpageBatch) addons.routes['/jaeger/api/services'] = json(jaegerServices(['details.bookinfo', 'istio-ingressgateway.istio-system', 'productpage.bookinfo', 'reviews.bookinfo']));
    };
    const observed = await observeJaegerTraces(env, 'jaeger', {
      service: 'productpage.bookinfo',
      path: '/productpage',
      calls: [
        ['productpage.bookinfo', 'details.bookinfo'],
        ['productpage.bookinfo', 'reviews.bookinfo'],
      ],
    });
    expect(summary(observed)).toEqual([
      ['40 GET /productpage through the gateway are served', true],
      ["productpage.bookinfo is among Jaeger's services", true],
      ['a /productpage trace crosses productpage.bookinfo → details.bookinfo and productpage.bookinfo → reviews.bookinfo', true],
    ]);
    expect(traces.asked()).toBe(3);
    expect(observed.recordings[0]!.requests).toHaveLength(productpageBatch);
    expectReJudgeable(observed);
  });

  it('fails Jaeger without productpage.bookinfo, and traces whose calls never join (no header propagation)', async () => {
    onPage = () => {};
    addons.routes['/jaeger/api/services'] = json(jaegerServices(['istio-ingressgateway.istio-system']));
    addons.routes['/jaeger/api/traces'] = json(jaegerTraces([productpageTrace('4bf92f3577b34da6a3ce929d0e0e4736', false)]));
    const observed = await observeJaegerTraces(hurried(env, { metricPropagation: 300 }), 'jaeger', { service: 'productpage.bookinfo', path: '/productpage', calls: [['productpage.bookinfo', 'details.bookinfo']] });
    const [traffic, services, trace] = verdictsOf(observed);
    expect(traffic!.pass).toBe(true);
    expect(services!.sentence).toMatch(/exception: #1 HTTP 200 no productpage\.bookinfo among 1 services: istio-ingressgateway\.istio-system in/);
    expect(trace!.sentence).toMatch(/exception: #1 HTTP 200 1 \/productpage traces, none crosses productpage\.bookinfo → details\.bookinfo; the closest .* crosses istio-ingressgateway\.istio-system → productpage\.bookinfo in/);
    expectReJudgeable(observed);
  });

  it('passes a running Kiali, and fails one that says otherwise or does not answer', async () => {
    addons.routes['/kiali/api/status'] = json(kialiStatus('running'));
    const running = await observeKialiStatus(env, 'kiali');
    expect(summary(running)).toEqual([['Kiali is running', true]]);
    addons.routes['/kiali/api/status'] = json(kialiStatus('unknown'));
    const [starting] = verdictsOf(await observeKialiStatus(hurried(env, { addonReady: 200 }), 'kiali'));
    expect(starting!.sentence).toMatch(/exception: #1 HTTP 200 Kiali state: unknown in/);
    const [gone] = verdictsOf(await observeKialiStatus(hurried({ ...env, addons: { ...env.addons, kiali: 'http://127.0.0.1:9' } }, { addonReady: 200 }), 'kiali'));
    expect(gone!.sentence).toMatch(/exception: #1 connection refused \(connect ECONNREFUSED 127\.0\.0\.1:9\) no answer: connect ECONNREFUSED/);
    expectReJudgeable(running);
  });

  it("waits for Kiali's graph to show the lab's edges live and over mutual TLS", async () => {
    onPage = () => {};
    const empty = { timestamp: 1767261600, duration: 60, graphType: 'versionedApp', elements: { nodes: [], edges: [] } };
    // Until Prometheus has scraped the traffic and Kiali's cache expired, the graph is empty.
    const graph = answersInTurn(addons.routes, '/kiali/api/namespaces/graph', (asked) => (asked < 2 ? empty : kialiGraph(healthyGraph)));
    const observed = await observeKialiGraph(env, 'kiali', { namespace: 'bookinfo', edges: labEdges });
    expect(summary(observed)).toEqual([
      ['40 GET /productpage through the gateway are served', true],
      ['the bookinfo graph shows live traffic on productpage → details, productpage → reviews, reviews-v2 → ratings, reviews-v3 → ratings', true],
      ['the bookinfo graph shows mutual TLS on productpage → details, productpage → reviews, reviews-v2 → ratings, reviews-v3 → ratings', true],
    ]);
    expect(graph.asked()).toBe(2);
    expectReJudgeable(observed);
  });

  it('fails a graph missing reviews v3 → ratings and with plaintext to details, naming both', async () => {
    const { 'reviews-v3>ratings-v1': _, ...withoutV3 } = healthyGraph;
    addons.routes['/kiali/api/namespaces/graph'] = json(kialiGraph({ ...withoutV3, 'productpage-v1>details-v1': ['0.67', null] }));
    const observed = await observeKialiGraph(hurried(env, { metricPropagation: 300 }), 'kiali', { namespace: 'bookinfo', edges: labEdges });
    const [, live, mtls] = verdictsOf(observed);
    expect(live!.sentence).toMatch(/exception: #1 HTTP 200 reviews-v3 → ratings: no edge — edges: /);
    expect(mtls!.sentence).toMatch(/exception: #1 HTTP 200 productpage-v1 → details-v1: no isMTLS \(no mTLS seen\); reviews-v3 → ratings: no live edge — edges: /);
    expectReJudgeable(observed);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe.skipIf(!availability.available)('the Prometheus step against a real Prometheus', () => {
  let double: BookinfoDouble;
  let exporter: IstioExporter;
  let prometheus: PrometheusHarness;
  let env: StepEnv;
  /** While set, ratings' sidecar reports nothing (broken telemetry). */
  let ratingsSilent = false;

  const destination = (service: string, workload: string, extra: Record<string, string> = {}) => ({
    reporter: 'destination',
    destination_service: `${service}.bookinfo.svc.cluster.local`,
    destination_service_name: service,
    destination_service_namespace: 'bookinfo',
    destination_workload: workload,
    destination_workload_namespace: 'bookinfo',
    destination_app: service,
    ...extra,
  });
  const sidecars = (version: ReviewsVersion) => [
    destination('productpage', 'productpage-v1', { source_workload: 'istio-ingressgateway', destination_version: 'v1' }),
    destination('details', 'details-v1', { source_workload: 'productpage-v1', destination_version: 'v1' }),
    destination('reviews', `reviews-${version}`, { source_workload: 'productpage-v1', destination_version: version }),
  ];
  const ratings = (version: ReviewsVersion) => destination('ratings', 'ratings-v1', { source_workload: `reviews-${version}`, destination_version: 'v1' });

  beforeAll(async () => {
    exporter = await startIstioExporter();
    // Every series exists from the first scrape, so rate() sees the traffic's increase (as after the setup's).
    for (const version of ['v1', 'v2', 'v3'] as const) {
      for (const labels of [...sidecars(version), ratings(version)]) {
        exporter.add(labels, 0);
        exporter.observe(labels, 0, 0);
      }
    }
    double = await startBookinfoDouble({
      seed: 3,
      onReviews: (version) => {
        for (const labels of sidecars(version)) {
          exporter.add(labels, 1);
          exporter.observe(labels, 20);
        }
        if (version !== 'v1' && !ratingsSilent) {
          exporter.add(ratings(version), 1);
          exporter.observe(ratings(version), 4);
        }
      },
    });
    prometheus = await startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalMs: 1_000 });
    env = stepEnv(double.url, { prometheus: prometheus.url, grafana: '', jaeger: '', kiali: '' });
  });
  afterAll(async () => {
    await Promise.all([double?.stop(), prometheus?.stop(), exporter?.stop()]);
  });

  const bookinfo = { namespace: 'bookinfo', services: ['productpage', 'details', 'reviews', 'ratings'] };

  it('fails the queries for a service whose sidecar reports nothing, naming it, while the TCP query stays empty', async () => {
    ratingsSilent = true;
    const observed = await observeLabQueries(hurried(env, { metricPropagation: 2_000 }), 'prometheus', bookinfo);
    ratingsSilent = false;
    const [traffic, rate, p99, errors, tcp] = verdictsOf(observed);
    expect(traffic!.pass).toBe(true);
    expect(rate!.sentence).toMatch(/exception: #1 HTTP 200 ratings: 0 — a rate above 0 only for details, productpage, reviews in/);
    expect(p99!.sentence).toMatch(/exception: #1 HTTP 200 ratings: NaN — a P99 only for details, productpage, reviews in/);
    expect(errors!.sentence).toMatch(/exception: #1 HTTP 200 ratings: no series and no traffic counted in/);
    expect(tcp!.pass).toBe(true);
    expectReJudgeable(observed);
  });

  it("passes the lab's four queries after traffic, and says the TCP one is empty and why", async () => {
    const observed = await observeLabQueries(env, 'prometheus', bookinfo);
    expect(summary(observed)).toEqual([
      ['40 GET /productpage through the gateway are served', true],
      ['request rate by destination service', true],
      ['P99 latency per service', true],
      ['error rate per destination service', true],
      ['TCP bytes sent (empty: the lab has no TCP traffic)', true],
    ]);
    const [, rate, , errors, tcp] = verdictsOf(observed);
    expect(rate!.sentence).toMatch(/^rate\(istio_requests_total\{reporter="destination"\}\[5m\]\) has a rate above 0 for productpage, details, reviews, ratings within 15 s \(served by a rate above 0 for details, productpage, ratings, reviews with status 200\): all 1 of 1 requests$/);
    expect(errors!.sentence).toMatch(/no 5xx at any of them/);
    expect(tcp!.sentence).toMatch(
      /^sum\(rate\(istio_tcp_sent_bytes_total\[5m\]\)\) by \(destination_service\) runs and returns no series, as expected here: Bookinfo sends only HTTP .* so this shows the query is valid, not that TCP telemetry works \(status 200\): all 1 of 1 requests$/,
    );
    expect(observed.recordings.at(-1)!.requests[0]!.classification).toBe('no series');
    expectReJudgeable(observed);
  });

  it('fails every query, the TCP one included, when Prometheus does not answer', async () => {
    const gone = hurried({ ...env, addons: { ...env.addons, prometheus: 'http://127.0.0.1:9' } }, { metricPropagation: 300 });
    const [traffic, ...queries] = verdictsOf(await observeLabQueries(gone, 'prometheus', bookinfo));
    expect(traffic!.pass).toBe(true);
    expect(queries.map((v) => v.pass)).toEqual([false, false, false, false]);
    expect(queries[2]!.sentence).not.toMatch(/no 5xx at any/);
    expect(queries[3]!.sentence).toMatch(/^sum\(rate\(istio_tcp_sent_bytes_total\[5m\]\)\) by \(destination_service\) runs \(status 200\): 0 of 1 requests; 1 exception: #1 connection refused \(connect ECONNREFUSED/);
  });
});
