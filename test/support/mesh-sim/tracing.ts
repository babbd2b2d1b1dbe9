import { randomBytes } from 'node:crypto';
import type { Workload } from './workloads.ts';

/**
 * The spans the simulated proxies report, as Istio's sidecars report them to Jaeger through Envoy's OpenTelemetry
 * tracer: one span per stream and proxy, a server span in the destination's sidecar and a client span in the
 * caller's, each continuing the W3C `traceparent` it received (a request without one starts a trace) and passing its
 * own span id on. Tags are the ones Envoy and Istio set (helpers/observe/addons/jaeger.ts keptSpanTags cites them);
 * the process is the proxy's service, <app>.<namespace>.
 *
 * Times are the simulation's real clock: the mesh-sim sleeps the fault's delay for real (sidecar.ts), so a span's
 * duration is what the request really took here, with no scaling to undo. A span ends when its stream ends; a client
 * span ends early, with no response and flag DC, when the application gives up on the call (productpage's 3 s
 * `requests` timeout), as Envoy's does when its downstream connection closes. The simulation keeps that upstream call
 * running and reports its metrics as before: only the span shows where the caller gave up.
 */
export interface SimSpan {
  traceID: string;
  spanID: string;
  parentSpanID?: string;
  service: string;
  operationName: string;
  startUs: number;
  durationUs: number;
  tags: Record<string, string>;
}

export interface OpenSpan {
  /** The traceparent the proxy sends on (its own span as the parent). */
  traceparent: string;
  /** Ends the span with how the stream ended; later calls do nothing (the first end is the stream's). */
  end(status: number, flags: string[]): void;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

export class SpanCollector {
  private readonly byTrace = new Map<string, SimSpan[]>();

  start(proxy: Workload, kind: 'server' | 'client', traceparent: string | undefined, operation: string, upstreamCluster: string): OpenSpan {
    const parent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(traceparent ?? '');
    const traceID = parent?.[1] ?? hex(16);
    const spanID = hex(8);
    const startUs = nowUs();
    let ended = false;
    return {
      traceparent: `00-${traceID}-${spanID}-01`,
      end: (status, flags) => {
        if (ended) return;
        ended = true;
        const span: SimSpan = {
          traceID,
          spanID,
          ...(parent && { parentSpanID: parent[2] }),
          service: `${proxy.app}.${proxy.namespace}`,
          operationName: operation,
          startUs,
          durationUs: nowUs() - startUs,
          tags: {
            component: 'proxy',
            'span.kind': kind,
            upstream_cluster: upstreamCluster,
            'http.status_code': String(status),
            response_flags: flags.length ? flags.join(',') : '-',
            ...((status === 0 || status >= 500) && { error: 'true' }),
            'istio.canonical_service': proxy.app,
            'istio.canonical_revision': proxy.version === 'unknown' ? 'latest' : proxy.version,
            'istio.namespace': proxy.namespace,
          },
        };
        this.byTrace.set(traceID, [...(this.byTrace.get(traceID) ?? []), span]);
      },
    };
  }

  trace(traceID: string): SimSpan[] | undefined {
    return this.byTrace.get(traceID);
  }

  traces(): [string, SimSpan[]][] {
    return [...this.byTrace];
  }
}
