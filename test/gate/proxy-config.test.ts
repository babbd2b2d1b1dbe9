import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareFeatureConfig } from '../../helpers/apply/feature-config.ts';
import { awaitProxiesHave, clustersByName, proxyExpectations, routeNamesByVirtualHost, type ProxyAdmin } from '../../helpers/gate/proxy-config.ts';
import { startIstioExporter, type IstioExporter } from '../support/istio-exporter.ts';
import { startSimMesh, type SimMesh } from '../support/mesh-sim/mesh.ts';

/**
 * The per-proxy gate against the simulated mesh's sidecars, whose config dumps follow Envoy's admin output and
 * Istio's naming; a held proxy plays one that istiod's push does not reach.
 */
let exporter: IstioExporter;
let sim: SimMesh;
let admin: ProxyAdmin;
const quick = { timeoutMs: 400, intervalMs: 20 };

beforeAll(async () => {
  exporter = await startIstioExporter();
  sim = await startSimMesh({ exporter });
  admin = async ({ workload }, path) => sim.configDump(workload, path);
});
afterAll(async () => {
  await sim.stop();
  await exporter.stop();
});

describe('the enforcing proxies of a feature', () => {
  it("are the callers of each VirtualService's and DestinationRule's host", async () => {
    const delay = await prepareFeatureConfig(['fixtures/features/04-request-routing.yaml', 'fixtures/features/02-fault-injection.yaml'], 'abc12345');
    const wanted = proxyExpectations(delay.objects.map((o) => o.object), delay.applyId).map((e) => `${e.proxy.workload}: ${e.wants}`);
    expect(wanted).toEqual([
      'productpage-v1: route meshproof-live-probe-abc12345 for reviews.bookinfo.svc.cluster.local',
      'mesh-client: route meshproof-live-probe-abc12345 for reviews.bookinfo.svc.cluster.local',
      'reviews-v2: route meshproof-live-probe-abc12345 for ratings.bookinfo.svc.cluster.local',
      'reviews-v3: route meshproof-live-probe-abc12345 for ratings.bookinfo.svc.cluster.local',
      'mesh-client: route meshproof-live-probe-abc12345 for ratings.bookinfo.svc.cluster.local',
    ]);
    const strict = await prepareFeatureConfig(['fixtures/features/07-mtls-strict.yaml'], 'x');
    expect(proxyExpectations(strict.objects.map((o) => o.object), 'x')).toEqual([]);
  });
});

describe('awaitProxiesHave', () => {
  it('passes once every proxy has the apply, and names the one that lags with what it has', async () => {
    const delay = await prepareFeatureConfig(['fixtures/features/04-request-routing.yaml', 'fixtures/features/02-fault-injection.yaml']);
    const expectations = proxyExpectations(delay.objects.map((o) => o.object), delay.applyId);
    sim.holdConfig('reviews-v2', true);
    sim.apply(delay.objects.map((o) => o.object));
    const lagging = await awaitProxiesHave(expectations, admin, { what: 'the delay for jason', ...quick }).then(() => new Error("no lag"), (e: unknown) => e as Error);
    expect(lagging.message).toMatch(
      /^the delay for jason did not reach every proxy within 400 ms: 1 lag \(bookinfo\/reviews-v2 wants route meshproof-live-probe-[0-9a-f]{8} for ratings\.bookinfo\.svc\.cluster\.local; it has routes for ratings\.bookinfo\.svc\.cluster\.local: default\); these have it: bookinfo\/productpage-v1, meshproof\/mesh-client, bookinfo\/reviews-v3, meshproof\/mesh-client$/,
    );
    sim.holdConfig('reviews-v2', false);
    const proven = await awaitProxiesHave(expectations, admin, { what: 'the delay for jason', ...quick });
    expect(proven.proxies).toHaveLength(5);
    sim.delete(delay.objects.map((o) => o.object));
  });

  it("checks a DestinationRule's values in the caller's cluster", async () => {
    const breaker = await prepareFeatureConfig(['fixtures/features/03-circuit-breaker.yaml']);
    const expectations = proxyExpectations(breaker.objects.map((o) => o.object), breaker.applyId);
    sim.holdConfig('mesh-client', true);
    sim.apply(breaker.objects.map((o) => o.object));
    const lagging = await awaitProxiesHave(expectations, admin, { what: 'the circuit breaker', ...quick }).then(() => new Error("no lag"), (e: unknown) => e as Error);
    expect(lagging.message).toContain(
      'meshproof/mesh-client wants cluster outbound|…||reviews.bookinfo.svc.cluster.local with max_connections 1, max_pending_requests 1, consecutive_5xx 1, interval 1000, base_ejection_time 180000, max_ejection_percent 100; it has max_connections 4294967295, max_pending_requests 4294967295, consecutive_5xx unset',
    );
    sim.holdConfig('mesh-client', false);
    await awaitProxiesHave(expectations, admin, { what: 'the circuit breaker', ...quick });
    sim.delete(breaker.objects.map((o) => o.object));
  });

  it('says which command printed something other than JSON, and what it printed', async () => {
    const breaker = await prepareFeatureConfig(['fixtures/features/03-circuit-breaker.yaml']);
    const expectations = proxyExpectations(breaker.objects.map((o) => o.object), breaker.applyId);
    const broken: ProxyAdmin = async (proxy, path) => (proxy.workload === 'mesh-client' ? 'error: unable to upgrade connection: container not found ("istio-proxy")' : admin(proxy, path));
    sim.apply(breaker.objects.map((o) => o.object));
    const lagging = await awaitProxiesHave(expectations, broken, { what: 'the circuit breaker', ...quick }).then(() => new Error('no lag'), (e: unknown) => e as Error);
    sim.delete(breaker.objects.map((o) => o.object));
    expect(lagging.message).toContain(
      'meshproof/mesh-client wants cluster outbound|…||reviews.bookinfo.svc.cluster.local with max_connections 1, max_pending_requests 1, consecutive_5xx 1, interval 1000, base_ejection_time 180000, max_ejection_percent 100; ' +
        'it has `pilot-agent request GET config_dump?resource=dynamic_active_clusters` printed something that is not JSON: "error: unable to upgrade connection: container not found (\\"istio-proxy\\")"',
    );
  });
});

describe('reading a config dump', () => {
  it('finds routes and clusters in the whole dump as in a single resource', () => {
    const whole = {
      configs: [
        { '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: { node: { id: 'sidecar~10.0.0.1~x' } } },
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
          dynamic_active_clusters: [{ version_info: '1', cluster: { name: 'outbound|9080||reviews.bookinfo.svc.cluster.local', circuit_breakers: { thresholds: [{ max_connections: 1 }] } } }],
        },
        {
          '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
          dynamic_route_configs: [{ route_config: { name: '9080', virtual_hosts: [{ name: 'reviews.bookinfo.svc.cluster.local:9080', routes: [{ name: 'meshproof-live-probe-1' }, { name: '' }] }] } }],
        },
      ],
    };
    expect(routeNamesByVirtualHost(whole).get('reviews.bookinfo.svc.cluster.local:9080')).toEqual(['meshproof-live-probe-1', '']);
    expect(clustersByName(whole).get('outbound|9080||reviews.bookinfo.svc.cluster.local')).toMatchObject({ circuit_breakers: { thresholds: [{ max_connections: 1 }] } });
  });
});
