import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../helpers/config/config.ts';
import { PollTimeoutError } from '../../helpers/wait/poll.ts';
import { MeshproofError } from '../../helpers/errors.ts';
import { awaitStackReady } from '../../helpers/provision/provision.ts';
import { awaitAddonsReady, awaitDeploymentsAvailable, awaitProxiesSynced, awaitReviewsWarm, unavailableDeployments } from '../../helpers/provision/readiness.ts';
import { ToolRunner } from '../../helpers/provision/runner.ts';
import { labProxies, proxyStatusJson } from '../support/istioctl-outputs.ts';
import { PhaseTracker } from '../../helpers/provision/progress.ts';
import { startBookinfoDouble, type BookinfoDouble } from '../support/bookinfo-double.ts';
import { FakeCluster } from '../support/fake-cluster.ts';
import { startIstioExporter, type IstioExporter } from '../support/istio-exporter.ts';
import { prometheusAvailability, startPrometheus, type PrometheusHarness } from '../support/prometheus-harness.ts';
import { startStaticHttpServer, type StaticHttpServer } from '../support/static-http-server.ts';
import { useTempDirs } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-readiness-');
const fast = { MESHPROOF_TIMEOUT_POLL: '50ms', MESHPROOF_TIMEOUT_REQUEST: '2s' };

describe('waiting for the stack to serve, over real sockets', () => {
  const availability = prometheusAvailability();
  let bookinfo: BookinfoDouble;
  let addons: StaticHttpServer;
  let exporter: IstioExporter;
  let prometheus: PrometheusHarness | undefined;

  beforeAll(async () => {
    bookinfo = await startBookinfoDouble({ weights: { v1: 1, v2: 1, v3: 1 }, seed: 7 });
    addons = await startStaticHttpServer({
      '/api/health': { body: '{"commit":"abc","database":"ok","version":"12.0.1"}' },
      '/jaeger/api/services': { body: '{"data":["productpage.bookinfo"],"total":1,"limit":0,"offset":0,"errors":null}' },
      '/kiali/api/status': { body: '{"status":{"Kiali state":"running","Kiali version":"v2.26.0"}}' },
    });
    exporter = await startIstioExporter();
    exporter.add({ reporter: 'destination', destination_workload: 'productpage-v1' }, 3);
    if (availability.available) prometheus = await startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalMs: 1_000 });
  });
  afterAll(async () => {
    await Promise.all([bookinfo?.stop(), addons?.close(), exporter?.stop(), prometheus?.stop()]);
  });

  it.skipIf(!availability.available)('opens the forwards, warms up every reviews version and checks each addon', async () => {
    const config = loadConfig({ ...fast, MESHPROOF_TARGET: 'existing' }, tempDir());
    const cluster = new FakeCluster();
    cluster.forwards.set('istio-system/svc/istio-ingressgateway', bookinfo.url);
    cluster.forwards.set('istio-system/svc/prometheus', prometheus!.url);
    for (const svc of ['grafana', 'tracing', 'kiali']) cluster.forwards.set(`istio-system/svc/${svc}`, addons.url);
    const phases = new PhaseTracker(() => {});
    const ready = await awaitStackReady({ config, runner: cluster, phases, quietTrafficGenerator: true }, undefined);
    expect(ready).toMatchObject({ ingressUrl: bookinfo.url, kubernetesVersion: '1.36.4', istioVersion: '1.31.1' });
    expect(ready.addons.prometheus).toBe(prometheus!.url);
    expect(phases.phases.map((p) => p.name)).toEqual([
      'every workload available',
      'every proxy SYNCED with istiod',
      'ingress serves /productpage',
      'every reviews version answers (warm-up)',
      'Prometheus has Istio metrics; Grafana, Jaeger and Kiali answer',
    ]);
    expect(bookinfo.stats().requests).toBeGreaterThanOrEqual(4);
    await ready.close();
  });

  it('names the reviews versions that never answered', async () => {
    bookinfo.setOptions({ weights: { v1: 1, v2: 1, v3: 0 } });
    const config = loadConfig({ ...fast, MESHPROOF_TIMEOUT_WARMUP: '600ms' }, tempDir());
    const error = await awaitReviewsWarm(bookinfo.url, config.timeouts).catch((e: unknown) => e);
    bookinfo.setOptions({ weights: { v1: 1, v2: 1, v3: 1 } });
    expect(error).toBeInstanceOf(PollTimeoutError);
    expect((error as Error).message).toMatch(/waiting for every reviews version \(v1, v2, v3\) to answer through the gateway; last seen: answered so far: \{.*"reviews-v1":\d+.*\}/);
    expect((error as Error).message).not.toContain('reviews-v3');
  });
});

describe('awaiting Prometheus', () => {
  const healthyAddons = {
    '/api/health': { body: '{"database":"ok"}' },
    '/jaeger/api/services': { body: '{"data":[]}' },
    '/kiali/api/status': { body: '{"status":{"Kiali state":"running"}}' },
  };

  it.each([
    ['a Prometheus without Istio metrics', { body: '{"status":"success","data":{"resultType":"vector","result":[]}}' }, 'no istio_requests_total series yet'],
    ['something that is not Prometheus', { body: 'no such page', status: 404 }, 'HTTP 404: no such page'],
  ])('times out on %s, saying what it answered', async (_, answer, seen) => {
    const server = await startStaticHttpServer({ ...healthyAddons, '/api/v1/query': answer });
    try {
      const config = loadConfig({ ...fast, MESHPROOF_TIMEOUT_ADDON_READY: '300ms' }, tempDir());
      const urls = { prometheus: server.url, grafana: server.url, jaeger: server.url, kiali: server.url };
      const error = await awaitAddonsReady(urls, config.timeouts).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PollTimeoutError);
      expect((error as Error).message).toContain(`waiting for Prometheus to have scraped istio_requests_total; last seen: ${seen}`);
    } finally {
      await server.close();
    }
  });
});

describe('awaiting Deployments', () => {
  it('says which Deployments lag and why', () => {
    const lagging = unavailableDeployments({
      items: [
        { metadata: { name: 'reviews-v1' }, spec: { replicas: 1 }, status: { availableReplicas: 1, updatedReplicas: 1 } },
        {
          metadata: { name: 'reviews-v2' },
          spec: { replicas: 1 },
          status: { availableReplicas: 0, updatedReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', message: 'ProgressDeadlineExceeded' }] },
        },
      ],
    });
    expect(lagging).toEqual(['reviews-v2 0/1 available (ProgressDeadlineExceeded)']);
  });

  it('times out naming a Deployment that never appeared', async () => {
    const config = loadConfig({ ...fast, MESHPROOF_TIMEOUT_ROLLOUT: '200ms' }, tempDir());
    const error = await awaitDeploymentsAvailable(new FakeCluster(), 'istio-system', config.timeouts, ['istiod']).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/waiting for istiod in istio-system to be available; last seen: istiod does not exist yet/);
  });
});

describe('awaiting every proxy SYNCED (istioctl proxy-status)', () => {
  it('times out naming the proxies still STALE or NOT_SENT, and passes once istiod has them in sync', async () => {
    const config = loadConfig({ ...fast, MESHPROOF_TIMEOUT_PROXY_SYNC: '200ms' }, tempDir());
    const cluster = new FakeCluster();
    cluster.proxyStatus = proxyStatusJson(labProxies.map((p) => (p.id.startsWith('reviews-v3') ? { ...p, off: { RDS: 'STALE', EDS: 'NOT_SENT' } } : p)));
    const error = await awaitProxiesSynced(cluster, config.timeouts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PollTimeoutError);
    expect((error as Error).message).toContain('waiting for every proxy in the mesh to be SYNCED with istiod (istioctl proxy-status); last seen: not SYNCED: reviews-v3-7f8b9c5d6-r2vxs.bookinfo: EDS NOT_SENT, RDS STALE');
    expect(cluster.calls.at(-1)).toEqual({ tool: 'istioctl', args: ['proxy-status', '-o', 'json'] });

    cluster.proxyStatus = proxyStatusJson(labProxies);
    expect(await awaitProxiesSynced(cluster, config.timeouts)).toBe(labProxies.length);
  });

  it('says at once, not at the deadline, that istioctl cannot be run', async () => {
    const config = loadConfig({ ...fast, MESHPROOF_TIMEOUT_PROXY_SYNC: '1m' }, tempDir());
    const missing = `${tempDir()}/istioctl`;
    const runner = new ToolRunner({ kind: '/bin/false', helm: '/bin/false', kubectl: '/bin/false', istioctl: missing }, { kubeconfig: undefined, context: 'kind-meshproof' });
    const started = Date.now();
    const error = await awaitProxiesSynced(runner, config.timeouts).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((error as Error).message).toMatch(new RegExp(`^istioctl could not be run: .*${missing}`));
    expect((error as MeshproofError).fix).toContain('installed Istio release');
  });
});
