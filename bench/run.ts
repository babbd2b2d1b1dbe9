/**
 * `npm run bench`: meshproof's performance figures, measured here rather than asserted in timed tests.
 * Each section prints one figure a line, its ratio last.
 */
import { benchDriver } from './driver.ts';
import { benchWeightedSplit } from './weighted-split.ts';
import { benchCliStartup } from './cli-startup.ts';

const sections: [string, () => Promise<string[]>][] = [
  ['meshproof start-up, wall time (target: at most 0.5 s median on a 2-core machine)', benchCliStartup],
  ['Requests per weighted-split verdict (80/10/10): meshproof sequential vs Gateway API 500 ± 5 points', benchWeightedSplit],
  ["Traffic driver throughput vs Debian's hey, same loopback server", benchDriver],
];

for (const [title, run] of sections) {
  process.stdout.write(`\n${title}\n`);
  for (const line of await run()) process.stdout.write(`${line}\n`);
}
