import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { readRecording } from '../../helpers/record/recording.ts';
import { keepRecording } from '../../helpers/report/evidence.ts';
import { useTempDirs } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-evidence-');

describe('keepRecording', () => {
  it('writes the recording under reports/recordings, readable again as the same recording', async () => {
    const reports = tempDir();
    const sample = readRecording(fromRoot('docs', 'recordings', 'healthy-all-match.json'));
    const file = await keepRecording(reports, sample);
    expect(path.dirname(file)).toBe(path.join(reports, 'recordings'));
    expect(readdirSync(path.join(reports, 'recordings'))).toEqual([path.basename(file)]);
    expect(path.basename(file)).toMatch(/^request-routing-user-jason-is-routed-to-reviews-v2-.+\.json$/);
    expect(readRecording(file)).toEqual(sample);
  });
});
