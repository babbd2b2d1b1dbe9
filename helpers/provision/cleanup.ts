import { stringify } from 'yaml';
import { loadFixture, type KubeObject } from '../config/manifests.ts';
import type { MeshproofConfig } from '../config/config.ts';
import type { PhaseTracker } from './progress.ts';
import { runOrFail, type ClusterRunner } from './runner.ts';
import { buildStackPlan, type StackStep } from './stack.ts';

export type CleanupScope =
  /** Everything the lab installed, as the lab's `demo.sh cleanup` lists it. */
  | 'lab'
  /** Only the application: the bookinfo and traffic-gen namespaces (Istio and the addons stay). */
  | 'app'
  /** Only the observability addons: Prometheus, Grafana with its dashboards, Jaeger, Kiali (Istio and the app stay). */
  | 'addons'
  /** The whole kind cluster. */
  | 'cluster';

const labNamespaces = ['traffic-gen', 'bookinfo', 'meshproof', 'meshproof-legacy'];
/** Uninstalled in reverse install order: addons first, the gateway before istiod, istiod before the CRDs. */
const helmReleases = ['kiali', 'grafana', 'prometheus', 'istio-ingressgateway', 'istiod', 'istio-base'];

export async function cleanup(scope: CleanupScope, config: MeshproofConfig, runner: ClusterRunner, phases: PhaseTracker): Promise<void> {
  const timeoutMs = config.timeouts.cleanup;
  if (scope === 'cluster') {
    await phases.run(`delete the kind cluster ${config.clusterName}`, async () => {
      await runOrFail(runner, 'kind', ['delete', 'cluster', '--name', config.clusterName], { timeoutMs });
    });
    return;
  }
  if (scope === 'addons') {
    // The addons exactly as the plan installs them, removed in reverse order: Kiali first, Prometheus last.
    const addons = buildStackPlan(config).filter((phase) => phase.addon).reverse();
    for (const { name, step } of addons) await phases.run(`remove ${name}`, () => removeStep(step, runner, timeoutMs));
    return;
  }
  const namespaces = scope === 'app' ? ['traffic-gen', 'bookinfo'] : labNamespaces;
  await phases.run(`delete namespaces ${namespaces.join(', ')}`, async () => {
    await runOrFail(runner, 'kubectl', ['delete', 'namespace', ...namespaces, '--ignore-not-found', '--wait=true'], { timeoutMs });
  });
  if (scope === 'app') return;

  await phases.run('delete Jaeger and the mesh Telemetry', async () => {
    // The objects meshproof applied, named by the same fixtures, so nothing else in istio-system is touched.
    const objects = ['fixtures/addons/jaeger.yaml', 'fixtures/istio/telemetry.yaml'].flatMap(loadFixture);
    await deleteObjects(objects.map(({ object }) => object), runner, timeoutMs);
  });
  for (const release of helmReleases) {
    await phases.run(`uninstall the Helm release ${release}`, () => uninstallRelease(release, 'istio-system', runner, timeoutMs));
  }
  // The CRDs can outlive the base release (kept by a resource policy, or installed by other means); the lab's
  // cleanup removes every Istio CRD.
  await phases.run('delete the Istio CRDs', async () => {
    const crds = await runOrFail(runner, 'kubectl', ['get', 'crd', '-o', 'name'], { timeoutMs });
    const istioCrds = crds.stdout.split('\n').filter((name) => /\.istio\.io$/.test(name.trim()));
    if (istioCrds.length === 0) return 'none left';
    await runOrFail(runner, 'kubectl', ['delete', ...istioCrds, '--ignore-not-found'], { timeoutMs });
  });
  await phases.run('delete the istio-system namespace', async () => {
    await runOrFail(runner, 'kubectl', ['delete', 'namespace', 'istio-system', '--ignore-not-found', '--wait=true'], { timeoutMs });
  });
}

/** Undoes one phase of the plan: its Helm release (one not installed is reported so), its manifests or its ConfigMap. */
async function removeStep(step: StackStep, runner: ClusterRunner, timeoutMs: number): Promise<string | void> {
  switch (step.kind) {
    case 'helm-release':
      return uninstallRelease(step.release, step.namespace, runner, timeoutMs);
    case 'apply':
      return deleteObjects(step.objects.map(({ object }) => object), runner, timeoutMs);
    case 'pinned-configmap':
      await runOrFail(runner, 'kubectl', ['delete', 'configmap', step.name, '-n', step.namespace, '--ignore-not-found'], { timeoutMs });
      return;
    case 'kind-cluster':
      throw new Error('cleanup removes a kind cluster with `kind delete cluster`, not as a phase');
  }
}

async function deleteObjects(objects: KubeObject[], runner: ClusterRunner, timeoutMs: number): Promise<void> {
  await runOrFail(runner, 'kubectl', ['delete', '--ignore-not-found', '--wait=true', '-f', '-'], {
    input: objects.map((object) => stringify(object)).join('---\n'),
    timeoutMs,
  });
}

async function uninstallRelease(release: string, namespace: string, runner: ClusterRunner, timeoutMs: number): Promise<string | void> {
  const result = await runner.run('helm', ['uninstall', release, '-n', namespace, '--wait', '--timeout', `${Math.round(timeoutMs / 1000)}s`], { timeoutMs });
  if (result.exitCode !== 0 && /not found/i.test(result.stderr)) return 'not installed';
  if (result.exitCode !== 0) throw new Error(`helm uninstall ${release}: ${result.stderr.trim()}`);
}
