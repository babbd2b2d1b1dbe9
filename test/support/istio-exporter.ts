import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for an Istio sidecar's metrics endpoint: serves `istio_requests_total` and
 * `istio_request_duration_milliseconds` in Prometheus text format on 127.0.0.1, with values the test sets.
 */

/**
 * The standard label set, in istio/proxy's order (testdata/metric/client_request_total.yaml.tmpl), with the
 * defaults a sidecar reports: `unknown` when missing, `latest` for canonical revisions, `-` for no flags,
 * `Kubernetes` as the default cluster name (injection-template.yaml). grpc_response_status is empty for
 * HTTP; Prometheus drops empty labels on ingestion, exactly as it does for a real sidecar.
 */
export const istioLabelDefaults = {
  reporter: 'destination',
  source_workload: 'unknown',
  source_canonical_service: 'unknown',
  source_canonical_revision: 'latest',
  source_workload_namespace: 'unknown',
  source_principal: 'unknown',
  source_app: 'unknown',
  source_version: 'unknown',
  source_cluster: 'Kubernetes',
  destination_workload: 'unknown',
  destination_workload_namespace: 'unknown',
  destination_principal: 'unknown',
  destination_app: 'unknown',
  destination_version: 'unknown',
  destination_service: 'unknown',
  destination_canonical_service: 'unknown',
  destination_canonical_revision: 'latest',
  destination_service_name: 'unknown',
  destination_service_namespace: 'unknown',
  destination_cluster: 'Kubernetes',
  request_protocol: 'http',
  response_code: '200',
  grpc_response_status: '',
  response_flags: '-',
  connection_security_policy: 'mutual_tls',
};

export type IstioLabelName = keyof typeof istioLabelDefaults;
/** The Istio labels to set (the rest take the defaults), plus any extra label, e.g. a per-run marker. */
export type IstioLabels = Partial<Record<IstioLabelName, string>> & Record<string, string>;

/** Istio's default buckets for request duration (istio/proxy, `stats` plugin defaults), in milliseconds. */
export const istioDurationBucketsMs = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

export interface IstioExporter {
  /** `127.0.0.1:<port>`, the scrape target. */
  target: string;
  url: string;
  /** Counts `n` requests on `istio_requests_total`; counters only go up. Returns the full label set used. */
  add(labels: IstioLabels, n?: number): Record<string, string>;
  /** Records `count` requests of `durationMs` on `istio_request_duration_milliseconds`. */
  observe(labels: IstioLabels, durationMs: number, count?: number): void;
  /** Drops every counter to nothing, as a sidecar restart does. */
  restart(): void;
  /** The body served at /metrics now. */
  render(): string;
  stop(): Promise<void>;
}

const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Histogram {
  labels: Record<string, string>;
  /** The label block, written once: a scrape every second renders every series again. */
  block: string;
  buckets: number[];
  sum: number;
  count: number;
}

export async function startIstioExporter(): Promise<IstioExporter> {
  const counters = new Map<string, { labels: Record<string, string>; block: string; value: number }>();
  const histograms = new Map<string, Histogram>();

  const render = (): string => {
    const lines = ['# TYPE istio_requests_total counter'];
    for (const { block, value } of counters.values()) lines.push(`istio_requests_total${block} ${value}`);
    lines.push('# TYPE istio_request_duration_milliseconds histogram');
    for (const h of histograms.values()) {
      // The bucket's block is the series' with `le` last, as fmt would write it.
      const withLe = (le: string) => `${h.block.slice(0, -1)},le="${le}"}`;
      istioDurationBucketsMs.forEach((le, i) => lines.push(`istio_request_duration_milliseconds_bucket${withLe(String(le))} ${h.buckets[i]}`));
      lines.push(`istio_request_duration_milliseconds_bucket${withLe('+Inf')} ${h.count}`);
      lines.push(`istio_request_duration_milliseconds_sum${h.block} ${h.sum}`);
      lines.push(`istio_request_duration_milliseconds_count${h.block} ${h.count}`);
    }
    return `${lines.join('\n')}\n`;
  };

  const server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end('not found\n');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(render());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    target: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/metrics`,
    add(labels, n = 1) {
      if (!(Number.isFinite(n) && n >= 0)) throw new RangeError(`a counter only goes up; cannot add ${n}`);
      const full = withDefaults(labels);
      const key = JSON.stringify(full);
      const entry = counters.get(key) ?? { labels: full, block: fmt(full), value: 0 };
      entry.value += n;
      counters.set(key, entry);
      return full;
    },
    observe(labels, durationMs, count = 1) {
      if (!(durationMs >= 0 && Number.isInteger(count) && count >= 0)) {
        throw new RangeError(`cannot observe ${count} × ${durationMs} ms`);
      }
      const full = withDefaults(labels);
      const key = JSON.stringify(full);
      const h = histograms.get(key) ?? { labels: full, block: fmt(full), buckets: istioDurationBucketsMs.map(() => 0), sum: 0, count: 0 };
      istioDurationBucketsMs.forEach((le, i) => {
        if (durationMs <= le) h.buckets[i]! += count;
      });
      h.sum += durationMs * count;
      h.count += count;
      histograms.set(key, h);
    },
    restart() {
      counters.clear();
      histograms.clear();
    },
    render,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Prometheus keeps its scrape connection alive; without this, close() waits for it to idle out.
        server.closeAllConnections();
      }),
  };
}

function withDefaults(labels: IstioLabels): Record<string, string> {
  for (const name of Object.keys(labels)) {
    if (!labelName.test(name) || name.startsWith('__')) {
      throw new RangeError(`invalid label name ${JSON.stringify(name)}`);
    }
  }
  // Known labels keep Istio's order; extra labels follow, sorted, so equal sets give equal keys.
  const extra = Object.keys(labels)
    .filter((name) => !(name in istioLabelDefaults))
    .sort();
  const full: Record<string, string> = {};
  for (const name of [...Object.keys(istioLabelDefaults), ...extra]) {
    full[name] = labels[name] ?? istioLabelDefaults[name as IstioLabelName];
  }
  return full;
}

/** Text-format label block; values escape backslash, quote and newline (exposition_formats.md). */
function fmt(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return `{${pairs.join(',')}}`;
}
