/**
 * `npm run rehearsal [-- <feature> …]`: the whole dress rehearsal, by hand or in CI. For every feature the
 * simulated mesh models, one run of `npm test` on a healthy mesh (on kind, and again on an existing cluster) and one
 * per feature on a mesh broken the way that feature names; each run includes all the chosen features, so a broken run shows that exactly its feature fails
 * (and those whose files rely on the same mechanism, named beside each breakage) and the others pass. It prints one line per run and exits 1 when any run ends otherwise. Runs go three at a
 * time (each has its own simulated mesh and Prometheus); a run with circuit-breaker takes over three minutes,
 * because the lab's outlier detection ejects for 3 minutes and the verdict waits for the release.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isFeatureName, type FeatureName } from '../../../helpers/config/features.ts';
import type { Breakage } from '../mesh-sim/mesh.ts';
import { rehearse } from './rehearsal.ts';

/**
 * Each feature the simulation models, the way to get it wrong that its verdicts must catch, and the other
 * features the same fault must fail too, because their files rely on the same mechanism.
 */
const breakageOf: Partial<Record<FeatureName, { breakage: Breakage; alsoFails?: FeatureName[] }>> = {
  'traffic-shifting': { breakage: { kind: 'wrong-weights', weights: { 'reviews-v1': 70, 'reviews-v2': 20, 'reviews-v3': 10 } } },
  // 02-fault-injection.yaml routes jason by the same end-user match: a mesh that ignores it delays everyone.
  'request-routing': { breakage: { kind: 'end-user-match-ignored' }, alsoFails: ['fault-delay', 'fault-abort'] },
  // jason's aborts come after the delay (flagged DI,FI), and the 3 s timeout is shown on reviews v2 slowed by it.
  'fault-delay': { breakage: { kind: 'no-delay' }, alsoFails: ['fault-abort', 'timeouts-retries'] },
  'fault-abort': { breakage: { kind: 'no-abort' } },
  'circuit-breaker': { breakage: { kind: 'no-connection-pool' } },
  'timeouts-retries': { breakage: { kind: 'no-retries' } },
  mirroring: { breakage: { kind: 'no-mirror' } },
  'mtls-strict': { breakage: { kind: 'plaintext-accepted' } },
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !isFeatureName(name) || !(name in breakageOf));
if (unknown.length > 0) {
  process.stderr.write(`not rehearsed: ${unknown.join(', ')}; choose from ${Object.keys(breakageOf).join(', ')}\n`);
  process.exit(2);
}
const features = (wanted.length > 0 ? wanted : Object.keys(breakageOf)) as FeatureName[];
// Every run targets kind, as a fresh machine's `npm test` does; the healthy one also runs on an existing cluster.
const plans: { name: string; broken?: FeatureName; target?: 'existing' }[] = [
  { name: 'healthy, kind' },
  { name: 'healthy, existing cluster', target: 'existing' },
  ...features.map((f) => ({ name: `broken ${f} (${breakageOf[f]!.breakage.kind})`, broken: f })),
];

async function rehearseOne(plan: (typeof plans)[number]): Promise<boolean> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshproof-rehearsal-'));
  const started = Date.now();
  try {
    const run = await rehearse({ dir, only: features, ...(plan.target && { target: plan.target }), ...(plan.broken && { breakage: breakageOf[plan.broken]!.breakage }) });
    const failed = features.filter((f) => run.summary?.features[f].status === 'failed');
    const expected = plan.broken ? features.filter((f) => f === plan.broken || breakageOf[plan.broken!]!.alsoFails?.includes(f)) : [];
    const ok = JSON.stringify(failed) === JSON.stringify(expected) && features.every((f) => expected.includes(f) || run.summary?.features[f].status === 'passed');
    const seconds = Math.round((Date.now() - started) / 1000);
    process.stdout.write(`${ok ? 'OK  ' : 'NOT OK'}  ${plan.name}: ${run.summary?.result ?? 'no summary'}, failed: ${failed.join(', ') || 'none'} (${seconds} s)\n`);
    if (!ok) process.stdout.write(`${run.output.split('\n').slice(-40).join('\n')}\n`);
    return ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const atOnce = 3;
const results: boolean[] = [];
const queue = [...plans];
await Promise.all(
  Array.from({ length: atOnce }, async () => {
    for (let plan = queue.shift(); plan; plan = queue.shift()) results.push(await rehearseOne(plan));
  }),
);
process.exitCode = results.every(Boolean) ? 0 : 1;
