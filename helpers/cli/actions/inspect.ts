import { configurationVariables, loadConfig } from '../../config/config.ts';
import { featureCatalog, type CheckSpec } from '../../config/features.ts';
import { formatDuration, timeoutNames } from '../../config/timeouts.ts';
import { istioReleases, kindMatrixFor, loadSupportedVersions } from '../../config/versions.ts';
import { plannedRequests } from '../../judge/rates.ts';
import { loadClusterToolSpecs } from '../../config/cluster-tools.ts';

/** The commands that read meshproof's own data and print it: config, env, versions, features. */

export function printConfig(): void {
  const config = loadConfig();
  const shown = {
    ...config,
    istio: config.istio.version,
    kubernetes: config.kubernetes ? `${config.kubernetes.version} (${config.kubernetes.nodeImage})` : '(the cluster decides)',
    timeouts: Object.fromEntries(timeoutNames.map((n) => [n, formatDuration(config.timeouts[n])])),
  };
  process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
}

export function printEnv(): void {
  for (const { env, key } of configurationVariables()) process.stdout.write(`${env.padEnd(40)} ${key}\n`);
}

export async function printVersions(options: { check?: boolean }): Promise<void> {
  const data = loadSupportedVersions();
  for (const istio of istioReleases(data)) {
    process.stdout.write(`Istio ${istio.version} (released ${istio.released}): supports Kubernetes ${istio.kubernetes.join(', ')}\n`);
    for (const k of kindMatrixFor(data, istio)) process.stdout.write(`  kind node ${k.nodeImage}\n`);
  }
  const tools = loadClusterToolSpecs();
  process.stdout.write(`kind ${tools.kind.version}, helm ${tools.helm.version}, kubectl ${tools.kubectl.version}; istioctl: the installed Istio release's own\n`);
  if (!options.check) return;
  process.stdout.write('\n');
  // Never a failure: the answer is information about the world, not about this installation.
  const { checkVersions, renderVersionCheck } = await import('../../provision/version-check.ts');
  const result = await checkVersions({ versions: data, tools }, { timeoutMs: loadConfig().timeouts.preflight });
  process.stdout.write(renderVersionCheck(result));
}

export function printFeatures(options: { checks?: boolean }): void {
  const alpha = options.checks ? loadConfig().alpha : 0;
  for (const [name, spec] of Object.entries(featureCatalog)) {
    process.stdout.write(`${name.padEnd(18)} ${spec.description}\n`);
    if (!options.checks) continue;
    for (const [id, check] of Object.entries(spec.checks as Record<string, CheckSpec>)) {
      const requests =
        'requests' in check && check.judge !== 'counter-ratio' ? `, ${plannedRequests(check.requests, alpha, 'expectedRate' in check ? check.expectedRate : undefined)} requests` : '';
      const concurrency = 'concurrency' in check ? `, ${check.concurrency} at a time` : '';
      const control = check.control ? ` [control ${check.control}]` : '';
      process.stdout.write(`  ${`${name}/${id}`.padEnd(36)} ${check.judge}${requests}${concurrency}${control}: ${check.title}\n`);
    }
  }
}
