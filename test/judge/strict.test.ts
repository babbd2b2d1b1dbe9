import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { strictProblems } from '../../helpers/judge/strict.ts';
import { readRecording, type Recording } from '../../helpers/record/recording.ts';
import { useTempDirs } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-strict-');
const sample = (name: string) => readRecording(fromRoot('docs', 'recordings', 'verdicts', `${name}.json`));
const healthyRetries = () => sample('timeouts-retries.retries.healthy');
const healthyRefused = () => sample('mtls-strict.plaintext-refused.healthy');

describe('--strict', () => {
  it('accepts a recording made as the catalogue says', () => {
    expect(strictProblems(healthyRefused(), 1e-4)).toEqual([]);
  });

  it('refuses a doctored expectation: an empty matcher, a weaker ratio, a looser α', () => {
    const emptied: Recording = { ...healthyRefused(), expectation: { judge: 'all-match', description: 'x', matcher: { status: 0 } } };
    expect(strictProblems(emptied, 1e-4)).toEqual(['expectation.matcher is {"status":0}; the catalogue says {"outcomeIn":["reset","empty-reply","tls-failure"]}']);
    const retries = healthyRetries();
    const weaker: Recording = { ...retries, expectation: { ...retries.expectation, atLeast: 1 } as Recording['expectation'] };
    expect(strictProblems(weaker, 1e-4)).toEqual(['expectation.atLeast is 1; the catalogue says 3']);
  });

  it('refuses too few requests for the configured α, and a recording with no check', () => {
    const refused = healthyRefused();
    expect(strictProblems({ ...refused, requests: refused.requests.slice(0, 1) }, 1e-4)).toEqual(['1 requests; the catalogue plans at least 88 at α = 0.0001']);
    expect(strictProblems({ ...refused, check: undefined }, 1e-4)[0]).toMatch(/no check id/);
    expect(strictProblems({ ...refused, check: 'mtls-strict/nonsense' }, 1e-4)[0]).toMatch(/is not one of mtls-strict's/);
  });

  it('refuses a canary doctored to 100/0/0, from the command line, with exit code 2', async () => {
    const canary = JSON.parse(JSON.stringify(readRecording(fromRoot('docs', 'recordings', 'healthy-weighted-split.json')))) as Recording;
    const doctored = { ...canary, check: 'traffic-shifting/split', expectation: { ...canary.expectation, weights: { 'reviews-v1': 100, 'reviews-v2': 0, 'reviews-v3': 0 } } };
    const file = path.join(tempDir(), 'canary.json');
    writeFileSync(file, JSON.stringify(doctored));
    const run = await execa(process.execPath, [fromRoot('bin', 'meshproof.js'), 'judge', '--strict', file], { cwd: fromRoot(), reject: false });
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toContain('--strict: expectation.weights is {"reviews-v1":100,"reviews-v2":0,"reviews-v3":0}; the catalogue says {"reviews-v1":80,"reviews-v2":10,"reviews-v3":10}');
    expect(run.stdout.trim().split('\n').at(-1)).toBe('0 passed, 0 failed, 1 invalid');
  });
});
