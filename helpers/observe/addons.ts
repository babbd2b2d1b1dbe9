/**
 * The observability add-ons' APIs as meshproof reads them: one GET per question (the only I/O here), and pure
 * readers that turn an answer's status and body into a classification, the string a verdict counts
 * ("lists productpage.bookinfo", "live traffic on productpage → details, …"). A reader passes on exactly one
 * classification per question and, when it fails, says what the answer held instead, so a failed verdict
 * explains itself (as Istio's PromDiff does).
 *
 * Answer shapes, where upstream states them:
 *   - Prometheus: the HTTP API's envelope and result formats (https://prometheus.io/docs/prometheus/latest/querying/api/),
 *     read in helpers/net/prometheus-answer.ts.
 *   - Grafana: the HTTP API docs' Folder/Dashboard Search API (`GET /api/search?query=…&type=dash-db`, hits with uid,
 *     title, type, folderTitle) and Dashboard API ("Get dashboard by uid": `{dashboard: {uid, title, panels, …},
 *     meta: {folderUid, …}}`), https://grafana.com/docs/grafana/latest/developers/http_api/.
 *   - Jaeger's query API: the structured response `{data, total, limit, offset, errors}`
 *     (jaegertracing/jaeger cmd/query/app/http_handler.go) and the trace JSON (internal/uimodel/model.go).
 *   - Kiali: the status (kiali/kiali@v2.26.0 status/status.go), the graph (graph/config/cytoscape/cytoscape.go),
 *     and the /kiali prefix of every route (routing/router.go). v2.26 is what istio/istio@1.30.3
 *     samples/addons/kiali.yaml installs.
 */
import { z } from 'zod';
import { excerpt, httpRequest } from '../net/http.ts';
import { readPrometheusAnswer } from '../net/prometheus-answer.ts';
import { describeIssue, errorText } from '../errors.ts';
import type { RequestRecord } from './records.ts';

// ---------------------------------------------------------------------------------------------------------
// One GET, as observed

/** One API answer: what a reader reads, and what a recording keeps of it (everything but the body). */
export interface ApiAnswer {
  url: string;
  /** When the request was sent, ms since the epoch. */
  startedAt: number;
  latencyMs: number;
  /** HTTP status; 0 when no answer arrived. */
  status: number;
  body: string;
  /** Why no answer arrived. */
  error?: string;
}

/**
 * GETs `url`, bounded by `timeoutMs` (and `signal`). Never throws: an add-on that refuses the connection or
 * does not answer in time is an answer with status 0 and the reason, which a reader classifies like any other.
 */
export async function fetchAnswer(url: string, timeoutMs: number, signal?: AbortSignal): Promise<ApiAnswer> {
  const startedAt = Date.now();
  try {
    const { status, body } = await httpRequest(url, { timeoutMs, signal, headers: { accept: 'application/json' } });
    return { url, startedAt, latencyMs: Date.now() - startedAt, status, body };
  } catch (error) {
    return { url, startedAt, latencyMs: Date.now() - startedAt, status: 0, body: '', error: errorText(error) };
  }
}

/** The record a recording keeps of an answer: its timing, status and classification (not the body). */
export function answerRecord(answer: ApiAnswer, classification: string): RequestRecord {
  return {
    startedAt: answer.startedAt,
    latencyMs: answer.latencyMs,
    status: answer.status,
    classification,
    ...(answer.error !== undefined && { error: answer.error }),
  };
}

/**
 * What a reader decided about one answer. `expected` is the one classification a passing answer gets, known
 * before asking (it is the matcher of the verdict); `classification` is what this answer got: `expected` when
 * it passes, otherwise a sentence saying what the answer held instead.
 */
export interface Reading {
  pass: boolean;
  classification: string;
  expected: string;
}

/** A reading from the classification and the expected one. */
function reading(expected: string, classification: string): Reading {
  return { pass: classification === expected, classification, expected };
}

/** The status and body of an answer: all a reader sees. */
export type Answered = Pick<ApiAnswer, 'status' | 'body' | 'error'>;

type Parsed<T> = { ok: true; value: T } | { ok: false; classification: string };

const noAnswer = (answer: Answered) => `no answer${answer.error ? `: ${answer.error}` : ''}`;
const httpStatusText = (answer: Answered) => `HTTP ${answer.status}: ${excerpt(answer.body, 80) || 'empty body'}`;
const notJsonText = (answer: Answered) => `not JSON: ${excerpt(answer.body, 80) || 'empty body'}`;

/** The body of a 200 answer parsed against `schema`, or why it cannot be read as `what`. */
function parseAnswer<T>(answer: Answered, schema: z.ZodType<T>, what: string): Parsed<T> {
  if (answer.status === 0) return { ok: false, classification: noAnswer(answer) };
  if (answer.status !== 200) return { ok: false, classification: httpStatusText(answer) };
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return { ok: false, classification: notJsonText(answer) };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, classification: `not ${what}: ${issue ? describeIssue(issue, 'the body') : 'unexpected shape'}` };
}

/** "a, b and c"; at most `max` named, then "and N more". */
function listed(items: readonly string[], max = 8): string {
  if (items.length === 0) return 'none';
  const shown = items.slice(0, max);
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Addresses (the add-ons' base URLs are port-forwards without a path; Jaeger and Kiali serve under a prefix)

export const addonApi = {
  prometheusQuery: (base: string, promql: string) => `${trim(base)}/api/v1/query?${new URLSearchParams({ query: promql })}`,
  grafanaSearch: (base: string, query: string) => `${trim(base)}/api/search?${new URLSearchParams({ query, type: 'dash-db' })}`,
  grafanaDashboard: (base: string, uid: string) => `${trim(base)}/api/dashboards/uid/${encodeURIComponent(uid)}`,
  /** Jaeger's query API lives under the UI's base path, /jaeger in Istio's sample and in meshproof (docs/addons.md). */
  jaegerServices: (base: string) => `${trim(base)}/jaeger/api/services`,
  /** Traces of `service` that started in [startMs, endMs]; the API takes unix microseconds (query_parser.go). */
  jaegerTraces: (base: string, q: { service: string; limit: number; startMs: number; endMs: number }) =>
    `${trim(base)}/jaeger/api/traces?${new URLSearchParams({ service: q.service, limit: String(q.limit), start: String(q.startMs * 1000), end: String(q.endMs * 1000) })}`,
  /** Every Kiali route is under its web_root, /kiali on Kubernetes (routing/router.go). */
  kialiStatus: (base: string) => `${trim(base)}/kiali/api/status`,
  /**
   * The namespace graph. injectServiceNodes=false (the API's default, set explicitly) keeps each edge from one
   * versioned app to the next, productpage-v1 → details-v1, instead of passing through a service node.
   */
  kialiGraph: (base: string, q: { namespace: string; graphType: string; durationSeconds: number }) =>
    `${trim(base)}/kiali/api/namespaces/graph?${new URLSearchParams({ namespaces: q.namespace, graphType: q.graphType, duration: `${q.durationSeconds}s`, injectServiceNodes: 'false' })}`,
};

function trim(base: string): string {
  return base.replace(/\/+$/, '');
}

// ---------------------------------------------------------------------------------------------------------
// Prometheus: instant vectors per Bookinfo service

export interface PromSeries {
  labels: Record<string, string>;
  value: number;
}

/** The series of an instant query's answer, or why there are none to read (an error envelope says which). */
export function parsePromVector(answer: Answered): Parsed<PromSeries[]> {
  if (answer.status === 0) return { ok: false, classification: noAnswer(answer) };
  const read = readPrometheusAnswer(answer.body);
  // Prometheus answers errors with 4xx/5xx and its JSON envelope: errorType bad_data, execution, timeout, …
  if (read.kind === 'error') return { ok: false, classification: `Prometheus error ${read.errorType ?? `HTTP ${answer.status}`}: ${read.error ?? 'no message'}` };
  if (answer.status !== 200) return { ok: false, classification: httpStatusText(answer) };
  if (read.kind === 'not-json') return { ok: false, classification: notJsonText(answer) };
  const notVector = (why: string) => ({ ok: false as const, classification: `not an instant vector from Prometheus: ${why}` });
  if (read.kind !== 'result') return notVector(read.why);
  if (read.result.resultType !== 'vector') return notVector(`data.resultType: ${read.result.resultType}, not vector`);
  return { ok: true, value: read.result.result.map(({ metric, value }) => ({ labels: metric, value: value.value })) };
}

/**
 * The Bookinfo service a series is about, from Istio's `destination_service` label (the FQDN,
 * `reviews.bookinfo.svc.cluster.local`: istio.io's Istio Standard Metrics, https://istio.io/latest/docs/reference/config/metrics/),
 * or undefined for another namespace.
 */
export function serviceOf(labels: Record<string, string>, namespace: string): string | undefined {
  const match = /^([^.]+)\.([^.]+)\.svc(\.|$)/.exec(labels.destination_service ?? '');
  return match && match[2] === namespace ? match[1] : undefined;
}

/** Per service of `namespace`: the values of its series. */
function valuesByService(series: PromSeries[], namespace: string): Map<string, number[]> {
  const byService = new Map<string, number[]>();
  for (const s of series) {
    const service = serviceOf(s.labels, namespace);
    if (service !== undefined) byService.set(service, [...(byService.get(service) ?? []), s.value]);
  }
  return byService;
}

export interface ServiceExpectation {
  namespace: string;
  /** The services that must each have data, e.g. productpage, details, reviews, ratings. */
  services: readonly string[];
}

const sortedNames = (names: readonly string[]) => [...names].sort().join(', ');

/**
 * Every service has a series whose values sum above 0: the request-rate query (one series per label set, so a
 * service has many; their sum is its rate). `withData` lists the services that do, for the error-rate reader.
 */
export function readPositivePerService(answer: Answered, expected: ServiceExpectation, noun: string): Reading & { withData: string[] } {
  const want = `${noun} for ${sortedNames(expected.services)}`;
  const parsed = parsePromVector(answer);
  if (!parsed.ok) return { ...reading(want, parsed.classification), withData: [] };
  const byService = valuesByService(parsed.value, expected.namespace);
  const problems: string[] = [];
  const withData: string[] = [];
  for (const service of expected.services) {
    const values = byService.get(service);
    const sum = values?.reduce((a, b) => a + b, 0);
    if (values === undefined) problems.push(`${service}: no series`);
    else if (!(sum! > 0)) problems.push(`${service}: ${fmt(sum!)}`);
    else withData.push(service);
  }
  if (problems.length === 0) return { ...reading(want, want), withData };
  return { ...reading(want, `${problems.join('; ')}${withData.length ? ` — ${noun} only for ${sortedNames(withData)}` : ''}`), withData };
}

/** Every service has a finite value: the P99 query, which is NaN for a service with no requests in the window. */
export function readFinitePerService(answer: Answered, expected: ServiceExpectation, noun: string): Reading {
  const want = `${noun} for ${sortedNames(expected.services)}`;
  const parsed = parsePromVector(answer);
  if (!parsed.ok) return reading(want, parsed.classification);
  const byService = valuesByService(parsed.value, expected.namespace);
  const problems: string[] = [];
  const present: string[] = [];
  for (const service of expected.services) {
    const values = byService.get(service);
    if (values === undefined) problems.push(`${service}: no series`);
    else if (!values.every(Number.isFinite)) problems.push(`${service}: ${values.map(fmt).join(', ')}`);
    else present.push(service);
  }
  if (problems.length === 0) return reading(want, want);
  return reading(want, `${problems.join('; ')}${present.length ? ` — ${noun} only for ${sortedNames(present)}` : ''}`);
}

/**
 * The lab's error-rate query, `sum(… response_code=~"5.*" …) by (destination_service) / sum(…) by
 * (destination_service)`. PromQL divides only series present on both sides, so a service that answered no 5xx
 * in the window has NO series: empty is the healthy answer, not a missing one. A service therefore has an error
 * rate when it has a finite ratio, or no ratio while the request-rate query shows it had traffic (`withTraffic`):
 * 0 %. Without traffic it has none, since the ratio would be 0/0.
 */
export function readErrorRatioPerService(answer: Answered, expected: ServiceExpectation, withTraffic: readonly string[], noun: string): Reading {
  const want = `${noun} for ${sortedNames(expected.services)}`;
  const parsed = parsePromVector(answer);
  if (!parsed.ok) return reading(want, parsed.classification);
  const byService = valuesByService(parsed.value, expected.namespace);
  const problems: string[] = [];
  for (const service of expected.services) {
    const values = byService.get(service);
    if (values === undefined && !withTraffic.includes(service)) problems.push(`${service}: no series and no traffic counted`);
    else if (values !== undefined && !values.every(Number.isFinite)) problems.push(`${service}: ${values.map(fmt).join(', ')}`);
  }
  return reading(want, problems.length === 0 ? want : problems.join('; '));
}

/** The services with a ratio in an error-rate answer, with their ratio (the ones that answered 5xx); undefined when unreadable. */
export function errorRatios(answer: Answered, namespace: string): Record<string, number> | undefined {
  const parsed = parsePromVector(answer);
  if (!parsed.ok) return undefined;
  return Object.fromEntries([...valuesByService(parsed.value, namespace)].map(([service, values]) => [service, values[0]!]));
}

/**
 * Which series an answer held, whatever they are: for a query whose emptiness is the expected answer (the TCP
 * query in a lab without TCP traffic). `answered` is false only when there was no vector to read.
 */
export function readSeriesPresence(answer: Answered): { answered: boolean; classification: string; series: number } {
  const parsed = parsePromVector(answer);
  if (!parsed.ok) return { answered: false, classification: parsed.classification, series: 0 };
  if (parsed.value.length === 0) return { answered: true, classification: 'no series', series: 0 };
  const names = parsed.value.map((s) => s.labels.destination_service ?? JSON.stringify(s.labels));
  return { answered: true, classification: `${parsed.value.length} series: ${listed(names, 4)}`, series: parsed.value.length };
}

function fmt(value: number): string {
  return Number.isNaN(value) ? 'NaN' : Number.isFinite(value) ? String(+value.toPrecision(4)) : String(value);
}

// ---------------------------------------------------------------------------------------------------------
// Grafana: dashboards by exact title in a folder, and their panels

const searchHit = z.object({
  uid: z.string(),
  title: z.string(),
  type: z.string().optional(),
  folderTitle: z.string().optional(),
  folderUid: z.string().optional(),
});
const searchAnswer = z.array(searchHit);
export type GrafanaSearchHit = z.infer<typeof searchHit>;

export interface DashboardsInFolder {
  /** Exact titles, as istio/istio@1.30.3 samples/addons/grafana.yaml installs them, e.g. "Istio Mesh Dashboard". */
  titles: readonly string[];
  /** The folder every title must be in, "istio". */
  folder: string;
}

/**
 * Reads `/api/search?query=…&type=dash-db`: every title must be a dashboard (`dash-db`) in `folder`. A
 * dashboard at the root has no folderTitle (Grafana's "General"). Returns the uid of each title found there.
 */
export function readDashboardsInFolder(answer: Answered, expected: DashboardsInFolder): Reading & { uids: Record<string, string> } {
  const want = `all ${expected.titles.length} in folder ${expected.folder}`;
  const parsed = parseAnswer(answer, searchAnswer, "Grafana's /api/search answer");
  if (!parsed.ok) return { ...reading(want, parsed.classification), uids: {} };
  const dashboards = parsed.value.filter((hit) => (hit.type ?? 'dash-db') === 'dash-db');
  const uids: Record<string, string> = {};
  const problems: string[] = [];
  for (const title of expected.titles) {
    const hits = dashboards.filter((hit) => hit.title === title);
    const inFolder = hits.find((hit) => hit.folderTitle === expected.folder);
    if (inFolder) uids[title] = inFolder.uid;
    else if (hits.length === 0) problems.push(`${title}: not found`);
    else problems.push(`${title}: in folder ${listed(hits.map((hit) => hit.folderTitle ?? 'General'))}`);
  }
  if (problems.length === 0) return { ...reading(want, want), uids };
  const seen = dashboards.map((hit) => `${hit.title} (${hit.folderTitle ?? 'General'})`);
  return { ...reading(want, `${problems.join('; ')} — dashboards found: ${listed(seen, 10)}`), uids };
}

// A panel may be a row; a collapsed row holds its panels inside it. Dashboards of schema < 16 keep panels in rows[].
type Panel = { type?: string; panels?: Panel[] };
const panel: z.ZodType<Panel> = z.lazy(() => z.object({ type: z.string().optional(), panels: z.array(panel).optional() }));
const dashboardAnswer = z.object({
  dashboard: z.object({
    title: z.string(),
    panels: z.array(panel).optional(),
    rows: z.array(z.object({ panels: z.array(panel).optional() })).optional(),
  }),
});

/** The panels that show something: rows are containers, counted through, not as panels. */
export function countPanels(panels: readonly Panel[]): number {
  return panels.reduce((n, p) => n + (p.type === 'row' ? countPanels(p.panels ?? []) : 1), 0);
}

/** Reads `/api/dashboards/uid/:uid`: the dashboard titled `title` has at least one panel. */
export function readDashboardPanels(answer: Answered, title: string): Reading & { panels: number } {
  const want = 'has panels';
  const parsed = parseAnswer(answer, dashboardAnswer, 'a Grafana dashboard');
  if (!parsed.ok) return { ...reading(want, parsed.classification), panels: 0 };
  const { dashboard } = parsed.value;
  if (dashboard.title !== title) return { ...reading(want, `the dashboard is titled "${dashboard.title}"`), panels: 0 };
  const panels = countPanels(dashboard.panels ?? []) + countPanels((dashboard.rows ?? []).flatMap((row) => row.panels ?? []));
  return { ...reading(want, panels > 0 ? want : 'no panels'), panels };
}

// ---------------------------------------------------------------------------------------------------------
// Jaeger: services, and the calls a trace crosses

const jaegerServices = z.object({ data: z.array(z.string()).nullable() });

/**
 * Reads `/jaeger/api/services`: `service` is among them. A proxy reports its traces as `<app>.<namespace>`
 * (istio/istio@1.30.3 pkg/bootstrap/config.go, serviceClusterOrDefault), e.g. productpage.bookinfo.
 */
export function readJaegerServices(answer: Answered, service: string): Reading {
  const want = `lists ${service}`;
  const parsed = parseAnswer(answer, jaegerServices, "Jaeger's /api/services answer");
  if (!parsed.ok) return reading(want, parsed.classification);
  const services = [...(parsed.value.data ?? [])].sort();
  return reading(want, services.includes(service) ? want : `no ${service} among ${services.length} services: ${listed(services)}`);
}

const jaegerTag = z.object({ key: z.string(), value: z.unknown() });
const jaegerSpan = z.object({
  spanID: z.string(),
  operationName: z.string(),
  references: z.array(z.object({ refType: z.string(), spanID: z.string() })).nullable().optional(),
  processID: z.string(),
  tags: z.array(jaegerTag).nullable().optional(),
});
const jaegerTrace = z.object({
  traceID: z.string(),
  spans: z.array(jaegerSpan),
  processes: z.record(z.string(), z.object({ serviceName: z.string() })),
});
const jaegerTraces = z.object({ data: z.array(jaegerTrace).nullable() });
export type JaegerTrace = z.infer<typeof jaegerTrace>;

/** "productpage.bookinfo → details.bookinfo": a call from one service to another. */
export type ServiceCall = readonly [from: string, to: string];
export const callName = ([from, to]: ServiceCall) => `${from} → ${to}`;

/**
 * The calls a trace crosses: for every span whose parent (references[].spanID, CHILD_OF or FOLLOWS_FROM) is
 * in the trace and belongs to another service, parent's service → span's service. With sidecars, the
 * productpage sidecar's client span is the parent of the details sidecar's server span, so a request that
 * went productpage → details shows that call (Jaeger's own dependency links are built the same way).
 */
export function traceCalls(trace: JaegerTrace): string[] {
  const serviceOfSpan = new Map(trace.spans.map((span) => [span.spanID, trace.processes[span.processID]?.serviceName ?? `process ${span.processID}`]));
  const calls = new Set<string>();
  for (const span of trace.spans) {
    const to = serviceOfSpan.get(span.spanID)!;
    for (const ref of span.references ?? []) {
      const from = serviceOfSpan.get(ref.spanID);
      if (from !== undefined && from !== to) calls.add(callName([from, to]));
    }
  }
  return [...calls].sort();
}

/**
 * Whether a trace is of a request for `path`: a span's `http.url` tag has that path (Envoy tags every HTTP span
 * with it), or its operation name, `<host>:<port><path>` for Istio's sidecars, ends with it.
 */
export function traceIsRequestFor(trace: JaegerTrace, path: string): boolean {
  return trace.spans.some((span) => {
    if (span.operationName.endsWith(path)) return true;
    const url = span.tags?.find((tag) => tag.key === 'http.url')?.value;
    if (typeof url !== 'string') return false;
    try {
      return new URL(url, 'http://host').pathname === path;
    } catch {
      return false;
    }
  });
}

export interface TraceExpectation {
  /** The request the trace must be of, "/productpage". */
  path: string;
  /** Every call one trace must cross, e.g. productpage.bookinfo → details.bookinfo. */
  calls: readonly ServiceCall[];
}

/** Reads `/jaeger/api/traces`: at least one trace of a `path` request crosses every call in `calls`. */
export function readEndToEndTrace(answer: Answered, expected: TraceExpectation): Reading & { traces: number; matching: number } {
  const wanted = expected.calls.map(callName);
  const want = `a ${expected.path} trace crosses ${listed(wanted)}`;
  const parsed = parseAnswer(answer, jaegerTraces, "Jaeger's /api/traces answer");
  if (!parsed.ok) return { ...reading(want, parsed.classification), traces: 0, matching: 0 };
  const traces = parsed.value.data ?? [];
  const ofPath = traces.filter((trace) => traceIsRequestFor(trace, expected.path));
  const scored = ofPath
    .map((trace) => ({ trace, calls: traceCalls(trace) }))
    .map((t) => ({ ...t, missing: wanted.filter((call) => !t.calls.includes(call)) }))
    .sort((a, b) => a.missing.length - b.missing.length);
  const matching = scored.filter((t) => t.missing.length === 0).length;
  const counts = { traces: traces.length, matching };
  if (matching > 0) return { ...reading(want, want), ...counts };
  if (traces.length === 0) return { ...reading(want, 'no traces yet'), ...counts };
  if (ofPath.length === 0) return { ...reading(want, `${traces.length} traces, none of a ${expected.path} request`), ...counts };
  const best = scored[0]!;
  const closest = `the closest (${best.trace.traceID}) misses ${listed(best.missing)} and crosses ${listed(best.calls)}`;
  return { ...reading(want, `${ofPath.length} ${expected.path} traces, none crosses ${listed(wanted)}; ${closest}`), ...counts };
}

// ---------------------------------------------------------------------------------------------------------
// Kiali: its status, and edges of the namespace graph

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
  const describe = (e: GraphEdge) => `${endName(e.from, namespace)} → ${endName(e.to, namespace)} (${fmt(e.rate)}/s${e.mtlsPercent ? `, mTLS ${e.mtlsPercent} %` : ''})`;
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
