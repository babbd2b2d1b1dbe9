import { applyLabFeature, labFeatureObjects, resetLab } from '../../apply/lab.ts';
import { loadConfig, type MeshproofConfig } from '../../config/config.ts';
import { MeshproofError } from '../../errors.ts';
import { cleanup, type CleanupScope } from '../../provision/cleanup.ts';
import { clusterAccess, clusterRunnerOnDemand } from '../../provision/cluster.ts';
import { labClusterNodes, preflightLabCluster, runPreflight } from '../../provision/preflight.ts';
import { provisionStack, type OpenedForward } from '../../provision/provision.ts';
import type { ClusterRunner } from '../../provision/runner.ts';
import { buildStackPlan } from '../../provision/stack.ts';
import { PhaseTracker, stderrLog } from '../../provision/progress.ts';

/**
 * The commands that act on a cluster: preflight, deploy, cleanup, apply-feature, reset (monitor: monitor.ts). Each
 * checks its arguments first, then that the cluster is there and answers, and only then fetches kind, helm and
 * kubectl: a typo or a missing cluster is said in seconds, not after a download or a minute of retries.
 */

/**
 * The lab's cluster, proven to exist and answer (preflightLabCluster, which says what is missing and what to do),
 * the pinned tools wired to it, then `body`.
 */
export async function onLabCluster(config: MeshproofConfig, body: (runner: ClusterRunner, phases: PhaseTracker) => Promise<void>): Promise<void> {
  const phases = new PhaseTracker(stderrLog);
  const openRunner = clusterRunnerOnDemand(config, clusterAccess(config), (line) => phases.note(line));
  await preflightLabCluster(config, { openRunner });
  await body(await openRunner(), phases);
}

export async function preflight(): Promise<void> {
  const config = loadConfig();
  const result = await runPreflight(config, { openRunner: clusterRunnerOnDemand(config, clusterAccess(config), stderrLog) });
  if (result.engine) process.stdout.write(`${result.engine.name} ${result.engine.version} answers; kind can create the cluster.\n`);
  if (result.ingress?.state === 'free') process.stdout.write(`${result.ingress.address} is free for the ingress (MESHPROOF_INGRESS_PORT).\n`);
  if (result.ingress?.state === 'lab') process.stdout.write(`${result.ingress.address} is the lab's: the kind node ${result.ingress.node} publishes the ingress there.\n`);
  if (result.cluster) process.stdout.write(`context ${result.cluster.context} answers: Kubernetes ${result.cluster.version}${result.cluster.server ? ` at ${result.cluster.server}` : ''}.\n`);
  for (const warning of result.warnings) process.stdout.write(`warning: ${warning}\n`);
}

export async function deploy(): Promise<void> {
  const config = loadConfig();
  const phases = new PhaseTracker(stderrLog);
  const access = clusterAccess(config);
  // With istioctl: provisioning waits until istiod has every proxy in sync (istioctl proxy-status).
  const openRunner = clusterRunnerOnDemand(config, access, (line) => phases.note(line), true);
  await phases.run('preflight', async () => {
    for (const warning of (await runPreflight(config, { openRunner })).warnings) phases.note(`warning: ${warning}`);
  });
  const runner = await openRunner();
  const stack = await provisionStack({ config, runner, phases, quietTrafficGenerator: false });
  // deploy returns, like the lab's demo.sh: its port-forwards end with it, and these open them again on the ports
  // they had — the lab's where they were free.
  const forwarded = stack.forwards;
  await stack.close();
  const reopen = (f: OpenedForward) => `${`${f.title}:`.padEnd(12)}kubectl --context ${access.context} port-forward -n istio-system ${f.target} ${f.localPort}:${f.remotePort}   then ${f.url}`;
  const bookinfo = forwarded.find((f) => f.title === 'Bookinfo');
  process.stdout.write(
    [
      '',
      `The lab is up (Istio ${stack.istioVersion}, Kubernetes ${stack.kubernetesVersion}), in ${phases.total()}.`,
      bookinfo ? reopen(bookinfo) : `${'Bookinfo:'.padEnd(12)}${stack.ingressUrl}/productpage`,
      ...forwarded.filter((f) => f !== bookinfo).map(reopen),
      '',
    ].join('\n'),
  );
}

export async function cleanupLab(options: { appOnly?: boolean; addonsOnly?: boolean; deleteCluster?: boolean }): Promise<void> {
  const scope: CleanupScope = options.deleteCluster ? 'cluster' : options.appOnly ? 'app' : options.addonsOnly ? 'addons' : 'lab';
  const config = loadConfig();
  if (scope === 'cluster' && config.target !== 'kind') {
    throw new MeshproofError('--delete-cluster deletes a kind cluster, but MESHPROOF_TARGET is existing.', 'Use `meshproof cleanup` to remove the lab from that cluster.', 2);
  }
  if (scope === 'cluster' && (await labClusterNodes(config)).length === 0) {
    process.stdout.write(`there is no kind cluster named ${config.clusterName}: nothing to delete.\n`);
    return;
  }
  const act = async (runner: ClusterRunner, phases: PhaseTracker) => {
    await cleanup(scope, config, runner, phases);
    phases.note(`cleanup done in ${phases.total()}`);
  };
  if (scope !== 'cluster') return onLabCluster(config, act);
  // Deleting the cluster needs only kind, not a cluster that answers: a broken one is what is deleted most.
  const phases = new PhaseTracker(stderrLog);
  await act(await clusterRunnerOnDemand(config, clusterAccess(config), (line) => phases.note(line))(), phases);
}

export async function applyFeature(name: string): Promise<void> {
  const config = loadConfig();
  const objects = await labFeatureObjects(name);
  await onLabCluster(config, async (runner) => {
    await applyLabFeature(runner, config, objects);
    process.stdout.write(`applied ${objects.map(({ object, file }) => `${object.kind} ${object.metadata.namespace}/${object.metadata.name} (${file})`).join(', ')}\n`);
    process.stdout.write('Istio pushes it to the sidecars within seconds; `npx meshproof reset` restores the baseline routing.\n');
  });
}

export async function reset(): Promise<void> {
  const config = loadConfig();
  await onLabCluster(config, async (runner) => {
    await resetLab(runner, config);
    process.stdout.write('baseline routing restored: no feature VirtualServices, PeerAuthentication or DestinationRule changes remain.\n');
  });
}
