import { chmodSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { fromRoot } from '../../../helpers/config/data-file.ts';

/**
 * Bundles a stand-in executable (test/support/stand-ins/<source>.ts) into one Node script at <dir>/<name>: tsx
 * would compile it again on every call, and the production runner calls kubectl dozens of times per feature.
 */
export async function bundleStandIn(name: string, dir: string, source = name): Promise<string> {
  const outfile = path.join(dir, name);
  await build({
    entryPoints: [fromRoot('test', 'support', 'stand-ins', `${source}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  chmodSync(outfile, 0o755);
  return outfile;
}

/** The rehearsal's kubectl, helm, kind and istioctl: one bundle, copied under each name (it reads which from argv[1]). */
export async function bundleClusterTools(dir: string): Promise<Record<'kubectl' | 'helm' | 'kind' | 'istioctl', string>> {
  const bundled = await bundleStandIn('cluster-tool.mjs', dir, 'cluster-tool');
  const tools = {} as Record<'kubectl' | 'helm' | 'kind' | 'istioctl', string>;
  for (const name of ['kubectl', 'helm', 'kind', 'istioctl'] as const) {
    tools[name] = path.join(dir, name);
    copyFileSync(bundled, tools[name]);
    chmodSync(tools[name], 0o755);
  }
  return tools;
}
