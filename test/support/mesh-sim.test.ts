import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselineFiles, prepareFeatureConfig } from '../../helpers/apply/feature-config.ts';
import { loadFixture } from '../../helpers/config/manifests.ts';
import { sendFromPod } from '../../helpers/observe/mesh-client.ts';
import { bookinfoMeshUrls } from '../../helpers/suite/step-env.ts';
import { startIstioExporter, type IstioExporter } from './istio-exporter.ts';
import { IstioConfig } from './mesh-sim/istio-config.ts';
import { InboundRateLimiter } from './mesh-sim/local-rate-limit.ts';
import { startSimMesh, type SimMesh } from './mesh-sim/mesh.ts';
import { workload } from './mesh-sim/workloads.ts';

/**
 * The simulated mesh itself: the self-tests of the steps trust it, so the facts it models are checked here
 * against the labels its sidecars report (the table in mesh-sim/telemetry.ts), read back as Prometheus would.
 */
let exporter: IstioExporter;
let sim: SimMesh;
const objects = async (files: string[]) => (await prepareFeatureConfig(files)).objects.map((o) => o.object);

/** The series of istio_requests_total whose labels include all of `wanted`, with their values. */
function series(wanted: Record<string, string>): { labels: Record<string, string>; value: number }[] {
  return exporter
    .render()
    .split('\n')
    .filter((line) => line.startsWith('istio_requests_total{'))
    .map((line) => {
      const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k!, v!]));
      return { labels, value: Number(line.split(' ').at(-1)) };
    })
    .filter(({ labels }) => Object.entries(wanted).every(([k, v]) => labels[k] === v));
}

beforeAll(async () => {
  exporter = await startIstioExporter();
  sim = await startSimMesh({ exporter, baseline: baselineFiles.flatMap(loadFixture).map((f) => f.object) });
});
afterAll(async () => {
  await sim.stop();
  await exporter.stop();
});

describe('the simulated mesh', () => {
  it('reports each request from both sides, and only the destination knows it was mutual TLS (istio_stats.cc)', async () => {
    exporter.restart();
    await sendFromPod(sim.meshClient, { url: bookinfoMeshUrls.productpage, count: 3, concurrency: 1, timeoutMs: 5_000 });
    const [source] = series({ reporter: 'source', source_workload: 'mesh-client', destination_service_name: 'productpage' });
    const [destination] = series({ reporter: 'destination', source_workload: 'mesh-client', destination_workload: 'productpage-v1' });
    expect(source).toMatchObject({ value: 3, labels: { connection_security_policy: 'unknown', destination_workload: 'productpage-v1', response_flags: '-' } });
    expect(destination).toMatchObject({ value: 3, labels: { connection_security_policy: 'mutual_tls', source_principal: 'spiffe://cluster.local/ns/meshproof/sa/mesh-client' } });
  });

  it('reports plaintext from outside the mesh as connection_security_policy none, from an unknown source', async () => {
    exporter.restart();
    await sendFromPod(sim.legacyClient, { url: bookinfoMeshUrls.productpage, count: 2, concurrency: 1, timeoutMs: 5_000 });
    expect(series({ reporter: 'destination', destination_workload: 'productpage-v1', source_workload: 'unknown' })[0]).toMatchObject({
      value: 2,
      labels: { connection_security_policy: 'none', source_principal: 'unknown' },
    });
    expect(series({ reporter: 'source', source_workload: 'legacy-client' })).toEqual([]);
  });

  it("answers a fault abort in the client's sidecar: no destination workload, the Service still named, never reaching ratings", async () => {
    exporter.restart();
    const before = sim.stats().answered['ratings-v1'] ?? 0;
    const abortAll = await objects(['fixtures/features/02-fault-injection.yaml']);
    (abortAll[0]!.spec as { http: { fault?: { abort?: { percentage: { value: number } } } }[] }).http.at(-1)!.fault!.abort!.percentage.value = 100;
    sim.apply(abortAll);
    const records = await sendFromPod(sim.meshClient, { url: bookinfoMeshUrls.ratings, count: 4, concurrency: 2, timeoutMs: 5_000 });
    sim.delete(abortAll);
    expect(records.map((r) => `${r.status} ${r.body}`)).toEqual(Array(4).fill('500 fault filter abort'));
    expect(series({ reporter: 'source', destination_service_name: 'ratings', response_flags: 'FI' })[0]).toMatchObject({
      value: 4,
      labels: { response_code: '500', destination_workload: 'unknown', destination_service: 'ratings.bookinfo.svc.cluster.local' },
    });
    expect(sim.stats().answered['ratings-v1'] ?? 0).toBe(before);
  });

  it("limits productpage's inbound side by the EnvoyFilter's bucket: its size at once, then one token per refill period, never more than its size", async () => {
    const limit = new IstioConfig(await objects(['fixtures/features/08-rate-limiting.yaml']));
    let now = 0;
    const limiter = new InboundRateLimiter(workload('productpage-v1'), () => 0.5, () => now);
    const passed = (count: number) => Array.from({ length: count }, () => limiter.refusal(limit, {}) === undefined).filter(Boolean).length;
    expect(passed(10)).toBe(4);
    // 4 tokens every 60 s: one comes back every 15 s, continuously, not 4 at once at the minute.
    now += 14_999;
    expect(passed(1)).toBe(0);
    now += 1;
    expect(passed(3)).toBe(1);
    now += 600_000;
    expect(passed(10)).toBe(4);
    expect(limiter.refusal(limit, {})).toEqual({ status: 429, headers: { 'content-type': 'text/plain', 'x-local-rate-limit': 'true' }, body: 'local_rate_limited' });
    // Broken on purpose: a bucket whose tokens never come back, a sidecar that ignores the filter.
    now += 600_000;
    expect(limiter.refusal(limit, { neverRefills: true })?.status).toBe(429);
    expect(limiter.refusal(limit, { ignored: true })).toBeUndefined();
  });

  it('limits nothing without filter_enabled, and refuses nothing without filter_enforced (FilterConfig::enabled, ::enforced)', async () => {
    const [filter] = await objects(['fixtures/features/08-rate-limiting.yaml']);
    const value = (filter!.spec as { configPatches: { patch: { value: { typed_config: { value: Record<string, unknown> } } } }[] }).configPatches[0]!.patch.value.typed_config.value;
    for (const missing of ['filter_enabled', 'filter_enforced']) {
      const { [missing]: _dropped, ...rest } = value;
      const copy = structuredClone(filter!);
      (copy.spec as { configPatches: { patch: { value: { typed_config: { value: unknown } } } }[] }).configPatches[0]!.patch.value.typed_config.value = rest;
      const limiter = new InboundRateLimiter(workload('productpage-v1'), () => 0.5, () => 0);
      expect(Array.from({ length: 10 }, () => limiter.refusal(new IstioConfig([copy]), {})).filter(Boolean)).toHaveLength(0);
    }
  });

  it('answers the limited requests in productpage\'s sidecar (429 RL, counted by it), while the client\'s sidecar sees an upstream 429', async () => {
    exporter.restart();
    const limit = await objects(['fixtures/features/08-rate-limiting.yaml']);
    const before = sim.stats().answered['productpage-v1'] ?? 0;
    sim.apply(limit);
    const records = await sendFromPod(sim.meshClient, { url: bookinfoMeshUrls.productpage, count: 10, concurrency: 10, timeoutMs: 5_000, keepHeaders: ['x-local-rate-limit'] });
    sim.delete(limit);
    expect(records.filter((r) => r.status === 200)).toHaveLength(4);
    expect(records.filter((r) => r.status === 429).map((r) => `${r.body} ${r.headers?.['x-local-rate-limit']}`)).toEqual(Array(6).fill('local_rate_limited true'));
    expect(sim.stats().answered['productpage-v1']! - before).toBe(4);
    expect(series({ reporter: 'destination', destination_workload: 'productpage-v1', response_code: '429' })[0]).toMatchObject({ value: 6, labels: { response_flags: 'RL' } });
    expect(series({ reporter: 'source', destination_service_name: 'productpage', response_code: '429' })[0]).toMatchObject({ value: 6, labels: { response_flags: '-' } });
  });

  it('sends every try of a retried request to the destination, which counts each, while the client counts one (URX)', async () => {
    exporter.restart();
    const retries = await objects(['fixtures/checks/httpbin-retries.yaml']);
    sim.apply(retries);
    await sendFromPod(sim.meshClient, { url: `${bookinfoMeshUrls.httpbin}/status/503`, count: 5, concurrency: 1, timeoutMs: 5_000 });
    sim.delete(retries);
    expect(series({ reporter: 'source', destination_service_name: 'httpbin', response_code: '503' }).map((s) => [s.labels.response_flags, s.value])).toEqual([['URX', 5]]);
    expect(series({ reporter: 'destination', destination_workload: 'httpbin', response_code: '503' })[0]!.value).toBe(15);
  });
});
