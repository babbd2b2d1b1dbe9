/**
 * `npm run bench`: meshproof's performance figures, measured here rather than asserted in timed tests.
 * Each section prints one figure a line, its ratio last, each with the error or spread it was measured with.
 */
import { benchDriver } from './driver.ts';
import { benchWeightedSplit } from './weighted-split.ts';
import { benchCliStartup } from './cli-startup.ts';
import { benchSelfTests } from './self-tests.ts';

const sections: [string, () => Promise<string[]>][] = [
  ['meshproof start-up, wall time (target: at most 0.5 s median on a 2-core machine)', benchCliStartup],
  ['Requests per weighted-split verdict at stated error rates: meshproof, the fixed-sample test, Wald\'s bound, Gateway API', benchWeightedSplit],
  ["Traffic driver throughput vs Debian's hey, same loopback server, paired rounds", benchDriver],
  ['The self-tests, wall time (target: at most 90 s on a 2-core machine)', benchSelfTests],
];

for (const [title, run] of sections) {
  process.stdout.write(`\n${title}\n`);
  for (const line of await run()) process.stdout.write(`${line}\n`);
}
