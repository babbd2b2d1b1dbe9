/**
 * Kiali: its status, the edges of the namespace graph, its Istio config validations and its workloads list. The
 * shapes are kiali/kiali@v2.26.0 status/status.go (the status), graph/config/common/common.go (the graph),
 * models/istio_validation.go IstioValidationSummary (the validations), models/workload.go ClusterWorkloads and
 * WorkloadListItem (the workloads), and routing/router.go (the /kiali prefix of every route); v2.27.0, which
 * Istio 1.31's samples install, has the same shapes and routes. v2.26 is what istio/istio@1.30.3
 * samples/addons/kiali.yaml installs.
 */
import { z } from 'zod';
import { listed, parseAnswer, reading, shortNumber, withoutTrailingSlash, type Answered, type Parsed, type Reading } from './answer.ts';

export const kialiApi = {
  /** Every Kiali route is under its web_root, /kiali on Kubernetes (routing/router.go). */
  status: (base: string) => `${withoutTrailingSlash(base)}/kiali/api/status`,
  /**
   * The namespace graph. injectServiceNodes=false (the API's default, set explicitly) keeps each edge from one
   * versioned app to the next, productpage-v1 → details-v1, instead of passing through a service node.
   */
  graph: (base: string, q: { namespace: string; graphType: string; durationSeconds: number; queryTimeSeconds?: number }) =>
    `${withoutTrailingSlash(base)}/kiali/api/namespaces/graph?${new URLSearchParams({
      namespaces: q.namespace,
      graphType: q.graphType,
      duration: `${q.durationSeconds}s`,
      injectServiceNodes: 'false',
      // The window's end, unix seconds (graph options' queryTime; default now): a window that closes when the
      // traffic it is about was counted.
      ...(q.queryTimeSeconds !== undefined && { queryTime: String(q.queryTimeSeconds) }),
    })}`,
  /** The error and warning counts of each namespace's Istio objects (handlers/istio_config.go IstioConfigValidationSummary). */
  validations: (base: string, namespace: string) => `${withoutTrailingSlash(base)}/kiali/api/istio/validations?${new URLSearchParams({ namespaces: namespace })}`,
  /**
   * The workloads list. v2.26 and v2.27 have no /api/namespaces/{ns}/workloads: the list is
   * /api/clusters/workloads?namespaces=… (routing/routes.go "ClusterWorkloads"); health and Istio resources are
   * left out, as the sidecar field needs neither.
   */
  workloads: (base: string, namespace: string) =>
    `${withoutTrailingSlash(base)}/kiali/api/clusters/workloads?${new URLSearchParams({ namespaces: namespace, health: 'false', istioResources: 'false' })}`,
};

const kialiStatus = z.object({ status: z.record(z.string(), z.string()) });

/** Reads `/kiali/api/status`: `status["Kiali state"]` is "running" (status/status.go). */
export function readKialiStatus(answer: Answered): Reading {
  const want = 'Kiali state: running';
  const parsed = parseAnswer(answer, kialiStatus, "Kiali's /api/status answer");
  if (!parsed.ok) return reading(want, parsed.classification);
  return reading(want, `Kiali state: ${parsed.value.status['Kiali state'] ?? 'not reported'}`);
}

const kialiNode = z.object({
  data: z.object({
    id: z.string(),
    nodeType: z.string(),
    namespace: z.string(),
    app: z.string().optional(),
    version: z.string().optional(),
    workload: z.string().optional(),
    service: z.string().optional(),
    isBox: z.string().optional(),
  }),
});
const kialiEdge = z.object({
  data: z.object({
    source: z.string(),
    target: z.string(),
    traffic: z.object({ protocol: z.string().optional(), rates: z.record(z.string(), z.string()).optional() }).optional(),
    isMTLS: z.string().optional(),
  }),
});
const kialiGraph = z.object({
  /** The window the rates are averaged over, in seconds. */
  duration: z.number().optional(),
  elements: z.object({ nodes: z.array(kialiNode).nullable().optional(), edges: z.array(kialiEdge).nullable().optional() }),
});

/** One edge as meshproof reads it: its ends by name, its request rate, and its mTLS share. */
export interface GraphEdge {
  from: GraphEnd;
  to: GraphEnd;
  /** Requests (or bytes, for tcp) per second of the edge's protocol; Kiali omits rates of 0. */
  rate: number;
  /**
   * Failed requests per second: Kiali's error rates of the protocol summed (http4xx, http5xx and httpNoResponse
   * for HTTP: graph/protocol.go, the rates marked IsErr).
   */
  errorRate: number;
  protocol: string;
  /** isMTLS, a string percentage present only when mTLS traffic was seen (securityPolicy appender); 0 when absent. */
  mtlsPercent: number;
}
export interface GraphEnd {
  namespace: string;
  app: string;
  version?: string;
  /** app, service (a request that reached no workload: a fault abort), workload, unknown. */
  nodeType?: string;
}

/** The error rates of each protocol (graph/protocol.go: HTTP's http4xx, http5xx, httpNoResponse; gRPC's grpcErr). */
const errorRates: Record<string, string[]> = { http: ['http4xx', 'http5xx', 'httpNoResponse'], grpc: ['grpcErr'] };

/** "productpage-v1", "ratings"; a node from another namespace gets it appended: "istio-ingressgateway.istio-system". */
export function endName(end: GraphEnd, namespace?: string): string {
  const name = end.version && end.version !== 'unknown' ? `${end.app}-${end.version}` : end.app;
  // A caller without a sidecar sends no peer metadata: Kiali's "unknown" node has no namespace to name.
  return namespace === undefined || end.namespace === namespace || end.namespace === 'unknown' ? name : `${name}.${end.namespace}`;
}

/** The graph's edges with their ends resolved: node ids are hashes, so an edge means nothing without its nodes. */
export function graphEdges(graph: z.infer<typeof kialiGraph>): GraphEdge[] {
  const nodes = new Map((graph.elements.nodes ?? []).map(({ data }) => [data.id, data]));
  const end = (id: string): GraphEnd => {
    const node = nodes.get(id);
    if (!node) return { namespace: '?', app: `node ${id.slice(0, 8)}` };
    const app = node.app ?? node.workload ?? node.service ?? node.nodeType;
    return { namespace: node.namespace, app, nodeType: node.nodeType, ...(node.version !== undefined && { version: node.version }) };
  };
  const rateOf = (rates: Record<string, string> | undefined, name: string) => Number(rates?.[name] ?? 0) || 0;
  return (graph.elements.edges ?? []).map(({ data }) => {
    const protocol = data.traffic?.protocol ?? 'http';
    const rates = data.traffic?.rates;
    return {
      from: end(data.source),
      to: end(data.target),
      protocol,
      rate: rateOf(rates, protocol),
      errorRate: (errorRates[protocol] ?? []).reduce((sum, name) => sum + rateOf(rates, name), 0),
      mtlsPercent: Number(data.isMTLS ?? 0) || 0,
    };
  });
}

/** An edge the graph must have: each end an app, "productpage", or an app version, "reviews-v2". */
export interface EdgeSpec {
  from: string;
  to: string;
}
export const specName = (spec: EdgeSpec) => `${spec.from} → ${spec.to}`;

export function endMatches(end: GraphEnd, spec: string, namespace: string): boolean {
  if (end.namespace !== namespace) return false;
  const versioned = /^(.+)-(v\d+)$/.exec(spec);
  return versioned ? end.app === versioned[1] && end.version === versioned[2] : end.app === spec;
}

export interface GraphExpectation {
  namespace: string;
  edges: readonly EdgeSpec[];
}

/**
 * Reads the versionedApp graph of `namespace` twice over: `live` passes when every spec has a matching edge
 * with a rate above 0 (productpage → reviews matches productpage-v1 → reviews-v1, -v2 and -v3 together), and
 * `mtls` when every matching edge with traffic carried mutual TLS only (isMTLS "100").
 */
export function readGraphEdges(answer: Answered, expected: GraphExpectation): { live: Reading; mtls: Reading; edges: GraphEdge[] } {
  const names = listed(expected.edges.map(specName));
  const wantLive = `live traffic on ${names}`;
  const wantMtls = `mutual TLS on ${names}`;
  const parsed = parseAnswer(answer, kialiGraph, "Kiali's graph answer");
  if (!parsed.ok) return { live: reading(wantLive, parsed.classification), mtls: reading(wantMtls, parsed.classification), edges: [] };
  const edges = graphEdges(parsed.value);
  const { namespace } = expected;
  const describe = (e: GraphEdge) => `${endName(e.from, namespace)} → ${endName(e.to, namespace)} (${shortNumber(e.rate)}/s${e.mtlsPercent ? `, mTLS ${e.mtlsPercent} %` : ''})`;
  const seen = ` — edges: ${listed(edges.filter((e) => e.from.namespace === namespace || e.to.namespace === namespace).map(describe), 10)}`;
  const notLive: string[] = [];
  const notMtls: string[] = [];
  for (const spec of expected.edges) {
    const matching = edges.filter((e) => endMatches(e.from, spec.from, namespace) && endMatches(e.to, spec.to, namespace));
    const live = matching.filter((e) => e.rate > 0);
    if (matching.length === 0) notLive.push(`${specName(spec)}: no edge`);
    else if (live.length === 0) notLive.push(`${specName(spec)}: no traffic (rate 0)`);
    if (live.length === 0) notMtls.push(`${specName(spec)}: no live edge`);
    for (const e of live) {
      if (e.mtlsPercent < 100) notMtls.push(`${endName(e.from, namespace)} → ${endName(e.to, namespace)}: ${e.mtlsPercent ? `isMTLS ${e.mtlsPercent} %` : 'no isMTLS (no mTLS seen)'}`);
    }
  }
  return {
    live: reading(wantLive, notLive.length === 0 ? wantLive : `${notLive.join('; ')}${seen}`),
    mtls: reading(wantMtls, notMtls.length === 0 ? wantMtls : `${notMtls.join('; ')}${seen}`),
    edges,
  };
}


/** A graph answer as the judges read it: its edges with their ends resolved, and its window in seconds. */
export interface ReadGraph {
  edges: GraphEdge[];
  durationSeconds: number | undefined;
}

export function parseKialiGraph(answer: Answered): Parsed<ReadGraph> {
  const parsed = parseAnswer(answer, kialiGraph, "Kiali's graph answer");
  return parsed.ok ? { ok: true, value: { edges: graphEdges(parsed.value), durationSeconds: parsed.value.duration } } : parsed;
}

const validationSummary = z.object({ errors: z.number().int(), warnings: z.number().int(), objectCount: z.number().int(), namespace: z.string(), cluster: z.string() });
export type ValidationSummary = z.infer<typeof validationSummary>;

/** `/kiali/api/istio/validations`: one summary per namespace asked for (an array, also for one namespace). */
export function parseValidations(answer: Answered): Parsed<ValidationSummary[]> {
  return parseAnswer(answer, z.array(validationSummary), "Kiali's validations summary");
}

const workloadItem = z.object({
  name: z.string(),
  namespace: z.string(),
  /**
   * Whether the workload's pods run an Envoy sidecar. Kiali says true also for a workload with no pods ("if no
   * pods we can't prove there is no sidecar": models/workload.go HasIstioSidecar), so podCount is read beside it.
   */
  istioSidecar: z.boolean(),
  podCount: z.number().int(),
  isGateway: z.boolean().optional(),
});
export type WorkloadItem = z.infer<typeof workloadItem>;

/** `/kiali/api/clusters/workloads`: `{cluster, workloads: [...], validations}`. */
export function parseWorkloads(answer: Answered): Parsed<WorkloadItem[]> {
  const parsed = parseAnswer(answer, z.object({ cluster: z.string(), workloads: z.array(workloadItem) }), "Kiali's workloads list");
  return parsed.ok ? { ok: true, value: parsed.value.workloads } : parsed;
}
