/**
 * Jaeger: its services, and the calls a trace crosses. The shapes are the query API's structured response
 * `{data, total, limit, offset, errors}` (jaegertracing/jaeger cmd/query/app/http_handler.go) and the trace JSON
 * (internal/uimodel/model.go).
 */
import { z } from 'zod';
import { listed, parseAnswer, reading, withoutTrailingSlash, type Answered, type Reading } from './answer.ts';

export const jaegerApi = {
  /** Jaeger's query API lives under the UI's base path, /jaeger in Istio's sample and in meshproof (docs/addons.md). */
  services: (base: string) => `${withoutTrailingSlash(base)}/jaeger/api/services`,
  /** Traces of `service` that started in [startMs, endMs]; the API takes unix microseconds (query_parser.go). */
  traces: (base: string, q: { service: string; limit: number; startMs: number; endMs: number }) =>
    `${withoutTrailingSlash(base)}/jaeger/api/traces?${new URLSearchParams({ service: q.service, limit: String(q.limit), start: String(q.startMs * 1000), end: String(q.endMs * 1000) })}`,
  /** One trace by its id, in the same `{data: [trace]}` envelope; 404 while Jaeger holds none (jaegertracing/jaeger http_handler.go). */
  trace: (base: string, traceId: string) => `${withoutTrailingSlash(base)}/jaeger/api/traces/${encodeURIComponent(traceId)}`,
};

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
// One trace, by its id, kept as the observation of a timing verdict

/**
 * The tags a trace verdict reads, of those Envoy sets on every HTTP span (envoyproxy/envoy
 * source/common/tracing/http_tracer_impl.cc setCommonTags: `upstream_cluster`, `http.status_code` ("0" when no
 * response was sent), `response_flags`, `error` for no response or a 5xx) and those Istio adds to every span of a
 * proxy (istio/istio@1.30.3 pilot/pkg/networking/core/tracing.go buildServiceTags: `istio.canonical_service`,
 * `istio.canonical_revision`), plus the span's kind and URL. The rest is left out of the recording.
 */
export const keptSpanTags = ['span.kind', 'upstream_cluster', 'http.status_code', 'response_flags', 'error', 'istio.canonical_service', 'istio.canonical_revision', 'http.url'] as const;

export const spanRecordSchema = z
  .strictObject({
    spanID: z.string(),
    parentSpanID: z.string().optional().describe('the span it is CHILD_OF, when the trace has one'),
    service: z.string().describe("the reporting proxy's service, <app>.<namespace>"),
    operation: z.string().describe('Istio names a route <host>:<port><path>, e.g. ratings.bookinfo.svc.cluster.local:9080/*'),
    startUs: z.number().describe('µs since the epoch'),
    durationUs: z.number().min(0).describe('µs'),
    tags: z.record(z.string(), z.string()).describe('the kept tags, as strings'),
  })
  .describe('One span of a trace, trimmed to what a verdict reads');

export const traceRecordSchema = z
  .strictObject({
    traceID: z.string(),
    request: z.string().describe('the request the trace is of, e.g. "GET /productpage as jason"'),
    sentAt: z.number().describe('when that request was sent, ms since the epoch'),
    spans: z.array(spanRecordSchema).describe('empty when Jaeger had no trace of it'),
  })
  .describe("One request's trace, read from Jaeger's query API");

export type SpanRecord = z.infer<typeof spanRecordSchema>;
export type TraceRecord = z.infer<typeof traceRecordSchema>;

const timedSpan = jaegerSpan.extend({ startTime: z.number(), duration: z.number() });
const timedTrace = jaegerTrace.extend({ spans: z.array(timedSpan) });
const timedTraces = z.object({ data: z.array(timedTrace).nullable() });

/** A trace as a recording keeps it: every span, ordered by start, with the kept tags only. */
export function trimTrace(trace: z.infer<typeof timedTrace>): Omit<TraceRecord, 'request' | 'sentAt'> {
  const ids = new Set(trace.spans.map((s) => s.spanID));
  const spans = trace.spans
    .map((span): SpanRecord => {
      const parent = (span.references ?? []).find((r) => r.refType === 'CHILD_OF' && ids.has(r.spanID))?.spanID;
      const tags: Record<string, string> = {};
      for (const tag of span.tags ?? []) if ((keptSpanTags as readonly string[]).includes(tag.key)) tags[tag.key] = String(tag.value);
      return {
        spanID: span.spanID,
        ...(parent !== undefined && { parentSpanID: parent }),
        service: trace.processes[span.processID]?.serviceName ?? `process ${span.processID}`,
        operation: span.operationName,
        startUs: span.startTime,
        durationUs: span.duration,
        tags,
      };
    })
    .sort((a, b) => a.startUs - b.startUs);
  return { traceID: trace.traceID, spans };
}

/**
 * Reads `/jaeger/api/traces/{id}`: the trace trimmed, or why there is none yet. Jaeger answers 404 for a trace it
 * does not hold (yet: spans arrive after their streams end), which is "no trace yet", not a broken add-on.
 */
export function readTraceById(answer: Answered, traceId: string): { spans: SpanRecord[]; classification: string } {
  if (answer.status === 404) return { spans: [], classification: `no trace ${traceId} yet` };
  const parsed = parseAnswer(answer, timedTraces, "Jaeger's /api/traces/{id} answer");
  if (!parsed.ok) return { spans: [], classification: parsed.classification };
  const trace = (parsed.value.data ?? []).find((t) => t.traceID === traceId);
  if (!trace) return { spans: [], classification: `no trace ${traceId} yet` };
  const { spans } = trimTrace(trace);
  return { spans, classification: `trace ${traceId}: ${spans.length} spans` };
}
