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

