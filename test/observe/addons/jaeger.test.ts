import { describe, expect, it } from 'vitest';
import type { Answered } from '../../../helpers/observe/addons/answer.ts';
import { jaegerApi, readEndToEndTrace, readJaegerServices, readTraceById, traceCalls, traceIsRequestFor, type JaegerTrace } from '../../../helpers/observe/addons/jaeger.ts';

/** The Jaeger readers on answers written from its structured responses and trace JSON, healthy and broken. */
const ok = (body: unknown): Answered => ({ status: 200, body: JSON.stringify(body) });

describe('jaegerApi', () => {
  it('asks under /jaeger, with the time window in microseconds', () => {
    expect(jaegerApi.services('http://j:16686')).toBe('http://j:16686/jaeger/api/services');
    expect(jaegerApi.traces('http://j:16686', { service: 'productpage.bookinfo', limit: 20, startMs: 1_767_261_600_000, endMs: 1_767_261_660_500 })).toBe(
      'http://j:16686/jaeger/api/traces?service=productpage.bookinfo&limit=20&start=1767261600000000&end=1767261660500000',
    );
  });
});

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

describe('one trace by its id', () => {
  const id = '4bf92f3577b34da6a3ce929d0e0e4736';
  const tag = (key: string, value: unknown) => ({ key, type: typeof value === 'boolean' ? 'bool' : 'string', value });
  const trace = {
    traceID: id,
    spans: [
      { traceID: id, spanID: 'b2', operationName: 'ratings.bookinfo.svc.cluster.local:9080/*', references: [{ refType: 'CHILD_OF', traceID: id, spanID: 'a1' }], startTime: 2_000, duration: 7_001_000, processID: 'p1', logs: [],
        tags: [tag('upstream_cluster', 'outbound|9080|v1|ratings.bookinfo.svc.cluster.local'), tag('response_flags', 'DI'), tag('error', false), tag('node_id', 'sidecar~10.244.0.9~reviews-v2-x.bookinfo~bookinfo.svc.cluster.local'), tag('istio.canonical_revision', 'v2')] },
      // Its parent is productpage's own span, which no proxy reported: the reference is kept out.
      { traceID: id, spanID: 'a1', operationName: 'reviews.bookinfo.svc.cluster.local:9080/*', references: [{ refType: 'CHILD_OF', traceID: id, spanID: 'ff' }], startTime: 1_000, duration: 3_000_000, processID: 'p2', logs: [], tags: [] },
    ],
    processes: { p1: { serviceName: 'reviews.bookinfo', tags: [] }, p2: { serviceName: 'productpage.bookinfo', tags: [] } },
  };

  it('asks under /jaeger and keeps the spans in order of start, with their parent in the trace and the tags a verdict reads', () => {
    expect(jaegerApi.trace('http://j:16686/', id)).toBe(`http://j:16686/jaeger/api/traces/${id}`);
    const read = readTraceById(ok({ data: [trace], total: 1, limit: 0, offset: 0, errors: null }), id);
    expect(read.classification).toBe(`trace ${id}: 2 spans`);
    expect(read.spans).toEqual([
      { spanID: 'a1', service: 'productpage.bookinfo', operation: 'reviews.bookinfo.svc.cluster.local:9080/*', startUs: 1_000, durationUs: 3_000_000, tags: {} },
      {
        spanID: 'b2',
        parentSpanID: 'a1',
        service: 'reviews.bookinfo',
        operation: 'ratings.bookinfo.svc.cluster.local:9080/*',
        startUs: 2_000,
        durationUs: 7_001_000,
        tags: { upstream_cluster: 'outbound|9080|v1|ratings.bookinfo.svc.cluster.local', response_flags: 'DI', error: 'false', 'istio.canonical_revision': 'v2' },
      },
    ]);
  });

  it('reads a 404 as a trace Jaeger does not hold yet, and an answer it cannot read as what it held', () => {
    expect(readTraceById({ status: 404, body: '{"data":null,"errors":[{"code":404,"msg":"trace not found"}]}' }, id)).toEqual({ spans: [], classification: `no trace ${id} yet` });
    expect(readTraceById({ status: 0, body: '', error: 'ECONNREFUSED' }, id).classification).toBe('no answer: ECONNREFUSED');
  });
});
