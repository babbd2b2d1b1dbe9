import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDashboards, labGraph } from '../../helpers/suite/observability-steps.ts';
import {
  addonApi,
  answerRecord,
  countPanels,
  errorRatios,
  fetchAnswer,
  graphEdges,
  parsePromVector,
  readDashboardPanels,
  readDashboardsInFolder,
  readEndToEndTrace,
  readErrorRatioPerService,
  readFinitePerService,
  readGraphEdges,
  readJaegerServices,
  readKialiStatus,
  readPositivePerService,
  readSeriesPresence,
  serviceOf,
  traceCalls,
  traceIsRequestFor,
  type Answered,
  type JaegerTrace,
} from '../../helpers/observe/addons.ts';
import { startStaticHttpServer, type StaticHttpServer } from '../support/static-http-server.ts';

/**
 * The add-on readers on answers written from the documented shapes (the upstream sources are named at the top
 * of helpers/observe/addons.ts: Prometheus' HTTP API envelope, Grafana's /api/search, Jaeger's structured
 * responses and trace JSON, Kiali's status and cytoscape graph with hashed node ids and string rates), healthy
 * and broken.
 */
const ok = (body: unknown): Answered => ({ status: 200, body: JSON.stringify(body) });
const bookinfo = { namespace: 'bookinfo', services: ['productpage', 'details', 'reviews', 'ratings'] };

describe('fetchAnswer', () => {
  let server: StaticHttpServer;
  beforeAll(async () => {
    server = await startStaticHttpServer({ '/kiali/api/status': { body: '{"status":{"Kiali state":"running"}}' }, '/slow': { stall: true } });
  });
  afterAll(() => server.close());

  it('keeps status, body and timing, and never throws: a refused connection or a stall is status 0 with the reason', async () => {
    const answer = await fetchAnswer(addonApi.kialiStatus(`${server.url}/`), 2_000);
    expect(answer).toMatchObject({ status: 200, body: '{"status":{"Kiali state":"running"}}', url: `${server.url}/kiali/api/status` });
    expect(answerRecord(answer, 'Kiali state: running')).toEqual({ startedAt: answer.startedAt, latencyMs: answer.latencyMs, status: 200, classification: 'Kiali state: running' });
    expect((await fetchAnswer(`${server.url}/nothing`, 2_000)).status).toBe(404);
    const stalled = await fetchAnswer(`${server.url}/slow`, 200);
    expect(stalled).toMatchObject({ status: 0, error: 'no answer within 200 ms' });
    const closed = await startStaticHttpServer();
    await closed.close();
    const refused = await fetchAnswer(`${closed.url}/jaeger/api/services`, 2_000);
    expect(refused.status).toBe(0);
    expect(refused.error).toMatch(/ECONNREFUSED/);
    expect(answerRecord(refused, 'no answer')).toMatchObject({ status: 0, error: refused.error });
  });
});

describe('addonApi', () => {
  it('asks the add-ons at their documented paths, Jaeger in microseconds, Kiali without service nodes', () => {
    expect(addonApi.prometheusQuery('http://p:9090', 'rate(x{a="b"}[5m])')).toBe('http://p:9090/api/v1/query?query=rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29');
    expect(addonApi.grafanaSearch('http://g:3000/', 'Istio')).toBe('http://g:3000/api/search?query=Istio&type=dash-db');
    expect(addonApi.grafanaDashboard('http://g:3000', '1a9a8ea4/x')).toBe('http://g:3000/api/dashboards/uid/1a9a8ea4%2Fx');
    expect(addonApi.jaegerServices('http://j:16686')).toBe('http://j:16686/jaeger/api/services');
    expect(addonApi.jaegerTraces('http://j:16686', { service: 'productpage.bookinfo', limit: 20, startMs: 1_767_261_600_000, endMs: 1_767_261_660_500 })).toBe(
      'http://j:16686/jaeger/api/traces?service=productpage.bookinfo&limit=20&start=1767261600000000&end=1767261660500000',
    );
    expect(addonApi.kialiStatus('http://k:20001')).toBe('http://k:20001/kiali/api/status');
    expect(addonApi.kialiGraph('http://k:20001', { namespace: 'bookinfo', graphType: 'versionedApp', durationSeconds: 60 })).toBe(
      'http://k:20001/kiali/api/namespaces/graph?namespaces=bookinfo&graphType=versionedApp&duration=60s&injectServiceNodes=false',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Prometheus

/** A series as the sample Prometheus stores a sidecar's metric: Istio's labels plus kubernetes-pods' own. */
function istioSeries(service: string, extra: Record<string, string>, value: string, namespace = 'bookinfo') {
  const workload = service === 'reviews' ? 'reviews-v2' : `${service}-v1`;
  return {
    metric: {
      app: service,
      connection_security_policy: 'mutual_tls',
      destination_app: service,
      destination_canonical_revision: 'v1',
      destination_canonical_service: service,
      destination_cluster: 'Kubernetes',
      destination_principal: `spiffe://cluster.local/ns/${namespace}/sa/bookinfo-${service}`,
      destination_service: `${service}.${namespace}.svc.cluster.local`,
      destination_service_name: service,
      destination_service_namespace: namespace,
      destination_version: 'v1',
      destination_workload: workload,
      destination_workload_namespace: namespace,
      instance: '10.244.0.17:15020',
      job: 'kubernetes-pods',
      namespace,
      pod: `${workload}-6c7d9f8b5d-x2x7k`,
      reporter: 'destination',
      request_protocol: 'http',
      response_code: '200',
      response_flags: '-',
      source_app: 'productpage',
      source_canonical_revision: 'v1',
      source_canonical_service: 'productpage',
      source_cluster: 'Kubernetes',
      source_principal: `spiffe://cluster.local/ns/${namespace}/sa/bookinfo-productpage`,
      source_version: 'v1',
      source_workload: 'productpage-v1',
      source_workload_namespace: namespace,
      ...extra,
    },
    value: [1767261660.321, value],
  };
}
const vector = (result: unknown[]) => ok({ status: 'success', data: { resultType: 'vector', result } });
const byService = (service: string, value: string) => ({ metric: { destination_service: `${service}.bookinfo.svc.cluster.local` }, value: [1767261660.321, value] });

describe('the Prometheus readers', () => {
  it('read an error envelope as its errorType, and say what else an answer was', () => {
    const error = { status: 400, body: '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:6: parse error: unexpected \\"{\\""}' };
    expect(parsePromVector(error)).toEqual({ ok: false, classification: 'Prometheus error bad_data: invalid parameter "query": 1:6: parse error: unexpected "{"' });
    expect(parsePromVector({ status: 503, body: 'Service Unavailable' })).toEqual({ ok: false, classification: 'HTTP 503: Service Unavailable' });
    expect(parsePromVector({ status: 0, body: '', error: 'connect ECONNREFUSED 127.0.0.1:9090' })).toEqual({ ok: false, classification: 'no answer: connect ECONNREFUSED 127.0.0.1:9090' });
    expect(parsePromVector(ok({ status: 'success', data: { resultType: 'matrix', result: [] } }))).toEqual({ ok: false, classification: 'not an instant vector from Prometheus: data.resultType: matrix, not vector' });
    expect(parsePromVector({ status: 200, body: '<html>Grafana</html>' })).toEqual({ ok: false, classification: 'not JSON: <html>Grafana</html>' });
    expect(parsePromVector(ok({ data: [] }))).toMatchObject({ ok: false, classification: /^not an instant vector from Prometheus: status: / });
    expect(parsePromVector(vector([byService('ratings', '+Inf')]))).toEqual({ ok: true, value: [{ labels: { destination_service: 'ratings.bookinfo.svc.cluster.local' }, value: Infinity }] });
  });

  it('know a Bookinfo service by destination_service, and no other namespace', () => {
    expect(serviceOf({ destination_service: 'reviews.bookinfo.svc.cluster.local' }, 'bookinfo')).toBe('reviews');
    expect(serviceOf({ destination_service: 'reviews.bookinfo.svc.mesh.example' }, 'bookinfo')).toBe('reviews');
    expect(serviceOf({ destination_service: 'reviews.other.svc.cluster.local' }, 'bookinfo')).toBeUndefined();
    expect(serviceOf({ destination_service: 'unknown' }, 'bookinfo')).toBeUndefined();
  });

  it('pass the request rate when every service has a rate above 0, summed over its series', () => {
    const answer = vector([
      istioSeries('productpage', { source_workload: 'istio-ingressgateway' }, '0.6666666666666666'),
      istioSeries('details', {}, '0.6666666666666666'),
      istioSeries('reviews', { destination_version: 'v1', destination_workload: 'reviews-v1' }, '0'),
      istioSeries('reviews', { destination_version: 'v3', destination_workload: 'reviews-v3' }, '0.2'),
      istioSeries('ratings', { source_workload: 'reviews-v2' }, '0.43333333333333335'),
      istioSeries('httpbin', {}, '1', 'other'),
    ]);
    const reading = readPositivePerService(answer, bookinfo, 'a rate above 0');
    expect(reading).toEqual({ pass: true, classification: 'a rate above 0 for details, productpage, ratings, reviews', expected: 'a rate above 0 for details, productpage, ratings, reviews', withData: ['productpage', 'details', 'reviews', 'ratings'] });
  });

  it('fail it naming the services without a rate, and what they had', () => {
    const answer = vector([istioSeries('productpage', {}, '0.6'), istioSeries('details', {}, '0'), istioSeries('reviews', {}, '0.6')]);
    const reading = readPositivePerService(answer, bookinfo, 'a rate above 0');
    expect(reading.pass).toBe(false);
    expect(reading.classification).toBe('details: 0; ratings: no series — a rate above 0 only for productpage, reviews');
    expect(reading.withData).toEqual(['productpage', 'reviews']);
  });

  it('pass a P99 per service only when every one is a number, and name the NaN of a service without requests', () => {
    const all = vector([byService('productpage', '48.5'), byService('details', '4.95'), byService('reviews', '24.75'), byService('ratings', '4.9')]);
    expect(readFinitePerService(all, bookinfo, 'a P99')).toMatchObject({ pass: true, classification: 'a P99 for details, productpage, ratings, reviews' });
    const idle = vector([byService('productpage', '48.5'), byService('details', '4.95'), byService('reviews', '24.75'), byService('ratings', 'NaN')]);
    expect(readFinitePerService(idle, bookinfo, 'a P99')).toMatchObject({ pass: false, classification: 'ratings: NaN — a P99 only for details, productpage, reviews' });
  });

  it('count a service without 5xx as answered by the error rate when it had traffic: the healthy answer is empty', () => {
    const empty = vector([]);
    const traffic = ['productpage', 'details', 'reviews', 'ratings'];
    expect(readErrorRatioPerService(empty, bookinfo, traffic, 'an error rate')).toMatchObject({ pass: true, classification: 'an error rate for details, productpage, ratings, reviews' });
    expect(errorRatios(empty, 'bookinfo')).toEqual({});
    const someErrors = vector([byService('ratings', '0.1'), byService('productpage', '0')]);
    expect(readErrorRatioPerService(someErrors, bookinfo, traffic, 'an error rate').pass).toBe(true);
    expect(errorRatios(someErrors, 'bookinfo')).toEqual({ ratings: 0.1, productpage: 0 });
    expect(errorRatios({ status: 0, body: '', error: 'timeout' }, 'bookinfo')).toBeUndefined();
  });

  it('fail the error rate of a service that had no traffic (0/0), or whose ratio is not a number', () => {
    const reading = readErrorRatioPerService(vector([byService('details', 'NaN')]), bookinfo, ['productpage', 'details', 'reviews'], 'an error rate');
    expect(reading).toMatchObject({ pass: false, classification: 'details: NaN; ratings: no series and no traffic counted' });
  });

  it('say which series an answer expected to be empty held, and treat only a missing vector as no answer', () => {
    expect(readSeriesPresence(vector([]))).toEqual({ answered: true, classification: 'no series', series: 0 });
    const mongo = { metric: { destination_service: 'mongodb.bookinfo.svc.cluster.local' }, value: [1767261660.3, '512.4'] };
    expect(readSeriesPresence(vector([mongo]))).toEqual({ answered: true, classification: '1 series: mongodb.bookinfo.svc.cluster.local', series: 1 });
    expect(readSeriesPresence({ status: 0, body: '', error: 'timeout' })).toEqual({ answered: false, classification: 'no answer: timeout', series: 0 });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Grafana

const folder = { folderId: 1, folderUid: 'b2c0e1f4-istio', folderTitle: 'istio', folderUrl: '/dashboards/f/b2c0e1f4-istio/istio' };
/** inFolder null: a dashboard at the root (Grafana's General), which has no folder fields. */
function hit(title: string, uid: string, inFolder: typeof folder | null = folder) {
  const slug = title.toLowerCase().replace(/ /g, '-');
  return { id: uid.length, uid, orgId: 1, title, uri: `db/${slug}`, url: `/d/${uid}/${slug}`, slug: '', type: 'dash-db', tags: [], isStarred: false, sortMeta: 0, ...(inFolder ?? {}) };
}
const istioDashboards = [
  hit('Istio Control Plane Dashboard', '1813f692a8e4ac77155348d4c7d2fba8'),
  hit('Istio Mesh Dashboard', '1a9a8ea49444aae205c7737573e894f9'),
  hit('Istio Performance Dashboard', 'c6a5b2e8-perf'),
  hit('Istio Service Dashboard', 'LJ_uJAvmk'),
  hit('Istio Workload Dashboard', 'UbsSZTDik'),
];
const four = labDashboards;

describe('the Grafana readers', () => {
  it('find every title as a dashboard in folder istio, with its uid', () => {
    const folderHit = { id: 1, uid: 'b2c0e1f4-istio', title: 'istio', uri: 'db/istio', url: '/dashboards/f/b2c0e1f4-istio/istio', slug: '', type: 'dash-folder', tags: [], isStarred: false };
    const reading = readDashboardsInFolder(ok([folderHit, ...istioDashboards]), four);
    expect(reading).toMatchObject({ pass: true, classification: 'all 4 in folder istio', expected: 'all 4 in folder istio' });
    expect(reading.uids).toEqual({
      'Istio Mesh Dashboard': '1a9a8ea49444aae205c7737573e894f9',
      'Istio Service Dashboard': 'LJ_uJAvmk',
      'Istio Workload Dashboard': 'UbsSZTDik',
      'Istio Control Plane Dashboard': '1813f692a8e4ac77155348d4c7d2fba8',
    });
  });

  it('name a dashboard missing, one at the root (General), and a title that is only close', () => {
    const hits = [
      hit('Istio Mesh Dashboard', '1a9a8ea49444aae205c7737573e894f9'),
      hit('Istio Service Dashboard', 'LJ_uJAvmk', null),
      hit('Istio Workload dashboard', 'UbsSZTDik'),
    ];
    const reading = readDashboardsInFolder(ok(hits), four);
    expect(reading.pass).toBe(false);
    expect(reading.classification).toBe(
      'Istio Service Dashboard: in folder General; Istio Workload Dashboard: not found; Istio Control Plane Dashboard: not found — dashboards found: ' +
        'Istio Mesh Dashboard (istio), Istio Service Dashboard (General) and Istio Workload dashboard (istio)',
    );
    expect(reading.uids).toEqual({ 'Istio Mesh Dashboard': '1a9a8ea49444aae205c7737573e894f9' });
    expect(readDashboardsInFolder({ status: 401, body: '{"message":"Unauthorized"}' }, four).classification).toBe('HTTP 401: {"message":"Unauthorized"}');
  });

  const dashboard = (title: string, panels: unknown[], extra: Record<string, unknown> = {}) => ({
    dashboard: { id: 3, uid: '1a9a8ea49444aae205c7737573e894f9', title, tags: [], timezone: 'browser', schemaVersion: 39, version: 1, editable: false, panels, ...extra },
    meta: { type: 'db', canSave: true, canEdit: true, slug: 'istio-mesh-dashboard', url: '/d/1a9a8ea49444aae205c7737573e894f9/istio-mesh-dashboard', provisioned: true, folderId: 1, folderUid: 'b2c0e1f4-istio', folderTitle: 'istio' },
  });
  const stat = (title: string) => ({ id: title.length, type: 'stat', title, gridPos: { h: 3, w: 6, x: 0, y: 0 }, targets: [{ expr: 'round(sum(irate(istio_requests_total{reporter="source"}[1m])), 0.001)', refId: 'A' }] });

  it('count panels through rows, collapsed ones included, and in the old rows[] schema', () => {
    expect(countPanels([{ type: 'row', panels: [] }, stat('Global Request Volume'), { type: 'row', panels: [stat('a'), stat('b')] }] as never)).toBe(3);
    const mesh = dashboard('Istio Mesh Dashboard', [{ id: 1, type: 'row', title: 'Global', collapsed: false, panels: [] }, stat('Global Request Volume'), stat('Global Success Rate (non-5xx responses)')]);
    expect(readDashboardPanels(ok(mesh), 'Istio Mesh Dashboard')).toEqual({ pass: true, classification: 'has panels', expected: 'has panels', panels: 2 });
    const old = dashboard('Istio Mesh Dashboard', [], { panels: undefined, rows: [{ title: 'Row', panels: [stat('Requests')] }] });
    expect(readDashboardPanels(ok(old), 'Istio Mesh Dashboard').panels).toBe(1);
  });

  it('fail a dashboard with only empty rows, another title, or a 404', () => {
    expect(readDashboardPanels(ok(dashboard('Istio Service Dashboard', [{ type: 'row', collapsed: true, panels: [] }])), 'Istio Service Dashboard')).toMatchObject({ pass: false, classification: 'no panels' });
    expect(readDashboardPanels(ok(dashboard('Istio Mesh', [stat('x')])), 'Istio Mesh Dashboard').classification).toBe('the dashboard is titled "Istio Mesh"');
    expect(readDashboardPanels({ status: 404, body: '{"message":"Dashboard not found"}' }, 'Istio Mesh Dashboard').classification).toBe('HTTP 404: {"message":"Dashboard not found"}');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Jaeger

describe('the Jaeger readers', () => {
  it('find productpage.bookinfo among the services, and say which there are when it is not', () => {
    const services = { data: ['details.bookinfo', 'istio-ingressgateway.istio-system', 'productpage.bookinfo', 'ratings.bookinfo', 'reviews.bookinfo'], total: 5, limit: 0, offset: 0, errors: null };
    expect(readJaegerServices(ok(services), 'productpage.bookinfo')).toEqual({ pass: true, classification: 'lists productpage.bookinfo', expected: 'lists productpage.bookinfo' });
    const early = { data: ['istio-ingressgateway.istio-system'], total: 1, limit: 0, offset: 0, errors: null };
    expect(readJaegerServices(ok(early), 'productpage.bookinfo').classification).toBe('no productpage.bookinfo among 1 services: istio-ingressgateway.istio-system');
    expect(readJaegerServices(ok({ data: null, total: 0, limit: 0, offset: 0, errors: null }), 'productpage.bookinfo').classification).toBe('no productpage.bookinfo among 0 services: none');
  });

  const process = (serviceName: string, ip: string) => ({ serviceName, tags: [{ key: 'hostname', type: 'string', value: `${serviceName.split('.')[0]}-v1-7d4c9b8f6-p8r6t` }, { key: 'ip', type: 'string', value: ip }] });
  const span = (traceID: string, spanID: string, processID: string, operationName: string, parent: string | undefined, url: string, kind: 'client' | 'server', startTime: number, duration: number) => ({
    traceID,
    spanID,
    flags: 1,
    operationName,
    references: parent ? [{ refType: 'CHILD_OF', traceID, spanID: parent }] : [],
    startTime,
    duration,
    tags: [
      { key: 'component', type: 'string', value: 'proxy' },
      { key: 'span.kind', type: 'string', value: kind },
      { key: 'http.method', type: 'string', value: 'GET' },
      { key: 'http.url', type: 'string', value: url },
      { key: 'http.status_code', type: 'string', value: '200' },
      { key: 'response_flags', type: 'string', value: '-' },
    ],
    logs: [],
    processID,
    warnings: null,
  });
  /** A /productpage request through the gateway with every sidecar's span, as Istio reports it to Jaeger. */
  function productpageTrace(traceID: string, options: { propagated?: boolean } = {}) {
    const t = 1_767_261_600_000_000;
    const spans = [
      span(traceID, 'a1b2c3d4e5f60001', 'p1', 'productpage.bookinfo.svc.cluster.local:9080/productpage', undefined, 'http://127.0.0.1:8080/productpage', 'client', t, 48_211),
      span(traceID, 'a1b2c3d4e5f60002', 'p2', 'productpage.bookinfo.svc.cluster.local:9080/productpage', 'a1b2c3d4e5f60001', 'http://127.0.0.1:8080/productpage', 'server', t + 310, 47_120),
      span(traceID, 'a1b2c3d4e5f60003', 'p2', 'details.bookinfo.svc.cluster.local:9080/*', 'a1b2c3d4e5f60002', 'http://details:9080/details/0', 'client', t + 2_100, 3_504),
      span(traceID, 'a1b2c3d4e5f60005', 'p2', 'reviews.bookinfo.svc.cluster.local:9080/*', 'a1b2c3d4e5f60002', 'http://reviews:9080/reviews/0', 'client', t + 6_020, 30_877),
    ];
    // Without header propagation in productpage, details' and reviews' sidecars start traces of their own.
    if (options.propagated !== false) {
      spans.push(
        span(traceID, 'a1b2c3d4e5f60004', 'p3', 'details.bookinfo.svc.cluster.local:9080/*', 'a1b2c3d4e5f60003', 'http://details:9080/details/0', 'server', t + 2_400, 2_811),
        span(traceID, 'a1b2c3d4e5f60006', 'p4', 'reviews.bookinfo.svc.cluster.local:9080/*', 'a1b2c3d4e5f60005', 'http://reviews:9080/reviews/0', 'server', t + 6_330, 30_102),
        span(traceID, 'a1b2c3d4e5f60007', 'p4', 'ratings.bookinfo.svc.cluster.local:9080/*', 'a1b2c3d4e5f60006', 'http://ratings:9080/ratings/0', 'client', t + 20_500, 2_950),
        span(traceID, 'a1b2c3d4e5f60008', 'p5', 'ratings.bookinfo.svc.cluster.local:9080/*', 'a1b2c3d4e5f60007', 'http://ratings:9080/ratings/0', 'server', t + 20_800, 2_401),
      );
    }
    return {
      traceID,
      spans,
      processes: {
        p1: process('istio-ingressgateway.istio-system', '10.244.0.9'),
        p2: process('productpage.bookinfo', '10.244.0.21'),
        p3: process('details.bookinfo', '10.244.0.15'),
        p4: process('reviews.bookinfo', '10.244.0.18'),
        p5: process('ratings.bookinfo', '10.244.0.16'),
      },
      warnings: null,
    };
  }
  const traces = (...data: unknown[]) => ok({ data, total: data.length, limit: 0, offset: 0, errors: null });
  const endToEnd = {
    path: '/productpage',
    calls: [
      ['productpage.bookinfo', 'details.bookinfo'],
      ['productpage.bookinfo', 'reviews.bookinfo'],
    ] as const,
  };

  it('read the calls a trace crosses through its parent links, and whether it is of a /productpage request', () => {
    const trace = productpageTrace('4bf92f3577b34da6a3ce929d0e0e4736') as JaegerTrace;
    expect(traceCalls(trace)).toEqual([
      'istio-ingressgateway.istio-system → productpage.bookinfo',
      'productpage.bookinfo → details.bookinfo',
      'productpage.bookinfo → reviews.bookinfo',
      'reviews.bookinfo → ratings.bookinfo',
    ]);
    expect(traceIsRequestFor(trace, '/productpage')).toBe(true);
    expect(traceIsRequestFor(trace, '/api/v1/products')).toBe(false);
    const byUrlOnly = { ...trace, spans: trace.spans.map((s) => ({ ...s, operationName: 'ingress' })) };
    expect(traceIsRequestFor(byUrlOnly, '/productpage')).toBe(true);
  });

  it('pass when one /productpage trace crosses productpage → details and productpage → reviews', () => {
    const reading = readEndToEndTrace(traces(productpageTrace('4bf92f3577b34da6a3ce929d0e0e4736', { propagated: false }), productpageTrace('0af7651916cd43dd8448eb211c80319c')), endToEnd);
    expect(reading).toEqual({
      pass: true,
      classification: 'a /productpage trace crosses productpage.bookinfo → details.bookinfo and productpage.bookinfo → reviews.bookinfo',
      expected: 'a /productpage trace crosses productpage.bookinfo → details.bookinfo and productpage.bookinfo → reviews.bookinfo',
      traces: 2,
      matching: 1,
    });
  });

  it('fail when the calls never join one trace (no header propagation), and say what the closest trace had', () => {
    const reading = readEndToEndTrace(traces(productpageTrace('4bf92f3577b34da6a3ce929d0e0e4736', { propagated: false })), endToEnd);
    expect(reading.pass).toBe(false);
    expect(reading.classification).toBe(
      '1 /productpage traces, none crosses productpage.bookinfo → details.bookinfo and productpage.bookinfo → reviews.bookinfo; the closest ' +
        '(4bf92f3577b34da6a3ce929d0e0e4736) misses productpage.bookinfo → details.bookinfo and productpage.bookinfo → reviews.bookinfo ' +
        'and crosses istio-ingressgateway.istio-system → productpage.bookinfo',
    );
  });

  it('fail with no traces, or traces of other requests only', () => {
    expect(readEndToEndTrace(ok({ data: [], total: 0, limit: 0, offset: 0, errors: null }), endToEnd).classification).toBe('no traces yet');
    const api = productpageTrace('5b8aa5a2d2c872e8321cf37308d69df2') as JaegerTrace;
    const reviewsApi = { ...api, spans: api.spans.map((s) => ({ ...s, operationName: s.operationName.replace('/productpage', '/api/v1/products/0/reviews'), tags: [] })) };
    expect(readEndToEndTrace(traces(reviewsApi), endToEnd).classification).toBe('1 traces, none of a /productpage request');
    expect(readEndToEndTrace({ status: 404, body: '404 page not found\n' }, endToEnd).classification).toBe('HTTP 404: 404 page not found');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Kiali

describe('the Kiali readers', () => {
  it('read "Kiali state" from /kiali/api/status', () => {
    const status = {
      status: { 'Kiali commit hash': '6d0a8c1b', 'Kiali container version': 'v2.26.0', 'Kiali state': 'running', 'Kiali version': 'v2.26.0', 'Disabled features': '' },
      externalServices: [
        { name: 'Prometheus', version: '3.10.0', url: 'http://prometheus.istio-system:9090' },
        { name: 'Kubernetes', version: 'v1.36.4' },
        { name: 'Grafana', version: '12.0.1', url: 'http://localhost:3000' },
        { name: 'jaeger', version: '2.14.0', url: 'http://localhost:16686/jaeger' },
      ],
      warningMessages: [],
      istioEnvironment: { istioAPIEnabled: true },
    };
    expect(readKialiStatus(ok(status))).toEqual({ pass: true, classification: 'Kiali state: running', expected: 'Kiali state: running' });
    expect(readKialiStatus(ok({ ...status, status: { 'Kiali version': 'v2.26.0' } })).classification).toBe('Kiali state: not reported');
    expect(readKialiStatus({ status: 502, body: '' }).classification).toBe('HTTP 502: empty body');
  });

  const hash = (id: string) => createHash('sha256').update(id).digest('hex');
  const node = (namespace: string, app: string, version?: string, extra: Record<string, unknown> = {}) => ({
    data: {
      id: hash(`${namespace}_${app}_${version ?? ''}`),
      ...(version && { parent: hash(`box_${namespace}_${app}`) }),
      nodeType: 'app',
      cluster: 'Kubernetes',
      namespace,
      workload: version ? `${app}-${version}` : app,
      app,
      ...(version && { version }),
      traffic: [{ protocol: 'http', rates: { httpIn: '0.67', httpOut: '0.67' } }],
      healthData: null,
      ...extra,
    },
  });
  const box = (app: string) => ({ data: { id: hash(`box_bookinfo_${app}`), nodeType: 'box', cluster: 'Kubernetes', namespace: 'bookinfo', app, isBox: 'app', healthData: null } });
  /** isMTLS null: the edge carried no mTLS traffic, so Kiali leaves the field out. */
  const edge = (from: { data: { id: string } }, to: { data: { id: string } }, rate: string | undefined, isMTLS: string | null = '100') => ({
    data: {
      id: hash(`${from.data.id}.${to.data.id}.http`),
      source: from.data.id,
      target: to.data.id,
      destPrincipal: 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-details',
      sourcePrincipal: 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage',
      responseTime: '12',
      throughput: '1804',
      ...(isMTLS && { isMTLS }),
      traffic: { protocol: 'http', ...(rate && { rates: { http: rate, httpPercentReq: '100.0' } }), responses: { '200': { flags: { '-': '100.0' }, hosts: { 'details.bookinfo.svc.cluster.local': '100.0' } } } },
    },
  });
  const gateway = node('istio-system', 'istio-ingressgateway', 'latest', { isOutside: true, isRoot: true, isGateway: { ingressInfo: { hostnames: ['*'] } } });
  const productpage = node('bookinfo', 'productpage', 'v1');
  const details = node('bookinfo', 'details', 'v1');
  const [reviewsV1, reviewsV2, reviewsV3] = (['v1', 'v2', 'v3'] as const).map((v) => node('bookinfo', 'reviews', v));
  const ratings = node('bookinfo', 'ratings', 'v1');
  const graph = (edges: unknown[]) =>
    ok({
      timestamp: 1767261660,
      duration: 60,
      graphType: 'versionedApp',
      elements: { nodes: [box('details'), box('productpage'), box('ratings'), box('reviews'), gateway, details, productpage, ratings, reviewsV1, reviewsV2, reviewsV3], edges },
    });
  const healthyEdges = [
    edge(gateway, productpage, '0.67'),
    edge(productpage, details, '0.67'),
    edge(productpage, reviewsV1!, '0.23'),
    edge(productpage, reviewsV2!, '0.22'),
    edge(productpage, reviewsV3!, '0.22'),
    edge(reviewsV2!, ratings, '0.22'),
    edge(reviewsV3!, ratings, '0.22'),
  ];
  const lab = labGraph;

  it('resolve hashed node ids to names, with string rates and isMTLS as numbers', () => {
    const parsed = JSON.parse(graph([edge(gateway, productpage, '0.67'), edge(productpage, reviewsV2!, undefined, null)]).body) as never;
    expect(graphEdges(parsed)).toEqual([
      { from: { namespace: 'istio-system', app: 'istio-ingressgateway', version: 'latest' }, to: { namespace: 'bookinfo', app: 'productpage', version: 'v1' }, protocol: 'http', rate: 0.67, mtlsPercent: 100 },
      { from: { namespace: 'bookinfo', app: 'productpage', version: 'v1' }, to: { namespace: 'bookinfo', app: 'reviews', version: 'v2' }, protocol: 'http', rate: 0, mtlsPercent: 0 },
    ]);
  });

  it('pass a graph with every lab edge live and over mutual TLS', () => {
    const { live, mtls } = readGraphEdges(graph(healthyEdges), lab);
    expect(live).toEqual({
      pass: true,
      classification: 'live traffic on productpage → details, productpage → reviews, reviews-v2 → ratings and reviews-v3 → ratings',
      expected: 'live traffic on productpage → details, productpage → reviews, reviews-v2 → ratings and reviews-v3 → ratings',
    });
    expect(mtls).toMatchObject({ pass: true, classification: 'mutual TLS on productpage → details, productpage → reviews, reviews-v2 → ratings and reviews-v3 → ratings' });
  });

  it('fail a missing edge and an edge without traffic, listing the edges there are', () => {
    const edges = healthyEdges.filter((e) => e.data.source !== reviewsV3!.data.id).map((e) => (e.data.target === details.data.id ? edge(productpage, details, undefined) : e));
    const { live, mtls } = readGraphEdges(graph(edges), lab);
    expect(live.pass).toBe(false);
    expect(live.classification).toMatch(/^productpage → details: no traffic \(rate 0\); reviews-v3 → ratings: no edge — edges: istio-ingressgateway-latest\.istio-system → productpage-v1 \(0\.67\/s, mTLS 100 %\), productpage-v1 → details-v1 \(0\/s, mTLS 100 %\), /);
    expect(mtls.classification).toMatch(/^productpage → details: no live edge; reviews-v3 → ratings: no live edge — edges: /);
  });

  it('fail mutual TLS on an edge that carried plaintext, wholly or in part', () => {
    const edges = healthyEdges.map((e) => (e.data.target === ratings.data.id && e.data.source === reviewsV2!.data.id ? edge(reviewsV2!, ratings, '0.22', null) : e.data.target === reviewsV1!.data.id ? edge(productpage, reviewsV1!, '0.23', '67') : e));
    const { live, mtls } = readGraphEdges(graph(edges), lab);
    expect(live.pass).toBe(true);
    expect(mtls.pass).toBe(false);
    expect(mtls.classification).toMatch(/^productpage-v1 → reviews-v1: isMTLS 67 %; reviews-v2 → ratings-v1: no isMTLS \(no mTLS seen\) — edges: /);
  });

  it('fail an empty graph (no traffic yet) and an answer that is not a graph', () => {
    const empty = ok({ timestamp: 1767261660, duration: 60, graphType: 'versionedApp', elements: { nodes: [], edges: [] } });
    expect(readGraphEdges(empty, lab).live.classification).toBe(
      'productpage → details: no edge; productpage → reviews: no edge; reviews-v2 → ratings: no edge; reviews-v3 → ratings: no edge — edges: none',
    );
    expect(readGraphEdges(ok({ error: 'namespace bookinfo is not accessible' }), lab).live.classification).toBe("not Kiali's graph answer: elements: Invalid input: expected object, received undefined");
  });
});
