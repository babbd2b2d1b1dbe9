import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MeshproofConfig } from '../config/config.ts';
import type { ClusterRunner } from '../provision/runner.ts';

/**
 * What a person debugging a failed feature would look at first, collected the moment it failed and before the
 * baseline is restored (the lab's troubleshooting steps): pods, recent events, the Istio config in force, and
 * the logs of istiod and of the sidecars on Bookinfo's main path (access logs are on).
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

/** Runs every command; one that fails contributes its error output instead, so the bundle is never lost. */
export async function collectFailureBundle(runner: ClusterRunner, config: MeshproofConfig): Promise<BundleFile[]> {
  const files: BundleFile[] = [];
  for (const { name, args } of failureBundleCommands) {
    const result = await runner.run('kubectl', args, { timeoutMs: config.timeouts.apply });
    const header = `$ kubectl ${args.join(' ')}\n`;
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
