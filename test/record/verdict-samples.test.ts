import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { judgeRecording } from '../../helpers/judge/rejudge.ts';
import { strictProblems } from '../../helpers/judge/strict.ts';
import { readRecording } from '../../helpers/record/recording.ts';

/** The per-verdict samples (docs/recordings/verdicts/, made by test/support/verdict-samples.ts). */
const dir = fromRoot('docs', 'recordings', 'verdicts');
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];

describe('the per-verdict sample recordings', () => {
  it('give every control, every verdict added with them and every verdict of the features added since a healthy and a broken recording', () => {
    const checks = [
      'mtls-strict.plaintext-before',
      'mtls-strict.plaintext-refused',
      'mtls-strict.plaintext-after',
      'fault-delay.others',
      'fault-delay.trace',
      'fault-delay.trace-others',
      'fault-abort.jason',
      'circuit-breaker.sequential',
      'circuit-breaker.ejection',
      'timeouts-retries.no-retries-before',
      'timeouts-retries.retries',
      'rate-limiting.burst',
      'rate-limiting.burst-served',
      'rate-limiting.paced',
      'rate-limiting.burst-after',
      'ab-testing.split',
      'ab-testing.counted',
      'traffic-shifting.kiali-shares',
      'traffic-shifting.kiali-validations',
      'fault-abort.kiali-errors',
      'mtls-strict.kiali-mtls',
      'mtls-strict.kiali-sidecars',
      'traffic-shifting.istio-analysis',
    ];
    expect(files).toEqual(checks.flatMap((c) => [`${c}.broken.json`, `${c}.healthy.json`]).sort());
  });

  it.each(files)('%s is judged as its name says and as when it was recorded; a healthy one holds under --strict', (file) => {
    const recording = readRecording(`${dir}/${file}`);
    const verdict = judgeRecording(recording);
    expect(verdict.pass, verdict.sentence).toBe(file.endsWith('.healthy.json'));
    expect(verdict).toEqual(recording.verdict);
    expect(recording.check).toBe(file.replace(/\.(healthy|broken)\.json$/, '').replace('.', '/'));
    if (file.endsWith('.healthy.json')) expect(strictProblems(recording, 1e-4)).toEqual([]);
  });
});
