import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Answered } from '../../../helpers/observe/addons/answer.ts';
import { graphEdges, kialiApi, parseKialiGraph, parseValidations, parseWorkloads, readGraphEdges, readKialiStatus } from '../../../helpers/observe/addons/kiali.ts';
import { labGraph } from '../../../helpers/suite/observability-steps.ts';

/** The Kiali readers on its status and cytoscape graph (hashed node ids, string rates), healthy and broken. */
const ok = (body: unknown): Answered => ({ status: 200, body: JSON.stringify(body) });

describe('kialiApi', () => {
  it('asks under /kiali, and for the graph without service nodes', () => {
    expect(kialiApi.status('http://k:20001')).toBe('http://k:20001/kiali/api/status');
    expect(kialiApi.graph('http://k:20001', { namespace: 'bookinfo', graphType: 'versionedApp', durationSeconds: 60 })).toBe(
      'http://k:20001/kiali/api/namespaces/graph?namespaces=bookinfo&graphType=versionedApp&duration=60s&injectServiceNodes=false',
    );
  });
});

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
      {
        from: { namespace: 'istio-system', app: 'istio-ingressgateway', version: 'latest', nodeType: 'app' },
        to: { namespace: 'bookinfo', app: 'productpage', version: 'v1', nodeType: 'app' },
        protocol: 'http',
        rate: 0.67,
        errorRate: 0,
        mtlsPercent: 100,
      },
      { from: { namespace: 'bookinfo', app: 'productpage', version: 'v1', nodeType: 'app' }, to: { namespace: 'bookinfo', app: 'reviews', version: 'v2', nodeType: 'app' }, protocol: 'http', rate: 0, errorRate: 0, mtlsPercent: 0 },
    ]);
  });

  it("add up an edge's error rates (4xx, 5xx, no response), and read the graph's window", () => {
    const abort = edge(reviewsV2!, ratings, '2.00');
    abort.data.traffic.rates = { http: '2.00', http5xx: '0.18', http4xx: '0.02', httpNoResponse: '0.01', httpPercentErr: '10.5' } as never;
    const read = parseKialiGraph({ status: 200, body: JSON.stringify({ ...JSON.parse(graph([abort]).body), duration: 45 }) });
    expect(read.ok && read.value.durationSeconds).toBe(45);
    expect(read.ok && read.value.edges[0]!.errorRate).toBeCloseTo(0.21, 10);
  });

  it('read the validations summary (an array) and the workloads list, and say what else they got', () => {
    const summary = [{ errors: 0, warnings: 2, objectCount: 7, namespace: 'bookinfo', cluster: 'Kubernetes' }];
    expect(parseValidations(ok(summary))).toEqual({ ok: true, value: summary });
    expect(parseValidations(ok(summary[0]))).toMatchObject({ ok: false, classification: expect.stringMatching(/^not Kiali's validations summary: /) });
    const item = { name: 'ratings-v1', namespace: 'bookinfo', istioSidecar: true, podCount: 1, isGateway: false, labels: { app: 'ratings' } };
    expect(parseWorkloads(ok({ cluster: 'Kubernetes', workloads: [item], validations: {} }))).toEqual({ ok: true, value: [{ name: 'ratings-v1', namespace: 'bookinfo', istioSidecar: true, podCount: 1, isGateway: false }] });
    expect(kialiApi.validations('http://k:20001/', 'bookinfo')).toBe('http://k:20001/kiali/api/istio/validations?namespaces=bookinfo');
    expect(kialiApi.workloads('http://k:20001', 'bookinfo')).toBe('http://k:20001/kiali/api/clusters/workloads?namespaces=bookinfo&health=false&istioResources=false');
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
