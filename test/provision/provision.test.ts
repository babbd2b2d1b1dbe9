import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, type MeshproofConfig } from '../../helpers/config/config.ts';
import { MeshproofError } from '../../helpers/errors.ts';
import { applyStack, helmInstallArgs, ingressUrlOnHost } from '../../helpers/provision/provision.ts';
import { buildStackPlan, type HelmReleaseStep } from '../../helpers/provision/stack.ts';
import { PhaseTracker } from '../../helpers/provision/progress.ts';
import { FakeCluster } from '../support/fake-cluster.ts';
import { useTempDirs } from '../support/temp.ts';
import { startStaticHttpServer, type StaticHttpServer } from '../support/static-http-server.ts';
import { fixturesWithLoopbackDashboards } from '../support/dashboard-fixtures.ts';

const tempDir = useTempDirs('meshproof-provision-');

/**
 * Istio's dashboards come from the internet: here, from a loopback server, through a copy of the fixtures whose
 * grafana-dashboards.yaml points at it and pins the hashes of what it serves.
 */
let dashboards: StaticHttpServer;
let fixtures: string;
beforeAll(async () => {
  dashboards = await startStaticHttpServer();
  fixtures = fixturesWithLoopbackDashboards(mkdtempSync(path.join(os.tmpdir(), 'meshproof-fixtures-')), dashboards);
});
afterAll(async () => {
  await dashboards.close();
  rmSync(path.dirname(fixtures), { recursive: true, force: true });
});
beforeEach(() => vi.stubEnv('MESHPROOF_FIXTURES_DIR', fixtures));
afterEach(() => vi.unstubAllEnvs());
const chartDeployments = {
  istiod: ['istiod'],
  'istio-ingressgateway': ['istio-ingressgateway'],
  prometheus: ['prometheus'],
  grafana: ['grafana'],
  kiali: ['kiali'],
};

function setup(env: NodeJS.ProcessEnv = {}) {
  const config: MeshproofConfig = loadConfig({ MESHPROOF_TIMEOUT_POLL: '10ms', MESHPROOF_TOOLS_DIR: tempDir(), ...env }, tempDir());
  const cluster = new FakeCluster(chartDeployments);
  const log: string[] = [];
  const phases = new PhaseTracker((line) => log.push(line));
  return { config, cluster, phases, log, apply: () => applyStack({ config, runner: cluster, phases, quietTrafficGenerator: true }) };
}

describe('provisioning a fresh kind cluster', () => {
  it('creates the cluster, then installs Istio, the addons and the workloads in order', async () => {
    const { cluster, apply } = setup();
    await apply();
    expect(cluster.mutations()).toEqual([
      'kind create cluster --name meshproof',
      'helm upgrade --install istio-base base',
      'helm upgrade --install istiod istiod',
      'helm upgrade --install istio-ingressgateway gateway',
      'kubectl apply --server-side --field-manager=meshproof --force-conflicts',
      'helm upgrade --install prometheus prometheus',
      'kubectl apply --server-side --field-manager=meshproof --force-conflicts',
      'helm upgrade --install grafana grafana',
      'kubectl apply --server-side --field-manager=meshproof --force-conflicts',
      'helm upgrade --install kiali kiali-server',
      'kubectl apply --server-side --field-manager=meshproof --force-conflicts',
      'kubectl apply --server-side --field-manager=meshproof --force-conflicts',
      'kubectl apply --server-side --field-manager=meshproof --force-conflicts',
      'kubectl patch cronjob traffic-generator -n',
      'kubectl delete jobs -n traffic-gen',
    ]);
    expect(cluster.cronJobSuspended).toBe(true);
  });

  it('creates the kind cluster from the fixture with the pinned node image and waits for it', async () => {
    const { cluster, apply, config } = setup({ MESHPROOF_K8S_VERSION: '1.35', MESHPROOF_CLUSTER_NAME: 'lab' });
    await apply();
    const create = cluster.calls.find((c) => c.tool === 'kind' && c.args[0] === 'create')!;
    expect(create.args).toEqual(['create', 'cluster', '--name', 'lab', '--config', '-', '--wait', `${config.timeouts.clusterCreate / 1000}s`]);
    expect(create.input).toContain('name: lab');
    expect(create.input).toContain(`image: ${config.kubernetes!.nodeImage}`);
    expect(create.input).toContain('containerPort: 30080');
  });

  it('publishes the ingress on MESHPROOF_INGRESS_PORT (8080 by default), where the run then reaches Bookinfo', async () => {
    const hostPortOf = (input: string) => (parse(input) as { nodes: { extraPortMappings: { hostPort: number; containerPort: number }[] }[] }).nodes[0]!.extraPortMappings[0];
    const moved = setup({ MESHPROOF_INGRESS_PORT: '18080' });
    await moved.apply();
    expect(hostPortOf(moved.cluster.calls.find((c) => c.tool === 'kind' && c.args[0] === 'create')!.input!)).toEqual({ containerPort: 30080, hostPort: 18080, listenAddress: '127.0.0.1', protocol: 'TCP' });
    expect(ingressUrlOnHost(buildStackPlan(moved.config))).toBe('http://127.0.0.1:18080');
    // The control: the lab's own port when the setting is not given.
    expect(ingressUrlOnHost(buildStackPlan(setup().config))).toBe('http://127.0.0.1:8080');
  });

  it('installs each chart at the pinned version with its values file, --wait and a timeout', async () => {
    const { cluster, apply } = setup({ MESHPROOF_ISTIO_VERSION: '1.30' });
    await apply();
    const istiod = cluster.calls.find((c) => c.tool === 'helm' && c.args[2] === 'istiod')!.args;
    expect(istiod).toEqual(expect.arrayContaining(['--repo', 'https://istio-release.storage.googleapis.com/charts', '--version', '1.30.5', '--namespace', 'istio-system', '--wait']));
    expect(istiod[istiod.indexOf('--values') + 1]).toMatch(/fixtures\/istio\/istiod-values\.yaml$/);
    expect(istiod).not.toContain('--set');
  });

  it('applies Bookinfo with the image registry of the configured Istio release', async () => {
    const { cluster, apply } = setup({ MESHPROOF_ISTIO_VERSION: '1.30' });
    await apply();
    const bookinfo = cluster.calls.filter((c) => c.args[0] === 'apply').map((c) => c.input ?? '').find((i) => i.includes('productpage-v1'))!;
    expect(bookinfo).toContain('image: registry.istio.io/release/examples-bookinfo-reviews-v3:1.20.3');
  });

  it('takes Istio\'s and Bookinfo\'s images from MESHPROOF_ISTIO_HUB when set', async () => {
    const { cluster, apply } = setup({ MESHPROOF_ISTIO_HUB: 'mirror.example:5000/istio' });
    await apply();
    const istiod = cluster.calls.find((c) => c.tool === 'helm' && c.args[2] === 'istiod')!.args;
    expect(istiod[istiod.indexOf('--set') + 1]).toBe('global.hub=mirror.example:5000/istio');
    const bookinfo = cluster.calls.filter((c) => c.args[0] === 'apply').map((c) => c.input ?? '').find((i) => i.includes('productpage-v1'))!;
    expect(bookinfo).toContain('image: mirror.example:5000/istio/examples-bookinfo-reviews-v3:1.20.3');
  });

  it("puts the Istio release's own dashboards into a ConfigMap before Grafana, each checked against its sha256", async () => {
    const { cluster, apply } = setup();
    await apply();
    const configMap = cluster.calls.find((c) => c.args[0] === 'apply' && (c.input ?? '').includes('name: istio-dashboards'))!;
    expect(configMap.input).toContain('istio-mesh.json:');
    expect(configMap.input).toContain('dashboard istio-service.json');
    expect(dashboards.requests).toContain('/istio/1.31.1/pilot-dashboard.gen.json');
  });

  it('refuses a dashboard whose bytes are not the pinned ones, naming both hashes', async () => {
    const served = dashboards.routes['/istio/1.31.1/istio-service-dashboard.json'];
    dashboards.routes['/istio/1.31.1/istio-service-dashboard.json'] = { body: '{"title":"something else"}' };
    const { apply } = setup({ MESHPROOF_TOOLS_DIR: tempDir() });
    const error = (await apply().then(() => undefined, (e: unknown) => e)) as MeshproofError;
    dashboards.routes['/istio/1.31.1/istio-service-dashboard.json'] = served!;
    expect(error).toBeInstanceOf(MeshproofError);
    expect(error.message).toMatch(/^Istio Service Dashboard \(fixtures\/addons\/grafana-dashboards\.yaml\) was refused: its sha256 is [0-9a-f]{64}, but [0-9a-f]{64} is pinned/);
  });

  it('reports each phase with its duration', async () => {
    const { apply, phases, log } = setup();
    await apply();
    expect(phases.phases.map((p) => p.status)).toEqual(phases.phases.map(() => 'done'));
    expect(log).toContain('▶ kind cluster meshproof');
    expect(log.some((line) => /^✓ Istio control plane \(istio\/istiod 1\.31\.1\) \(\d+ ms\)$/.test(line))).toBe(true);
  });
});

describe('provisioning a cluster that already holds the stack', () => {
  /** A second run against the state the first one left (the same cluster, releases and objects). */
  async function provisionedTwice() {
    const first = setup();
    await first.apply();
    const again = setup();
    Object.assign(again.cluster, { clusters: first.cluster.clusters, serverVersion: first.cluster.serverVersion });
    for (const [k, v] of first.cluster.releases) again.cluster.releases.set(k, v);
    for (const [k, v] of first.cluster.objects) again.cluster.objects.set(k, v);
    return { first, again };
  }

  it('skips every phase, saying why, and changes nothing but the traffic generator', async () => {
    const { again } = await provisionedTwice();
    await again.apply();
    expect(again.cluster.mutations()).toEqual(['kubectl patch cronjob traffic-generator -n', 'kubectl delete jobs -n traffic-gen']);
    const skipped = again.phases.phases.filter((p) => p.status === 'skipped').map((p) => p.detail);
    expect(skipped).toContain('kind cluster meshproof (Kubernetes 1.36.4) already exists');
    expect(skipped).toContain('istiod (istiod-1.31.1) already deployed with these values');
    expect(skipped.some((d) => /objects already as declared$/.test(d ?? ''))).toBe(true);
    expect(again.log.some((line) => line.includes('already deployed with these values — skipped'))).toBe(true);
  });

  it('upgrades a release whose values differ from the fixture', async () => {
    const { first, again } = await provisionedTwice();
    again.cluster.releases.set('istio-system/istiod', { ...first.cluster.releases.get('istio-system/istiod')!, values: { meshConfig: {} } });
    await again.apply();
    expect(again.cluster.mutations()).toContain('helm upgrade --install istiod istiod');
    expect(again.cluster.mutations()).not.toContain('helm upgrade --install istio-base base');
  });

  it.each([
    ['pending-upgrade', 'helm rollback istiod -n istio-system'],
    ['pending-install', 'helm uninstall istiod -n istio-system'],
  ])('stops at a release an interrupted helm left %s, saying how to resolve it, before helm refuses it', async (status, undo) => {
    const { first, again } = await provisionedTwice();
    again.cluster.releases.set('istio-system/istiod', { ...first.cluster.releases.get('istio-system/istiod')!, status });
    const error = await again.apply().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshproofError);
    expect((error as MeshproofError).message).toBe(
      `the Helm release istiod in istio-system is ${status}: an earlier helm run on this cluster was interrupted, or one is running now, and helm refuses to change it until that is resolved.`,
    );
    expect((error as MeshproofError).fix).toContain(undo);
    expect(again.cluster.mutations().filter((m) => m.includes('istiod'))).toEqual([]);
  });

  it('refuses to reuse a kind cluster that runs another Kubernetes version', async () => {
    const { cluster, apply } = setup({ MESHPROOF_K8S_VERSION: '1.35' });
    cluster.clusters = ['meshproof'];
    cluster.serverVersion = '1.34.11';
    const error = await apply().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshproofError);
    expect((error as MeshproofError).message).toBe('the kind cluster meshproof already exists with Kubernetes 1.34.11, but 1.35.8 is configured.');
    expect((error as MeshproofError).fix).toContain('npx meshproof cleanup --delete-cluster');
  });

  it('does not create a cluster for an existing target, and keeps the gateway off NodePorts there', async () => {
    const { cluster, apply } = setup({ MESHPROOF_TARGET: 'existing', MESHPROOF_CONTEXT: 'prod' });
    await apply();
    expect(cluster.calls.some((c) => c.tool === 'kind')).toBe(false);
    const gateway = cluster.releases.get('istio-system/istio-ingressgateway')!.values as { service: { type: string; ports: object[] } };
    expect(gateway.service.type).toBe('ClusterIP');
    expect(JSON.stringify(gateway.service.ports)).not.toContain('nodePort');
    const install = cluster.calls.find((c) => c.args[2] === 'istio-ingressgateway')!.args;
    expect(install.filter((a) => a.endsWith('.yaml')).map((a) => a.split('/').pop())).toEqual(['gateway-values.yaml', 'gateway-values-existing.yaml']);
  });
});

describe('a failing phase', () => {
  it('stops the run with the tool output, and marks the phase failed', async () => {
    const { cluster, apply, phases } = setup();
    cluster.failures.set('upgrade --install istiod', { exitCode: 1, stdout: '', stderr: 'Error: INSTALLATION FAILED: context deadline exceeded' });
    const error = await apply().catch((e: unknown) => e);
    expect((error as Error).message).toContain('INSTALLATION FAILED: context deadline exceeded');
    expect(phases.phases.at(-1)).toMatchObject({ name: 'Istio control plane (istio/istiod 1.31.1)', status: 'failed' });
    expect(cluster.mutations()).not.toContain('helm upgrade --install istio-ingressgateway gateway');
  });
});

describe('helmInstallArgs', () => {
  it('is the canonical idempotent install', () => {
    const config = loadConfig({}, tempDir());
    const step = buildStackPlan(config).find((p) => p.step.kind === 'helm-release')!.step as HelmReleaseStep;
    expect(helmInstallArgs(step, config, (f) => f).join(' ')).toBe(
      'upgrade --install istio-base base --repo https://istio-release.storage.googleapis.com/charts --version 1.31.1 --namespace istio-system --create-namespace --values fixtures/istio/base-values.yaml --wait --timeout 600s',
    );
  });
});
