/**
 * A `kubectl` executable for nested runs of the suites' mechanics: a cluster whose istiod pushes every applied
 * Istio object to every proxy at once. The production runner really spawns it and reads what it prints, so
 * everything above the process boundary (apply, the proxy-config gate, restore, the failure bundle) runs
 * unchanged. What it does:
 *  - `apply … -f -` / `delete … -f -`: keeps the Istio objects of stdin in $STAND_IN_STATE (a JSON file);
 *  - `exec … -c istio-proxy -- pilot-agent request GET <path>`: prints the simulated mesh's config dump of
 *    those objects (test/support/mesh-sim/config-dump.ts);
 *  - `get`, `logs`: a line saying what was asked (the failure bundle's commands);
 *  - anything else: exit code 1, as kubectl does for what it cannot do.
 * Called as `istioctl` (a copy of this bundle under that name), it answers as test/support/stand-ins/istioctl.ts
 * does. Every call is appended to $STAND_IN_LOG when set. It is bundled with esbuild (test/support/stand-ins/bundle.ts)
 * so that each call starts as fast as a small Node script.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../../helpers/config/manifests.ts';
import { configDump } from '../mesh-sim/config-dump.ts';
import { IstioConfig } from '../mesh-sim/istio-config.ts';
import { istioctlStandIn } from './istioctl.ts';

const args = process.argv.slice(2).filter((arg, i, all) => arg !== '--context' && all[i - 1] !== '--context');
const stateFile = process.env.STAND_IN_STATE ?? '';
const log = process.env.STAND_IN_LOG;
const stdin = () => (args.includes('-f') && args[args.indexOf('-f') + 1] === '-' ? readFileSync(0, 'utf8') : '');

const state = (): KubeObject[] => (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as KubeObject[]) : []);
const keyOf = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
const objectsOf = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as KubeObject).filter((o) => o?.apiVersion?.includes('istio.io'));

function main(): number {
  const [verb] = args;
  const input = verb === 'apply' || verb === 'delete' ? stdin() : '';
  if (log) appendFileSync(log, `${JSON.stringify({ args, stdin: input.length })}\n`);
  if (verb === 'apply' || verb === 'delete') {
    const kept = new Map(state().map((o) => [keyOf(o), o]));
    for (const object of objectsOf(input)) {
      if (verb === 'apply') kept.set(keyOf(object), object);
      else kept.delete(keyOf(object));
    }
    writeFileSync(stateFile, JSON.stringify([...kept.values()]));
    return 0;
  }
  if (verb === 'exec' && args.includes('pilot-agent')) {
    process.stdout.write(configDump(new IstioConfig(state()), args.at(-1)!));
    return 0;
  }
  if (verb === 'get' || verb === 'logs') {
    process.stdout.write(`(stand-in kubectl: ${args.join(' ')})\n`);
    return 0;
  }
  process.stderr.write(`stand-in kubectl: cannot ${args.join(' ')}\n`);
  return 1;
}

if (path.basename(process.argv[1] ?? '') === 'istioctl') {
  if (log) appendFileSync(log, `${JSON.stringify({ tool: 'istioctl', args })}\n`);
  const result = istioctlStandIn(args, process.env);
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
} else {
  process.exitCode = main();
}
