import os from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import which from 'which';
import type { MeshproofConfig } from '../config/config.ts';
import { istioSupportsKubernetes } from '../config/versions.ts';
import { errorText, MeshproofError } from '../errors.ts';
import { commandLine, kubernetesServerVersion, type ClusterRunner } from './runner.ts';
import { parseToolJson } from './tool-json.ts';
import { formatDuration } from '../config/timeouts.ts';
import { describePortHolder, findPortHolder, firstFreePort, hostPortState } from '../net/host-port.ts';
import { containersPublishing, kindClusterLabel, listKindNodes, publishes, type EngineContainer } from './kind-nodes.ts';
import { ingressMapping, kindClusterStep } from './stack.ts';

export type ContainerEngine = 'docker' | 'podman';

export interface PreflightResult {
  target: MeshproofConfig['target'];
  /** kind only: the engine that will run the kind node. */
  engine?: { name: ContainerEngine; version: string; memoryBytes: number | undefined };
  /**
   * kind only: the host address kind publishes the ingress on, free for it, or already the lab's (published by
   * this cluster's own node).
   */
  ingress?: { address: string; state: 'free' | 'lab'; node?: string };
  /** The context that answered and its server version (existing; kind for the commands on a lab that exists). */
  cluster?: { context: string; server?: string; version: string };
  /** Advice that does not stop the run (memory below what the stack needs). */
  warnings: string[];
}

/** The stack (istiod, gateway, four addons, six Bookinfo pods with sidecars) needs about 6 to 8 GB. */
export const recommendedMemoryBytes = 6 * 1024 ** 3;

const useExistingCluster =
  'Or use a cluster you already have: MESHPROOF_TARGET=existing MESHPROOF_CONTEXT=<context> npm test\n' +
  '(add MESHPROOF_KUBECONFIG=<file> when the context is not in your default kubeconfig).';

export interface PreflightOptions {
  /**
   * The run's pinned tools (clusterRunnerOnDemand): an existing cluster is asked for its version
   * through kubectl, like every other question meshproof asks it; a kind preflight never opens them.
   */
  openRunner: () => Promise<ClusterRunner>;
  /** The environment the container engine is looked up and run in. */
  env?: NodeJS.ProcessEnv;
}

/** Proves, within seconds, that a cluster can be had: the first thing a conformance run does after config. */
export async function runPreflight(config: MeshproofConfig, options: PreflightOptions): Promise<PreflightResult> {
  return config.target === 'kind' ? preflightKind(config, options.env ?? process.env) : preflightExisting(config, options.openRunner);
}

async function findEngine(config: MeshproofConfig, env: NodeJS.ProcessEnv): Promise<{ name: ContainerEngine; path: string }> {
  const candidates: ContainerEngine[] = config.containerEngine === 'auto' ? ['docker', 'podman'] : [config.containerEngine];
  for (const name of candidates) {
    const found = await which(name, { path: env.PATH ?? '', nothrow: true });
    if (found) return { name, path: found };
  }
  const wanted = config.containerEngine === 'auto' ? 'Docker (or Podman)' : config.containerEngine;
  throw new MeshproofError(
    `${wanted} is not installed: kind runs the cluster's node as a container, so it needs a container engine.`,
    `Install Docker Desktop (macOS, Windows) or Docker Engine (Linux), start it, and run npm test again.\n${useExistingCluster}`,
  );
}

interface EngineInfo {
  version: string;
  memoryBytes: number | undefined;
}

/** `docker info` and `podman info` both print JSON with --format; their field names differ. */
function readEngineInfo(name: ContainerEngine, command: string, printed: string): EngineInfo {
  const info = parseToolJson(command, printed) as Record<string, any>;
  if (name === 'docker') return { version: String(info.ServerVersion ?? 'unknown'), memoryBytes: numberOrUndefined(info.MemTotal) };
  return { version: String(info.version?.Version ?? 'unknown'), memoryBytes: numberOrUndefined(info.host?.memTotal) };
}

const numberOrUndefined = (value: unknown) => (typeof value === 'number' && value > 0 ? value : undefined);

interface RunningEngine {
  name: ContainerEngine;
  path: string;
  label: string;
  info: EngineInfo;
}

/** The container engine is installed and its daemon (or machine) answers `info`. */
async function checkEngine(config: MeshproofConfig, env: NodeJS.ProcessEnv): Promise<RunningEngine> {
  const engine = await findEngine(config, env);
  const label = engine.name === 'docker' ? 'Docker' : 'Podman';
  const args = ['info', '--format', engine.name === 'docker' ? '{{json .}}' : 'json'];
  const result = await execa(engine.path, args, {
    env,
    reject: false,
    timeout: config.timeouts.preflight,
    stdin: 'ignore',
  });
  if (result.timedOut) {
    throw new MeshproofError(
      `${label} did not answer \`${engine.name} info\` within ${formatDuration(config.timeouts.preflight)}.`,
      `Check that the ${label} engine is healthy (restart it), then try again.\n${useExistingCluster}`,
    );
  }
  // Docker prints the client section and exits 1 with "Cannot connect to the Docker daemon" when no engine runs.
  if (result.exitCode !== 0 || !result.stdout.trim().startsWith('{')) {
    const said = firstLine(result.stderr) || firstLine(result.stdout) || `exit code ${result.exitCode}`;
    throw new MeshproofError(
      `${label} is not running: \`${engine.name} info\` says "${said}".`,
      engine.name === 'docker'
        ? `Start Docker Desktop (macOS, Windows) or the Docker service (Linux: sudo systemctl start docker), then try again.\n${useExistingCluster}`
        : `Start the Podman machine (podman machine start) or service, then try again.\n${useExistingCluster}`,
    );
  }
  return { ...engine, label, info: readEngineInfo(engine.name, commandLine(engine.name, args), result.stdout) };
}

/** The lab cluster's node containers as the engine lists them; a failing query is said as a preflight failure. */
async function labNodes(config: MeshproofConfig, engine: RunningEngine, env: NodeJS.ProcessEnv): Promise<EngineContainer[]> {
  try {
    return await listKindNodes(engine.path, config.clusterName, env, config.timeouts.preflight);
  } catch (error) {
    throw new MeshproofError(`${engine.label} could not list the kind cluster's nodes: ${errorText(error)}.`, `Check that ${engine.label} is healthy (\`${engine.name} ps\`), then try again.`);
  }
}

/** A node that exists but is not running holds no port and serves no API: say how to start it. */
function refuseStoppedNode(config: MeshproofConfig, engine: RunningEngine, nodes: EngineContainer[]): void {
  const stopped = nodes.find((node) => node.state !== 'running');
  if (!stopped) return;
  throw new MeshproofError(
    `the kind cluster ${config.clusterName} is not running: its node container ${stopped.name} is ${stopped.state || 'not running'}.`,
    `Start it (${engine.name} start ${stopped.name}; its API server answers a minute later), or remove it and start afresh: ` +
      `npx meshproof cleanup --delete-cluster, then npx meshproof deploy.`,
  );
}

async function preflightKind(config: MeshproofConfig, env: NodeJS.ProcessEnv): Promise<PreflightResult> {
  const engine = await checkEngine(config, env);
  const nodes = await labNodes(config, engine, env);
  refuseStoppedNode(config, engine, nodes);
  const warnings: string[] = [];
  const memory = engine.info.memoryBytes ?? os.totalmem();
  if (memory < recommendedMemoryBytes) {
    warnings.push(
      `${engine.label} has ${gib(memory)} of memory; the Istio stack with its addons and Bookinfo needs about 6 to 8 GB. ` +
        `Pods may stay Pending: give ${engine.label} more memory (Docker Desktop: Settings > Resources).`,
    );
  }
  const ingress = await checkIngressPort(config, engine, nodes, env, warnings);
  return {
    target: 'kind',
    engine: { name: engine.name, version: engine.info.version, memoryBytes: engine.info.memoryBytes },
    ...(ingress && { ingress }),
    warnings,
  };
}

/**
 * The host port kind publishes the ingress on (MESHPROOF_INGRESS_PORT, fixtures/cluster/kind-cluster.yaml) must be
 * free, or already the lab's. "The lab's" means published by this cluster's own node container — found by kind's
 * cluster label, not by name — towards the ingress's node port: that is the mapping a `kind create cluster` of this
 * configuration made. A kind cluster that exists publishes its mappings for good (kind cannot change them), so one
 * that publishes the ingress on another port is refused rather than reused with a wrong URL.
 */
async function checkIngressPort(
  config: MeshproofConfig,
  engine: RunningEngine,
  nodes: EngineContainer[],
  env: NodeJS.ProcessEnv,
  warnings: string[],
): Promise<PreflightResult['ingress']> {
  const mapping = ingressMapping(kindClusterStep(config));
  if (!mapping) return undefined;
  const address = `${mapping.listenAddress}:${mapping.hostPort}`;
  const ingressNode = nodes.find((node) => node.ports.some((p) => p.containerPort === mapping.containerPort));
  if (ingressNode) {
    if (publishes(ingressNode, mapping.hostPort)) return { address, state: 'lab', node: ingressNode.name };
    const published = ingressNode.ports.find((p) => p.containerPort === mapping.containerPort)!;
    throw new MeshproofError(
      `the kind cluster ${config.clusterName} publishes the ingress on ${published.hostAddress}:${published.hostPorts[0]}, not on ${address} as configured: kind cannot change a cluster's port mappings.`,
      `Set MESHPROOF_INGRESS_PORT=${published.hostPorts[0]} to use the cluster as it is, or delete it (npx meshproof cleanup --delete-cluster) so that deploy creates it with the new port.`,
    );
  }
  const state = await hostPortState(mapping.listenAddress, mapping.hostPort);
  if (state === 'free') return { address, state: 'free' };
  if (state === 'not-permitted') {
    // The engine binds it, not meshproof: a rootful Docker may, rootless Podman may not.
    warnings.push(`this user may not bind ${address} (a port below 1024), so whether it is free is not known; ${engine.label} binds it when it creates the cluster.`);
    return { address, state: 'free' };
  }
  const publishers = await containersPublishing(engine.path, mapping.hostPort, env, config.timeouts.preflight).catch(() => []);
  const holder = publishers.length
    ? `the container ${publishers.map((c) => c.name).join(', ')} (${engine.name} publishes the port for it)`
    : describePortHolder(mapping.hostPort, await findPortHolder(mapping.hostPort, { timeoutMs: config.timeouts.preflight, env }));
  const stop = publishers.length ? `Stop it (${engine.name} stop ${publishers[0]!.name})` : 'Stop it';
  // A handful of neighbours: a suggestion that is free now beats "pick another port".
  const nearby = Array.from({ length: 20 }, (_, i) => mapping.hostPort + i + 1).filter((p) => p <= 65535);
  const suggestion = await firstFreePort(mapping.listenAddress, nearby);
  throw new MeshproofError(
    `${address}, where kind publishes the lab's ingress gateway, is taken by ${holder}.`,
    suggestion
      ? `${stop}, or give the lab another host port: MESHPROOF_INGRESS_PORT=${suggestion} (free now), and Bookinfo is at http://127.0.0.1:${suggestion}/productpage.`
      : `${stop}, or give the lab another host port: set MESHPROOF_INGRESS_PORT to a free one.`,
  );
}

/** Loads the kubeconfig and selects the context the configuration names (or the current one). */
async function loadKubeConfig(config: Pick<MeshproofConfig, 'kubeconfig' | 'context'>): Promise<KubeConfig> {
  // Imported here, not at the top: the Kubernetes client takes seconds to load, and a kind run never needs it.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromDefault();
  } catch (error) {
    throw new MeshproofError(
      `the kubeconfig ${config.kubeconfig ?? '(default)'} cannot be read: ${errorText(error)}.`,
      'Set MESHPROOF_KUBECONFIG to a readable kubeconfig file.',
    );
  }
  if (config.context) {
    if (!kc.getContextObject(config.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new MeshproofError(
        `the kubeconfig has no context named "${config.context}".`,
        `Known contexts: ${known.length ? known.join(', ') : '(none)'}. Set MESHPROOF_CONTEXT to one of them.`,
      );
    }
    kc.setCurrentContext(config.context);
  }
  if (!kc.getCurrentContext() || !kc.getCurrentCluster()) {
    throw new MeshproofError(
      'MESHPROOF_TARGET=existing, but the kubeconfig selects no cluster.',
      'Set MESHPROOF_CONTEXT (and MESHPROOF_KUBECONFIG if the context is in another file), or use MESHPROOF_TARGET=kind.',
    );
  }
  return kc;
}

/** The API server answers `kubectl version` within the preflight timeout: its version, or the reason it does not. */
async function answeringVersion(runner: ClusterRunner, config: MeshproofConfig, context: string, where: string, advice: string): Promise<string> {
  try {
    return await kubernetesServerVersion(runner, config.timeouts.preflight);
  } catch (error) {
    throw new MeshproofError(`the cluster of context "${context}"${where} does not answer: ${errorText(error)}.`, `Check it with: kubectl --context ${context} get nodes\n${advice}`);
  }
}

/** The configured context, and that its API server answers. */
async function existingContextAnswers(config: MeshproofConfig, openRunner: () => Promise<ClusterRunner>): Promise<{ context: string; server: string; version: string }> {
  // The kubeconfig first: a wrong context or file is said at once, before any tool is downloaded.
  const kc = await loadKubeConfig(config);
  const context = kc.getCurrentContext();
  const server = kc.getCurrentCluster()!.server;
  const version = await answeringVersion(await openRunner(), config, context, ` (${server})`, 'Or let meshproof create a kind cluster: unset MESHPROOF_TARGET (needs Docker).');
  return { context, server, version };
}

async function preflightExisting(config: MeshproofConfig, openRunner: () => Promise<ClusterRunner>): Promise<PreflightResult> {
  const { context, server, version } = await existingContextAnswers(config, openRunner);
  if (!istioSupportsKubernetes(config.istio, version)) {
    throw new MeshproofError(
      `the cluster of context "${context}" runs Kubernetes ${version}, which Istio ${config.istio.version} does not support (it supports ${config.istio.kubernetes.join(', ')}).`,
      'Use a cluster with a supported Kubernetes version, or choose another MESHPROOF_ISTIO_VERSION.',
    );
  }
  return { target: 'existing', cluster: { context, server, version }, warnings: [] };
}

/**
 * For the commands that act on the lab as it is (cleanup, apply-feature, reset, monitor): the cluster exists and
 * answers, said the way preflight says it, before anything is asked of it. A kind cluster is looked for through
 * the container engine, as kind itself does, so a missing one is said before kind, helm or kubectl are downloaded.
 * Its Kubernetes version is not held to Istio's range here: removing or watching a lab needs no support.
 */
export async function preflightLabCluster(config: MeshproofConfig, options: PreflightOptions): Promise<PreflightResult> {
  if (config.target === 'existing') return { target: 'existing', cluster: await existingContextAnswers(config, options.openRunner), warnings: [] };
  const env = options.env ?? process.env;
  const engine = await checkEngine(config, env);
  const nodes = await labNodes(config, engine, env);
  if (nodes.length === 0) {
    throw new MeshproofError(
      `there is no kind cluster named ${config.clusterName} (${engine.label} has no container labelled ${kindClusterLabel}=${config.clusterName}).`,
      'Build the lab first: npx meshproof deploy\n' +
        'Or point meshproof at the cluster you have: MESHPROOF_CLUSTER_NAME=<name> for another kind cluster (kind get clusters lists them), ' +
        'MESHPROOF_TARGET=existing MESHPROOF_CONTEXT=<context> for any other.',
    );
  }
  refuseStoppedNode(config, engine, nodes);
  const context = `kind-${config.clusterName}`;
  const version = await answeringVersion(
    await options.openRunner(),
    config,
    context,
    '',
    `Its node ${nodes[0]!.name} runs; if it was just started, its API server answers within a minute.`,
  );
  return { target: 'kind', engine: { name: engine.name, version: engine.info.version, memoryBytes: engine.info.memoryBytes }, cluster: { context, version }, warnings: [] };
}

/** The lab kind cluster's node containers (none when it does not exist), after the engine was found answering. */
export async function labClusterNodes(config: MeshproofConfig, env: NodeJS.ProcessEnv = process.env): Promise<EngineContainer[]> {
  return labNodes(config, await checkEngine(config, env), env);
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? ''
  );
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
