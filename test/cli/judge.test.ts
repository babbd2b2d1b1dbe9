import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';

const meshproof = (...args: string[]) => execa(process.execPath, [fromRoot('bin', 'meshproof.js'), ...args], { cwd: fromRoot(), reject: false });

describe('meshproof judge', () => {
  it('re-judges healthy recordings offline and exits 0', async () => {
    const run = await meshproof('judge', 'docs/recordings/healthy-weighted-split.json', 'docs/recordings/healthy-all-match.json');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('PASS  traffic-shifting: 80 % of traffic to reviews v1');
    expect(run.stdout).toMatch(/consistent with 80\/10\/10/);
    expect(run.stdout.trim().split('\n').at(-1)).toBe('2 passed, 0 failed');
  });

  it('exits 1 when any verdict fails, printing the sentence that says why', async () => {
    const run = await meshproof('judge', 'docs/recordings/healthy-rate.json', 'docs/recordings/broken-latency.json');
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('FAIL  fault-delay: a 7 s delay for user jason');
    expect(run.stdout).toContain('10 took less than 7.00 s');
    expect(run.stdout.trim().split('\n').at(-1)).toBe('1 passed, 1 failed');
  });

  it('refuses a file that is not a recording, naming it', async () => {
    const run = await meshproof('judge', 'package.json');
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('meshproof: package.json is not a meshproof.recording/v1 recording');
  });
});
