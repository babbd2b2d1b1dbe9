import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../helpers/config/config.ts';
import { cleanup } from '../../helpers/provision/cleanup.ts';
import { PhaseTracker } from '../../helpers/provision/progress.ts';
import { FakeCluster } from '../support/fake-cluster.ts';
import { useTempDirs } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-cleanup-');

function run(scope: Parameters<typeof cleanup>[0]) {
  const cluster = new FakeCluster();
  for (const release of ['istio-base', 'istiod', 'istio-ingressgateway', 'prometheus', 'grafana']) {
    cluster.releases.set(`istio-system/${release}`, { chart: `${release}-1`, values: null, deployments: [] });
  }
  const phases = new PhaseTracker(() => {});
  return { cluster, phases, done: cleanup(scope, loadConfig({}, tempDir()), cluster, phases) };
}

const commands = (cluster: FakeCluster) => cluster.calls.map(({ tool, args }) => `${tool} ${args.join(' ')}`);

describe('meshproof cleanup', () => {
  it('removes what the lab installed, in reverse order, and every Istio CRD', async () => {
    const { cluster, phases, done } = run('lab');
    await done;
    const calls = commands(cluster);
    expect(calls[0]).toBe('kubectl delete namespace traffic-gen bookinfo meshproof meshproof-legacy --ignore-not-found --wait=true');
    const deleteJaeger = cluster.calls.find((c) => c.args.includes('-f'))!;
    expect(deleteJaeger.input).toContain('name: jaeger-collector');
    expect(deleteJaeger.input).toContain('name: mesh-default');
    const uninstalls = calls.filter((c) => c.startsWith('helm uninstall')).map((c) => c.split(' ')[2]);
    expect(uninstalls).toEqual(['kiali', 'grafana', 'prometheus', 'istio-ingressgateway', 'istiod', 'istio-base']);
    expect(calls).toContain('kubectl delete customresourcedefinition.apiextensions.k8s.io/virtualservices.networking.istio.io --ignore-not-found');
    expect(calls.join('\n')).not.toContain('cert-manager');
    expect(calls.at(-1)).toBe('kubectl delete namespace istio-system --ignore-not-found --wait=true');
    // kiali was never installed here: its uninstall is reported, not fatal.
    expect(phases.phases.find((p) => p.name === 'uninstall the Helm release kiali')).toMatchObject({ status: 'skipped', detail: 'not installed' });
  });

  it('removes only the application namespaces with --app-only', async () => {
    const { cluster, done } = run('app');
    await done;
    expect(commands(cluster)).toEqual(['kubectl delete namespace traffic-gen bookinfo --ignore-not-found --wait=true']);
  });

  it('removes only the observability addons with --addons-only, as the plan installed them, newest first', async () => {
    const { cluster, phases, done } = run('addons');
    await done;
    const calls = commands(cluster);
    expect(calls.map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
      'helm uninstall kiali',
      'kubectl delete --ignore-not-found',
      'helm uninstall grafana',
      'kubectl delete configmap',
      'helm uninstall prometheus',
    ]);
    const jaeger = cluster.calls.find((c) => c.args.includes('-f'))!;
    expect(jaeger.input).toContain('name: jaeger-collector');
    // The mesh's Telemetry is Istio's configuration, not an addon: it stays, as do Istio, the app and every namespace.
    expect(jaeger.input).not.toContain('kind: Telemetry');
    expect(calls).toContain('kubectl delete configmap istio-dashboards -n istio-system --ignore-not-found');
    expect(calls.join('\n')).not.toMatch(/istiod|istio-base|istio-ingressgateway|namespace|crd/);
    expect(phases.phases.map((p) => p.name)[0]).toMatch(/^remove Kiali \(/);
    // The control: the whole lab's cleanup does remove Istio.
    const lab = run('lab');
    await lab.done;
    expect(commands(lab.cluster)).toContain('helm uninstall istiod -n istio-system --wait --timeout 300s');
  });

  it('deletes the kind cluster with --delete-cluster', async () => {
    const { cluster, done } = run('cluster');
    await done;
    expect(commands(cluster)).toEqual(['kind delete cluster --name meshproof']);
  });
});
