import type { MeshproofConfig } from '../config/config.ts';
import type { Log } from './progress.ts';
import { ensureClusterTool, ensureClusterTools } from './cluster-tools.ts';
import { ToolRunner, type ClusterAccess } from './runner.ts';

/** How meshproof reaches the cluster: kind's context for a kind target, the configured one otherwise. */
export function clusterAccess(config: MeshproofConfig): ClusterAccess {
  if (config.target === 'kind') return { kubeconfig: config.kubeconfig, context: `kind-${config.clusterName}` };
  return { kubeconfig: config.kubeconfig, context: config.context ?? '' };
}

/** The pinned tools (downloaded once when missing), wired to the run's cluster. */
export async function openClusterRunner(config: MeshproofConfig, access: ClusterAccess, log: Log): Promise<ToolRunner> {
  const options = {
    timeoutMs: config.timeouts.toolDownload,
    retryMinMs: config.timeouts.toolDownloadRetry,
    versionCheckTimeoutMs: config.timeouts.preflight,
    toolsDir: config.toolsDir,
    istioVersion: config.istio.version,
    log,
  };
  // An existing cluster needs no kind: nothing is downloaded for it, and a stray kind call would fail loudly.
  const tools =
    config.target === 'kind'
      ? await ensureClusterTools(options)
      : {
          kind: { path: '/bin/false' },
          helm: await ensureClusterTool('helm', options),
          kubectl: await ensureClusterTool('kubectl', options),
          istioctl: await ensureClusterTool('istioctl', options),
        };
  // kind drives Podman only when asked to (KIND_EXPERIMENTAL_PROVIDER, kind docs).
  const env = config.containerEngine === 'podman' ? { ...process.env, KIND_EXPERIMENTAL_PROVIDER: 'podman' } : process.env;
  return new ToolRunner({ kind: tools.kind.path, helm: tools.helm.path, kubectl: tools.kubectl.path, istioctl: tools.istioctl.path }, access, env);
}

/**
 * openClusterRunner on first use, the same runner after: preflight opens it only for an existing cluster (asked
 * through kubectl), so a kind preflight still answers within seconds, before any tool is downloaded.
 */
export function clusterRunnerOnDemand(config: MeshproofConfig, access: ClusterAccess, log: Log): () => Promise<ToolRunner> {
  let opened: Promise<ToolRunner> | undefined;
  return () => (opened ??= openClusterRunner(config, access, log));
}
