import readline from 'node:readline/promises';
import { loadConfig, type MeshproofConfig } from '../../config/config.ts';
import { formatUserError, MeshproofError } from '../../errors.ts';
import { formatComponentChecks, monitorSummary, monitorTest, type ComponentUrls } from '../../provision/monitor.ts';
import { monitorFull } from '../../provision/monitor-full.ts';
import { HostForwards, hostForwardsFor, ingressUrlOnHost } from '../../provision/provision.ts';
import type { ClusterRunner } from '../../provision/runner.ts';
import { buildStackPlan } from '../../provision/stack.ts';
import { onLabCluster } from './cluster.ts';

/** `meshproof monitor`, the lab's monitor.sh: a mode given on the command line, or a menu of them in a terminal. */

const modes = {
  summary: 'pods, sidecars, Helm releases, traffic generator',
  test: 'does each component answer',
  full: 'the detailed report: restarts, chart versions, Istio config, proxy sync, warnings, traffic jobs, components',
} as const;
type Mode = keyof typeof modes;
const isMode = (word: string): word is Mode => Object.hasOwn(modes, word);

export async function monitor(mode: string | undefined): Promise<void> {
  if (mode !== undefined && !isMode(mode)) {
    throw new MeshproofError(`monitor has no mode "${mode}".`, 'Use `meshproof monitor summary`, `test` or `full`, or no mode for a menu of them.', 2);
  }
  const config = loadConfig();
  // A person at a terminal gets the menu; a pipe or a script gets what monitor.sh prints without a mode, the summary.
  const interactive = mode === undefined && Boolean(process.stdin.isTTY && process.stdout.isTTY);
  await onLabCluster(config, async (runner) => {
    if (interactive) return menu(runner, config);
    if (!(await show(mode ?? 'summary', runner, config))) process.exitCode = 1;
  });
}

/** Prints one mode; false when a component did not answer (`monitor test` then exits 1, as the lab's test does). */
async function show(mode: Mode, runner: ClusterRunner, config: MeshproofConfig): Promise<boolean> {
  if (mode === 'summary') {
    process.stdout.write(await monitorSummary(runner, config));
    return true;
  }
  const forwards = new HostForwards(runner, hostForwardsFor(config));
  try {
    const ingress = await forwards.ingress(ingressUrlOnHost(buildStackPlan(config))).catch((error: Error) => error);
    const urls: ComponentUrls = { ingress, ...(await forwards.addonsOrWhyNot()) };
    if (mode === 'full') {
      process.stdout.write(await monitorFull(runner, config, urls));
      return true;
    }
    const checks = await monitorTest(urls, config);
    process.stdout.write(`${formatComponentChecks(checks)}\n`);
    return checks.every((check) => check.ok);
  } finally {
    await forwards.close();
  }
}

const choices: Record<string, Mode> = { '1': 'summary', '2': 'test', '3': 'full', summary: 'summary', test: 'test', full: 'full' };

const menuText = [
  'What to show of the lab?',
  ...(Object.entries(modes) as [Mode, string][]).map(([name, what], i) => `  ${i + 1}  ${name.padEnd(8)} ${what}`),
  '  q  quit',
].join('\n');

/** monitor.sh's interactive mode: the menu again after each mode, until q, Ctrl-D or Ctrl-C. */
async function menu(runner: ClusterRunner, config: MeshproofConfig): Promise<void> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  // In a terminal readline reads keys raw, so Ctrl-C arrives as its 'SIGINT' event, not as a signal.
  rl.on('SIGINT', () => process.exit(130));
  try {
    for (;;) {
      process.stdout.write(`\n${menuText}\n`);
      let answer: string;
      try {
        answer = (await rl.question('> ')).trim().toLowerCase();
      } catch {
        return; // Ctrl-D closes the input: the question is abandoned, and so is the menu.
      }
      if (answer === 'q' || answer === 'quit') return;
      const mode = choices[answer];
      if (!mode) {
        process.stdout.write(`"${answer}" is not one of the choices: 1, 2, 3 or q.\n`);
        continue;
      }
      process.stdout.write('\n');
      try {
        await show(mode, runner, config);
      } catch (error) {
        // A mode that fails (the cluster stopped answering, say) is said, and the menu stays.
        if (!(error instanceof MeshproofError)) throw error;
        process.stdout.write(`${formatUserError(error)}\n`);
      }
    }
  } finally {
    rl.close();
  }
}
