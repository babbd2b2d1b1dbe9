import { chmodSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { fromRoot } from '../../../helpers/config/data-file.ts';

/**
 * Bundles a stand-in executable (test/support/stand-ins/<name>.ts) into one Node script at <dir>/<name>: tsx
 * would compile it again on every call, and the production runner calls kubectl dozens of times per feature.
 */
export async function bundleStandIn(name: 'kubectl', dir: string): Promise<string> {
  const outfile = path.join(dir, name);
  await build({
    entryPoints: [fromRoot('test', 'support', 'stand-ins', `${name}.ts`)],
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
