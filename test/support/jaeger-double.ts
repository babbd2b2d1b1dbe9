import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimSpan, SpanCollector } from './mesh-sim/tracing.ts';

/**
 * Jaeger's query API as the suites read it, over the spans the simulated mesh reported (mesh-sim/tracing.ts): under
 * the /jaeger base path of Istio's sample, `/api/services`, `/api/traces/{id}` (404 with Jaeger's error shape when it
 * holds no such trace) and `/api/traces?service=` with its µs window, each in the structured response
 * `{data, total, limit, offset, errors}` and the trace JSON of jaegertracing/jaeger internal/uimodel/model.go.
 * A thin double: no storage, no search beyond the service and the window.
 */
function traceJson(traceID: string, spans: SimSpan[]) {
  const processIds = new Map<string, string>();
  for (const span of spans) if (!processIds.has(span.service)) processIds.set(span.service, `p${processIds.size + 1}`);
  return {
    traceID,
    spans: spans.map((s) => ({
      traceID,
      spanID: s.spanID,
      flags: 1,
      operationName: s.operationName,
      references: s.parentSpanID ? [{ refType: 'CHILD_OF', traceID, spanID: s.parentSpanID }] : [],
      startTime: s.startUs,
      duration: s.durationUs,
      tags: Object.entries(s.tags).map(([key, value]) => ({ key, type: 'string', value })),
      logs: [],
      processID: processIds.get(s.service)!,
      warnings: null,
    })),
    processes: Object.fromEntries([...processIds].map(([serviceName, id]) => [id, { serviceName, tags: [] }])),
    warnings: null,
  };
}

const envelope = (data: unknown, errors: unknown = null) => JSON.stringify({ data, total: Array.isArray(data) ? data.length : 0, limit: 0, offset: 0, errors });

export async function startJaegerDouble(spans: SpanCollector): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://jaeger');
    const send = (status: number, body: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    const byId = /^\/jaeger\/api\/traces\/([0-9a-f]+)$/.exec(url.pathname);
    if (byId) {
      const found = spans.trace(byId[1]!);
      if (!found) return send(404, envelope(null, [{ code: 404, msg: 'trace not found' }]));
      return send(200, envelope([traceJson(byId[1]!, found)]));
    }
    if (url.pathname === '/jaeger/api/services') return send(200, envelope([...new Set(spans.traces().flatMap(([, s]) => s.map((x) => x.service)))].sort()));
    if (url.pathname === '/jaeger/api/traces') {
      const service = url.searchParams.get('service');
      const start = Number(url.searchParams.get('start') ?? 0);
      const end = Number(url.searchParams.get('end') ?? Number.MAX_SAFE_INTEGER);
      const limit = Number(url.searchParams.get('limit') ?? 20);
      const matching = spans
        .traces()
        .filter(([, s]) => s.some((x) => x.service === service && x.startUs >= start && x.startUs <= end))
        .slice(-limit)
        .map(([id, s]) => traceJson(id, s));
      return send(200, envelope(matching));
    }
    send(404, '404 page not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
