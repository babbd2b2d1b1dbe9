import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { pollUntil } from '../../helpers/wait/poll.ts';
import { startIstioExporter, type IstioExporter } from './istio-exporter.ts';
import { freePort, holdPort } from './lab-stand-ins.ts';
import {
  PrometheusStartError,
  prometheusAvailability,
  startPrometheus,
  type PrometheusHarness,
} from './prometheus-harness.ts';

// Scrapes run every second here; this bounds waiting for the first one.
const waitForScrape = { timeoutMs: 15_000, intervalMs: 200 };

type Row = { metric: Record<string, string>; value: [number, string] };

// Deliberately not the product client (helpers/observe/prometheus.ts): the harness must be proven on its own.
async function query(url: string, promql: string): Promise<Row[]> {
  const res = await request(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
  const body = (await res.body.json()) as { status: string; data: { result: Row[] } };
  if (body.status !== 'success') throw new Error(`query failed: ${JSON.stringify(body)}`);
  return body.data.result;
}

describe('prometheusAvailability', () => {
  it('fails under CI=true when the binary is missing, naming the install command', () => {
    expect(() => prometheusAvailability({ CI: 'true', PATH: '' }, [])).toThrow(/apt-get install prometheus/);
  });
  it('skips loudly elsewhere', () => {
    const result = prometheusAvailability({ PATH: '' }, ['/nonexistent/prometheus']);
    expect(result).toEqual({ available: false, reason: expect.stringContaining('apt-get install') });
  });
});

describe('istio exporter', () => {
  it('serves the full Istio label set with defaults, and Istio-like histogram buckets', async () => {
    const exporter = await startIstioExporter();
    try {
      exporter.add({ destination_workload: 'reviews-v1', response_code: '503', response_flags: 'UO' }, 2);
      exporter.observe({ destination_workload: 'reviews-v1' }, 42);
      const text = await (await request(exporter.url)).body.text();
      expect(text).toContain(
        'istio_requests_total{reporter="destination",source_workload="unknown",source_canonical_service="unknown",' +
          'source_canonical_revision="latest",',
      );
      expect(text).toContain(
        'response_code="503",grpc_response_status="",response_flags="UO",connection_security_policy="mutual_tls"} 2',
      );
      expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{.*le="25"\} 0/);
      expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{.*le="50"\} 1/);
      expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{.*le="\+Inf"\} 1/);
      expect(() => exporter.add({}, -1)).toThrow(/only goes up/);
    } finally {
      await exporter.stop();
    }
  });
});

const availability = prometheusAvailability();

describe.skipIf(!availability.available)('a real Prometheus scraping the exporter', () => {
  let exporter: IstioExporter;
  let prometheus: PrometheusHarness;

  beforeAll(async () => {
    exporter = await startIstioExporter();
    prometheus = await startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalMs: 1_000 });
  });
  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.stop();
  });

  it('answers with the requests the exporter counted', async () => {
    exporter.add({ destination_workload: 'ratings-v1', response_code: '200' }, 7);
    exporter.add({ destination_workload: 'ratings-v1', response_code: '500', response_flags: 'FI' }, 3);
    exporter.observe({ destination_workload: 'ratings-v1' }, 7_000, 4);
    const byCode = 'sum by (response_code, response_flags) (istio_requests_total{destination_workload="ratings-v1"})';
    const what = 'the ratings-v1 requests in Prometheus';
    const rows = await pollUntil<Row[]>({ ...waitForScrape, what }, async () => {
      const result = await query(prometheus.url, byCode);
      return result.length === 2 ? { done: true, value: result } : { done: false, seen: JSON.stringify(result) };
    });
    const counts = Object.fromEntries(
      rows.map((r) => [`${r.metric.response_code}/${r.metric.response_flags}`, r.value[1]]),
    );
    expect(counts).toEqual({ '200/-': '7', '500/FI': '3' });

    // Empty grpc_response_status is dropped on ingestion, as for a real sidecar.
    const ok = 'istio_requests_total{destination_workload="ratings-v1",response_code="200"}';
    const [raw] = await query(prometheus.url, ok);
    expect(raw?.metric).not.toHaveProperty('grpc_response_status');
    expect(raw?.metric).toMatchObject({ reporter: 'destination', destination_cluster: 'Kubernetes' });

    const buckets = 'istio_request_duration_milliseconds_bucket{destination_workload="ratings-v1"}';
    const [p50] = await query(prometheus.url, `histogram_quantile(0.5, sum by (le) (${buckets}))`);
    // 7 s falls in Istio's (5000, 10000] bucket; linear interpolation puts the median inside it.
    expect(Number(p50?.value[1])).toBeGreaterThan(5_000);
    expect(Number(p50?.value[1])).toBeLessThanOrEqual(10_000);
  });

  it('leaves nothing behind when startup fails', async () => {
    // Port 1 on loopback serves no metrics, so the target is never up within this short startup bound.
    const error = await startPrometheus({ scrapeTargets: ['127.0.0.1:1'], timeouts: { startup: 1_500 } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PrometheusStartError);
    const { pid, dir, message } = error as PrometheusStartError;
    expect(message).toMatch(/every scrape target \(127\.0\.0\.1:1\) to be up; last seen: 0 of 1 up/);
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    expect(existsSync(dir)).toBe(false);
  });

  it('starts on another port when the one it found is taken before Prometheus binds it, three times at most', async () => {
    const held = await holdPort();
    try {
      const ports = [held.port, held.port];
      const started = await startPrometheus({ scrapeTargets: [exporter.target], port: async () => ports.shift() ?? freePort() });
      expect(ports).toEqual([]);
      expect(started.url).not.toBe(`http://127.0.0.1:${held.port}`);
      await started.stop();
      const error = await startPrometheus({ scrapeTargets: [exporter.target], port: async () => held.port }).catch((e: unknown) => e);
      expect((error as PrometheusStartError).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${held.port}.*address already in use`));
    } finally {
      await held.release();
    }
  });

  // Last: it stops the shared instance (afterAll's second stop() is a no-op).
  it('stop() ends the process and removes its directory', async () => {
    await prometheus.stop();
    expect(() => process.kill(prometheus.pid, 0)).toThrow(/ESRCH/);
    expect(existsSync(prometheus.dir)).toBe(false);
  });
});
