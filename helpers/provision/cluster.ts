import type { MeshproofConfig } from '../config/config.ts';
import type { Log } from './progress.ts';
import { ensureClusterTool, type EnsureClusterToolOptions } from './cluster-tools.ts';
import { ToolRunner, type ClusterAccess } from './runner.ts';

/** How meshproof reaches the cluster: kind's context for a kind target, the configured one otherwise. */
export function clusterAccess(config: MeshproofConfig): ClusterAccess {
  if (config.target === 'kind') return { kubeconfig: config.kubeconfig, context: `kind-${config.clusterName}` };
  return { kubeconfig: config.kubeconfig, context: config.context ?? '' };
}

/** How the run finds its pinned tools: its budgets, its tools cache, and the Istio release whose istioctl it uses. */
export function clusterToolOptions(config: MeshproofConfig, log: Log): EnsureClusterToolOptions {
  return {
    timeoutMs: config.timeouts.toolDownload,
    retryMinMs: config.timeouts.toolDownloadRetry,
    versionCheckTimeoutMs: config.timeouts.preflight,
    toolsDir: config.toolsDir,
    istioVersion: config.istio.version,
    log,
  };
}

/**
 * The pinned tools (downloaded once when missing), wired to the run's cluster. istioctl is found with the others
 * when `withIstioctl` (a conformance run and `deploy` wait on it), else only when first called.
 */
export async function openClusterRunner(config: MeshproofConfig, access: ClusterAccess, log: Log, withIstioctl = false): Promise<ToolRunner> {
  const options = clusterToolOptions(config, log);
  const istioctl = async () => (await ensureClusterTool('istioctl', options)).path;
  // An existing cluster needs no kind: nothing is downloaded for it, and a stray kind call would fail loudly.
  const found = await Promise.allSettled([
    config.target === 'kind' ? ensureClusterTool('kind', options).then((t) => t.path) : Promise.resolve('/bin/false'),
    ensureClusterTool('helm', options).then((t) => t.path),
    ensureClusterTool('kubectl', options).then((t) => t.path),
    withIstioctl ? istioctl() : Promise.resolve(''),
  ]);
  // Settled all before failing, so no download is still writing into the cache when the caller sees the error.
  const failed = found.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  const [kind, helm, kubectl, istioctlPath] = found.map((result) => (result as PromiseFulfilledResult<string>).value);
  // kind drives Podman only when asked to (KIND_EXPERIMENTAL_PROVIDER, kind docs).
  const env = config.containerEngine === 'podman' ? { ...process.env, KIND_EXPERIMENTAL_PROVIDER: 'podman' } : process.env;
  return new ToolRunner({ kind: kind!, helm: helm!, kubectl: kubectl!, istioctl: istioctlPath! }, access, env, { istioctl });
}

/**
 * openClusterRunner on first use, the same runner after: preflight opens it only for an existing cluster (asked
 * through kubectl), so a kind preflight still answers within seconds, before any tool is downloaded.
 */
export function clusterRunnerOnDemand(config: MeshproofConfig, access: ClusterAccess, log: Log, withIstioctl = false): () => Promise<ToolRunner> {
  let opened: Promise<ToolRunner> | undefined;
  return () => (opened ??= openClusterRunner(config, access, log, withIstioctl));
}
