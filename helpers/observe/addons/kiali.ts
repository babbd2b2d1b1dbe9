/**
 * Kiali: its status, and the edges of the namespace graph. The shapes are kiali/kiali@v2.26.0 status/status.go
 * (the status), graph/config/cytoscape/cytoscape.go (the graph), and routing/router.go (the /kiali prefix of
 * every route). v2.26 is what istio/istio@1.30.3 samples/addons/kiali.yaml installs.
 */
import { z } from 'zod';
import { listed, parseAnswer, reading, shortNumber, withoutTrailingSlash, type Answered, type Reading } from './answer.ts';

export const kialiApi = {
  /** Every Kiali route is under its web_root, /kiali on Kubernetes (routing/router.go). */
  status: (base: string) => `${withoutTrailingSlash(base)}/kiali/api/status`,
  /**
   * The namespace graph. injectServiceNodes=false (the API's default, set explicitly) keeps each edge from one
   * versioned app to the next, productpage-v1 → details-v1, instead of passing through a service node.
   */
  graph: (base: string, q: { namespace: string; graphType: string; durationSeconds: number }) =>
    `${withoutTrailingSlash(base)}/kiali/api/namespaces/graph?${new URLSearchParams({ namespaces: q.namespace, graphType: q.graphType, duration: `${q.durationSeconds}s`, injectServiceNodes: 'false' })}`,
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
  elements: z.object({ nodes: z.array(kialiNode).nullable().optional(), edges: z.array(kialiEdge).nullable().optional() }),
});

/** One edge as meshproof reads it: its ends by name, its request rate, and its mTLS share. */
export interface GraphEdge {
  from: GraphEnd;
  to: GraphEnd;
  /** Requests (or bytes, for tcp) per second of the edge's protocol; Kiali omits rates of 0. */
  rate: number;
  protocol: string;
  /** isMTLS, a string percentage present only when mTLS traffic was seen (securityPolicy appender); 0 when absent. */
  mtlsPercent: number;
}
export interface GraphEnd {
  namespace: string;
  app: string;
  version?: string;
}

/** "productpage-v1", "ratings"; a node from another namespace gets it appended: "istio-ingressgateway.istio-system". */
export function endName(end: GraphEnd, namespace?: string): string {
  const name = end.version && end.version !== 'unknown' ? `${end.app}-${end.version}` : end.app;
  return namespace === undefined || end.namespace === namespace ? name : `${name}.${end.namespace}`;
}

/** The graph's edges with their ends resolved: node ids are hashes, so an edge means nothing without its nodes. */
export function graphEdges(graph: z.infer<typeof kialiGraph>): GraphEdge[] {
  const nodes = new Map((graph.elements.nodes ?? []).map(({ data }) => [data.id, data]));
  const end = (id: string): GraphEnd => {
    const node = nodes.get(id);
    if (!node) return { namespace: '?', app: `node ${id.slice(0, 8)}` };
    const app = node.app ?? node.workload ?? node.service ?? node.nodeType;
    return { namespace: node.namespace, app, ...(node.version !== undefined && { version: node.version }) };
  };
  return (graph.elements.edges ?? []).map(({ data }) => {
    const protocol = data.traffic?.protocol ?? 'http';
    return {
      from: end(data.source),
      to: end(data.target),
      protocol,
      rate: Number(data.traffic?.rates?.[protocol] ?? 0) || 0,
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

function endMatches(end: GraphEnd, spec: string, namespace: string): boolean {
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

