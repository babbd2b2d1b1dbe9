import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { judgeRecording } from '../../helpers/judge/rejudge.ts';
import { parseRecording, readRecording, recordingJsonSchema, type Recording } from '../../helpers/record/recording.ts';

const samplesDir = fromRoot('docs', 'recordings');
const samples = readdirSync(samplesDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, recording: readRecording(`${samplesDir}/${file}`) }));

describe('the recording format', () => {
  it('is published as the JSON Schema generated from the code', () => {
    const published = JSON.parse(readFileSync(fromRoot('docs', 'recording.schema.json'), 'utf8')) as unknown;
    expect(published).toEqual(recordingJsonSchema());
  });

  it('accepts every shipped sample under the published JSON Schema, and refuses a broken one', () => {
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(recordingJsonSchema());
    for (const { file } of samples) {
      const ok = validate(JSON.parse(readFileSync(`${samplesDir}/${file}`, 'utf8')));
      expect(ok, `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    const broken = { ...samples[0]!.recording, requests: [{ startedAt: 1, latencyMs: -1, status: 'ok' }] };
    expect(validate(broken)).toBe(false);
  });

  it('names the field a malformed recording gets wrong', () => {
    const bad = { ...samples[0]!.recording, format: 'meshproof.recording/v0' } as unknown;
    expect(() => parseRecording(bad, 'old.json')).toThrow(/old\.json is not a meshproof\.recording\/v2 recording meshproof can judge:\n {2}format is "meshproof.recording\/v0"/);
  });
});

describe('the shipped sample recordings', () => {
  const judges = ['weighted-split', 'all-match', 'rate', 'latency', 'metric-increase'];

  it('cover every judge with one healthy and one broken recording', () => {
    for (const judge of judges) {
      const ofJudge = samples.filter(({ recording }) => recording.expectation.judge === judge).map(({ file }) => file);
      expect(ofJudge, judge).toEqual([`broken-${judge}.json`, `healthy-${judge}.json`]);
    }
  });

  it.each(samples.map((s) => [s.file, s.recording] as [string, Recording]))('%s is judged as its name says, and as when it was recorded', (file, recording) => {
    const verdict = judgeRecording(recording);
    expect(verdict.pass).toBe(file.startsWith('healthy-'));
    expect(verdict).toEqual(recording.verdict);
  });
});
