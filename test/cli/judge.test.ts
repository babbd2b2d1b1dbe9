import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { useTempDirs } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-judge-');
const meshproof = (...args: string[]) => execa(process.execPath, [fromRoot('bin', 'meshproof.js'), ...args], { cwd: fromRoot(), reject: false });

const sample = (name: string) => JSON.parse(readFileSync(fromRoot('docs', 'recordings', `${name}.json`), 'utf8')) as Record<string, unknown> & { expectation: Record<string, unknown> };

/** A copy of a shipped sample with its expectation changed, written to a temporary file. */
function doctored(name: string, expectation: Record<string, unknown>, file: string): string {
  const recording = sample(name);
  const target = path.join(tempDir(), file);
  writeFileSync(target, JSON.stringify({ ...recording, expectation: { ...recording.expectation, ...expectation } }));
  return target;
}

const lastLine = (text: string) => text.trim().split('\n').at(-1);

describe('meshproof judge', () => {
  it('re-judges healthy recordings offline and exits 0', async () => {
    const run = await meshproof('judge', 'docs/recordings/healthy-weighted-split.json', 'docs/recordings/healthy-all-match.json');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('PASS  traffic-shifting: 80 % of traffic to reviews v1');
    expect(run.stdout).toMatch(/consistent with 80\/10\/10/);
    expect(lastLine(run.stdout)).toBe('2 passed, 0 failed, 0 invalid');
  });

  it('exits 1 when any verdict fails, printing the sentence that says why', async () => {
    const run = await meshproof('judge', 'docs/recordings/healthy-rate.json', 'docs/recordings/broken-latency.json');
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('FAIL  fault-delay: a 7 s delay for user jason');
    expect(run.stdout).toContain('10 took less than 7 s');
    expect(lastLine(run.stdout)).toBe('1 passed, 1 failed, 0 invalid');
  });

  it('calls a file that is not a recording invalid, naming it, and goes on with the others', async () => {
    const run = await meshproof('judge', 'package.json', 'docs/recordings/healthy-rate.json', 'no-such-recording.json');
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toContain('INVALID  package.json\n      format is undefined; meshproof reads meshproof.recording/v1 and meshproof.recording/v2');
    expect(run.stdout).toContain('INVALID  no-such-recording.json\n      cannot be read as JSON: ENOENT');
    expect(run.stdout).toContain('PASS  fault-abort');
    expect(lastLine(run.stdout)).toBe('1 passed, 0 failed, 2 invalid');
    expect(run.stderr).toBe('');
  });

  it('calls expectations that make no sense invalid, not failed, and never prints a stack', async () => {
    const files = [
      doctored('healthy-weighted-split', { weights: { 'reviews-v1': 80, 'reviews-v2': 20, 'reviews-v3': 10 } }, 'sum-110.json'),
      doctored('healthy-weighted-split', { weights: { 'reviews-v1': 0, 'reviews-v2': 0 } }, 'sum-0.json'),
      doctored('healthy-weighted-split', { weights: {} }, 'no-weights.json'),
      doctored('healthy-latency', { atLeastMs: undefined, atMostMs: undefined }, 'no-bound.json'),
      doctored('healthy-all-match', { matcher: {} }, 'empty-matcher.json'),
      doctored('healthy-metric-increase', { atLeast: 60, atMost: 10 }, 'bounds-reversed.json'),
      doctored('healthy-metric-increase', { metric: 'a metric nobody recorded' }, 'missing-metric.json'),
    ];
    const run = await meshproof('judge', ...files, 'docs/recordings/broken-rate.json');
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toContain('expectation.weights: sum to 110, not 100');
    expect(run.stdout).toContain('expectation.weights: sum to 0, not 100');
    expect(run.stdout).toContain('expectation.weights: names no class');
    expect(run.stdout).toContain('expectation: a latency check needs atLeastMs, atMostMs or both');
    expect(run.stdout).toContain('expectation.matcher: is empty, so every request would match');
    expect(run.stdout).toContain('expectation: atLeast 60 is above atMost 10');
    expect(run.stdout).toContain('expectation reads the metric "a metric nobody recorded"');
    expect(run.stdout).toContain('FAIL  fault-abort');
    expect(lastLine(run.stdout)).toBe('0 passed, 1 failed, 7 invalid');
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/RangeError|^\s+at /m);
  });

  it('reads recordings of the first format', async () => {
    const v1 = path.join(tempDir(), 'v1.json');
    writeFileSync(v1, JSON.stringify({ ...sample('healthy-all-match'), format: 'meshproof.recording/v1' }));
    const run = await meshproof('judge', v1);
    expect(run.exitCode, run.stdout).toBe(0);
  });
});
