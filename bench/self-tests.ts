import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { fromRoot } from '../helpers/config/data-file.ts';
import { durationsFile } from '../test/support/sequencer.ts';

/**
 * The self-tests' wall time, as `npm run test:self` takes it here (target: at most 90 s on a 2-core machine). One
 * run: it takes minutes, and its spread is the machine's load, which the line reports beside it. Each file's
 * duration goes to test/self-test-durations.json, from which a fresh clone's run starts the longest files first
 * (test/support/sequencer.ts).
 */
export async function benchSelfTests(): Promise<string[]> {
  const [load1] = os.loadavg();
  const started = Date.now();
  const run = await execa(fromRoot('node_modules', '.bin', 'vitest'), ['run', '--project', 'self', '--reporter=default', '--reporter=./test/support/durations-reporter.ts'], {
    cwd: fromRoot(),
    reject: false,
    all: true,
    env: { FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  const seconds = (Date.now() - started) / 1000;
  const line = (label: string) => (run.all ?? '').split('\n').find((l) => l.trim().startsWith(label))?.trim().replace(/\s+/g, ' ') ?? `${label} ?`;
  return [
    `npm run test:self: ${seconds.toFixed(0)} s wall, exit code ${run.exitCode} (${line('Test Files')}; ${line('Tests')}), one run, load average before it ${load1!.toFixed(1)}`,
    `ratio to the 90 s target: ${(seconds / 90).toFixed(2)}`,
    run.exitCode === 0
      ? `each file's duration written to ${path.relative(fromRoot(), durationsFile)} (the order a fresh clone starts them in)`
      : 'durations not written: the run failed',
  ];
}
