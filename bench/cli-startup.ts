/**
 * How fast `meshproof` starts, as a ratio to `node -e 0` (the floor no Node program beats on this machine): the
 * commands a person types to look around (`--help`, `versions`, `features`, `config`) and `judge` of one recording.
 * Each is run `runs` times after one warm-up, alternating with `node -e 0`, and the medians are compared; the
 * CLI's own build (dist/, from npm's `prepare`) is what runs, as after `npm ci`. bench/run.ts prints the lines.
 */
import { execa } from 'execa';
import { fromRoot } from '../helpers/config/data-file.ts';

const commands = [['--help'], ['versions'], ['features'], ['config'], ['plan'], ['judge', 'docs/recordings/healthy-rate.json']];

async function wallMs(file: string, args: string[]): Promise<number> {
  const started = performance.now();
  await execa(file, args, { cwd: fromRoot(), reject: false });
  return performance.now() - started;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchCliStartup(options: { runs?: number } = {}): Promise<string[]> {
  const runs = options.runs ?? 7;
  await execa('npm', ['run', '--silent', 'build'], { cwd: fromRoot() });
  const node = process.execPath;
  const lines: string[] = [];
  for (const args of commands) {
    const cli: number[] = [];
    const floor: number[] = [];
    await wallMs(node, [fromRoot('bin', 'meshproof.js'), ...args]); // warm-up: file cache
    for (let i = 0; i < runs; i++) {
      cli.push(await wallMs(node, [fromRoot('bin', 'meshproof.js'), ...args]));
      floor.push(await wallMs(node, ['-e', '0']));
    }
    const [m, f] = [median(cli), median(floor)];
    lines.push(`meshproof ${args.join(' ').padEnd(42)} median ${(m / 1000).toFixed(3)} s (min ${(Math.min(...cli) / 1000).toFixed(3)}, max ${(Math.max(...cli) / 1000).toFixed(3)}); node -e 0 ${(f / 1000).toFixed(3)} s; ratio ${(m / f).toFixed(1)}`);
  }
  return lines;
}
