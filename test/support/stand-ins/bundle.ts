import { chmodSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { fromRoot } from '../../../helpers/config/data-file.ts';
import { writeForwardingStandIns } from './forwarding.ts';

/**
 * Bundles a Node stand-in (test/support/stand-ins/<source>.ts) into one executable script at <dir>/<name>: run
 * through tsx, it would compile its TypeScript again at every start.
 */
async function bundleStandIn(name: string, dir: string, source = name): Promise<string> {
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

/**
 * The rehearsal's kubectl, helm, kind and istioctl: stand-ins that pass each call to the rehearsal's cluster server
 * at `url` (test/support/stand-ins/forwarding.ts), except `kubectl port-forward`, which listens and relays until it
 * is stopped: that is a Node script (port-forward.ts).
 */
export async function writeClusterTools(dir: string, url: string): Promise<Record<'kubectl' | 'helm' | 'kind' | 'istioctl', string>> {
  const portForward = await bundleStandIn('port-forward.mjs', dir, 'port-forward');
  return writeForwardingStandIns(dir, ['kubectl', 'helm', 'kind', 'istioctl'], url, { kubectl: { whenArg: 'port-forward', to: portForward } });
}
