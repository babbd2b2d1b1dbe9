import os from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import which from 'which';
import type { MeshproofConfig } from '../config/config.ts';
import { istioSupportsKubernetes } from '../config/versions.ts';
import { errorText, MeshproofError } from '../errors.ts';
import { commandLine, kubernetesServerVersion, parseToolJson, type ClusterRunner } from './runner.ts';
import { formatDuration } from '../config/timeouts.ts';

export type ContainerEngine = 'docker' | 'podman';

export interface PreflightResult {
  target: MeshproofConfig['target'];
  /** kind only: the engine that will run the kind node. */
  engine?: { name: ContainerEngine; version: string; memoryBytes: number | undefined };
  /** existing only: the context that answered and its server version. */
  cluster?: { context: string; server: string; version: string };
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
   * The run's kind, helm and kubectl (clusterRunnerOnDemand): an existing cluster is asked for its version
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

async function preflightKind(config: MeshproofConfig, env: NodeJS.ProcessEnv): Promise<PreflightResult> {
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
      `Check that the ${label} engine is healthy (restart it), then run npm test again.\n${useExistingCluster}`,
    );
  }
  // Docker prints the client section and exits 1 with "Cannot connect to the Docker daemon" when no engine runs.
  if (result.exitCode !== 0 || !result.stdout.trim().startsWith('{')) {
    const said = firstLine(result.stderr) || firstLine(result.stdout) || `exit code ${result.exitCode}`;
    throw new MeshproofError(
      `${label} is not running: \`${engine.name} info\` says "${said}".`,
      engine.name === 'docker'
        ? `Start Docker Desktop (macOS, Windows) or the Docker service (Linux: sudo systemctl start docker), then run npm test again.\n${useExistingCluster}`
        : `Start the Podman machine (podman machine start) or service, then run npm test again.\n${useExistingCluster}`,
    );
  }
  const info = readEngineInfo(engine.name, commandLine(engine.name, args), result.stdout);
  const warnings: string[] = [];
  const memory = info.memoryBytes ?? os.totalmem();
  if (memory < recommendedMemoryBytes) {
    warnings.push(
      `${label} has ${gib(memory)} of memory; the Istio stack with its addons and Bookinfo needs about 6 to 8 GB. ` +
        `Pods may stay Pending: give ${label} more memory (Docker Desktop: Settings > Resources).`,
    );
  }
  return { target: 'kind', engine: { name: engine.name, version: info.version, memoryBytes: info.memoryBytes }, warnings };
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

async function preflightExisting(config: MeshproofConfig, openRunner: () => Promise<ClusterRunner>): Promise<PreflightResult> {
  // The kubeconfig first: a wrong context or file is said at once, before any tool is downloaded.
  const kc = await loadKubeConfig(config);
  const context = kc.getCurrentContext();
  const server = kc.getCurrentCluster()!.server;
  const runner = await openRunner();
  let version: string;
  try {
    version = await kubernetesServerVersion(runner, config.timeouts.preflight);
  } catch (error) {
    throw new MeshproofError(
      `the cluster of context "${context}" (${server}) does not answer: ${errorText(error)}.`,
      `Check it with: kubectl --context ${context} get nodes\n` +
        'Or let meshproof create a kind cluster: unset MESHPROOF_TARGET (needs Docker).',
    );
  }
  if (!istioSupportsKubernetes(config.istio, version)) {
    throw new MeshproofError(
      `the cluster of context "${context}" runs Kubernetes ${version}, which Istio ${config.istio.version} does not support (it supports ${config.istio.kubernetes.join(', ')}).`,
      'Use a cluster with a supported Kubernetes version, or choose another MESHPROOF_ISTIO_VERSION.',
    );
  }
  return { target: 'existing', cluster: { context, server, version }, warnings: [] };
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
