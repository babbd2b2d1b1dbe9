import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MeshproofConfig } from '../config/config.ts';
import { meshCallers } from '../config/features.ts';
import type { KubeObject } from '../config/manifests.ts';
import type { ClusterToolName } from '../config/cluster-tools.ts';
import { commandLine, type ClusterRunner } from '../provision/runner.ts';

/**
 * What a person debugging a failed feature would look at first, collected the moment it failed and before the
 * baseline is restored (the lab's troubleshooting steps): pods, recent events, the Istio config in force, and
 * the logs of istiod and of the sidecars on Bookinfo's main path (access logs are on); then istiod's view of every
 * proxy's sync and the routes and clusters of the proxies the feature acts in (istioctlBundleCommands).
 */
export const failureBundleCommands: { name: string; args: string[] }[] = [
  { name: 'pods', args: ['get', 'pods', '-A', '-o', 'wide'] },
  { name: 'events-bookinfo', args: ['get', 'events', '-n', 'bookinfo', '--sort-by=.lastTimestamp'] },
  { name: 'events-istio-system', args: ['get', 'events', '-n', 'istio-system', '--sort-by=.lastTimestamp'] },
  { name: 'istio-config', args: ['get', 'virtualservices,destinationrules,peerauthentications,gateways', '-A', '-o', 'yaml'] },
  { name: 'istiod-log', args: ['logs', '-n', 'istio-system', 'deploy/istiod', '--tail=200'] },
  { name: 'productpage-proxy-log', args: ['logs', '-n', 'bookinfo', 'deploy/productpage-v1', '-c', 'istio-proxy', '--tail=100'] },
  { name: 'mesh-client-proxy-log', args: ['logs', '-n', 'meshproof', 'deploy/mesh-client', '-c', 'istio-proxy', '--tail=100'] },
];

export interface BundleFile {
  name: string;
  content: string;
}

export interface ProxyWorkload {
  namespace: string;
  workload: string;
}

/**
 * The proxies a feature's configuration acts in: every caller of each host its VirtualServices and
 * DestinationRules name (helpers/config/features.ts meshCallers), the sidecars that route and balance for it.
 */
export function involvedProxies(objects: KubeObject[]): ProxyWorkload[] {
  const hosts = objects.flatMap((o) => {
    if (o.kind === 'VirtualService') return (o.spec as { hosts?: string[] }).hosts ?? [];
    if (o.kind === 'DestinationRule') return [(o.spec as { host: string }).host];
    return [];
  });
  const proxies = new Map<string, ProxyWorkload>();
  for (const host of hosts) for (const proxy of meshCallers[host.split('.')[0]!] ?? []) proxies.set(`${proxy.workload}.${proxy.namespace}`, proxy);
  return [...proxies.values()];
}

/**
 * istiod's sync of every proxy, one column per xDS type (`--verbosity 1`: the plain table only counts the types;
 * istio/istio release-1.31 istioctl/pkg/writer/pilot/status.go), and the routes and clusters of each involved
 * proxy as Envoy has them. istioctl picks a pod of the Deployment itself ("istioctl proxy-config routes
 * deployment/<deployment-name[.namespace]>", istioctl/pkg/proxyconfig/proxyconfig.go at release-1.30 and 1.31).
 */
export function istioctlBundleCommands(proxies: ProxyWorkload[]): { name: string; args: string[] }[] {
  return [
    { name: 'proxy-status', args: ['proxy-status', '--verbosity', '1'] },
    ...proxies.flatMap(({ namespace, workload }) =>
      (['routes', 'clusters'] as const).map((what) => ({
        name: `proxy-config-${what}-${workload}.${namespace}`,
        args: ['proxy-config', what, `deployment/${workload}.${namespace}`, '-o', 'json'],
      })),
    ),
  ];
}

/**
 * Runs every command; one that fails contributes its error output instead, so the bundle is never lost (an
 * istioctl that cannot run included: its file says why).
 */
export async function collectFailureBundle(runner: ClusterRunner, config: MeshproofConfig, objects: KubeObject[] = []): Promise<BundleFile[]> {
  const files: BundleFile[] = [];
  const commands: { tool: ClusterToolName; name: string; args: string[]; timeoutMs: number }[] = [
    ...failureBundleCommands.map((c) => ({ ...c, tool: 'kubectl' as const, timeoutMs: config.timeouts.apply })),
    ...istioctlBundleCommands(involvedProxies(objects)).map((c) => ({ ...c, tool: 'istioctl' as const, timeoutMs: config.timeouts.istioctl })),
  ];
  for (const { tool, name, args, timeoutMs } of commands) {
    const result = await runner.run(tool, args, { timeoutMs });
    const header = `$ ${commandLine(tool, args)}\n`;
    files.push({ name: `${name}.txt`, content: result.exitCode === 0 ? `${header}${result.stdout}` : `${header}(exit code ${result.exitCode})\n${result.stderr}${result.stdout}` });
  }
  return files;
}

/** Writes the bundle under <reportsDir>/failures/<feature>-<time>/ and returns the folder. */
export function writeFailureBundle(reportsDir: string, feature: string, files: BundleFile[]): string {
  const dir = path.join(reportsDir, 'failures', `${feature}-${new Date().toISOString().replace(/[:.]/g, '')}`);
  mkdirSync(dir, { recursive: true });
  for (const file of files) writeFileSync(path.join(dir, file.name), file.content);
  return dir;
}
