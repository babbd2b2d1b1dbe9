import { describe, expect, it } from 'vitest';
import { loadConfig, type MeshproofConfig } from '../../helpers/config/config.ts';
import { MeshproofError } from '../../helpers/errors.ts';
import { applyStack, helmInstallArgs } from '../../helpers/provision/provision.ts';
import { buildStackPlan, type HelmReleaseStep } from '../../helpers/provision/stack.ts';
import { PhaseTracker } from '../../helpers/report/progress.ts';
import { FakeCluster } from '../support/fake-cluster.ts';
import { useTempDirs } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-provision-');
const chartDeployments = {
  istiod: ['istiod'],
  'istio-ingressgateway': ['istio-ingressgateway'],
  prometheus: ['prometheus'],
  grafana: ['grafana'],
  kiali: ['kiali'],
};

function setup(env: NodeJS.ProcessEnv = {}) {
  const config: MeshproofConfig = loadConfig({ MESHPROOF_TIMEOUT_POLL: '10ms', ...env }, tempDir());
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

  it('installs each chart at the pinned version with its values file, --wait and a timeout', async () => {
    const { cluster, apply } = setup({ MESHPROOF_ISTIO_VERSION: '1.29' });
    await apply();
    const istiod = cluster.calls.find((c) => c.tool === 'helm' && c.args[2] === 'istiod')!.args;
    expect(istiod).toEqual(expect.arrayContaining(['--repo', 'https://istio-release.storage.googleapis.com/charts', '--version', '1.29.6', '--namespace', 'istio-system', '--wait']));
    expect(istiod[istiod.indexOf('--values') + 1]).toMatch(/fixtures\/istio\/istiod-values\.yaml$/);
  });

  it('applies Bookinfo with the image registry of the configured Istio release', async () => {
    const { cluster, apply } = setup({ MESHPROOF_ISTIO_VERSION: '1.29' });
    await apply();
    const bookinfo = cluster.calls.filter((c) => c.args[0] === 'apply').map((c) => c.input ?? '').find((i) => i.includes('productpage-v1'))!;
    expect(bookinfo).toContain('image: docker.io/istio/examples-bookinfo-reviews-v3:1.20.3');
    expect(bookinfo).not.toContain('registry.istio.io');
  });

  it('reports each phase with its duration', async () => {
    const { apply, phases, log } = setup();
    await apply();
    expect(phases.phases.map((p) => p.status)).toEqual(phases.phases.map(() => 'done'));
    expect(log).toContain('▶ kind cluster meshproof');
    expect(log.some((line) => /^✓ Istio control plane \(istio\/istiod 1\.30\.3\) \(\d+ ms\)$/.test(line))).toBe(true);
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
    expect(skipped).toContain('istiod (istiod-1.30.3) already deployed with these values');
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
    expect(phases.phases.at(-1)).toMatchObject({ name: 'Istio control plane (istio/istiod 1.30.3)', status: 'failed' });
    expect(cluster.mutations()).not.toContain('helm upgrade --install istio-ingressgateway gateway');
  });
});

describe('helmInstallArgs', () => {
  it('is the canonical idempotent install', () => {
    const config = loadConfig({}, tempDir());
    const step = buildStackPlan(config).find((p) => p.step.kind === 'helm-release')!.step as HelmReleaseStep;
    expect(helmInstallArgs(step, config, (f) => f).join(' ')).toBe(
      'upgrade --install istio-base base --repo https://istio-release.storage.googleapis.com/charts --version 1.30.3 --namespace istio-system --create-namespace --values fixtures/istio/base-values.yaml --wait --timeout 600s',
    );
  });
});
