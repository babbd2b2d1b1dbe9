import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../helpers/config/config.ts';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { writeSummary } from '../../helpers/report/summary.ts';
import { useTempDirs } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-summary-');

function reportsWith(files: string[]): string {
  const reports = tempDir();
  mkdirSync(path.join(reports, 'recordings'));
  for (const f of files) copyFileSync(fromRoot('docs', 'recordings', f), path.join(reports, 'recordings', f));
  return reports;
}

describe('the conformance summary', () => {
  it('gives each feature its status from its recordings, with every verdict sentence', () => {
    const reportsDir = reportsWith(['healthy-weighted-split.json', 'broken-all-match.json', 'healthy-rate.json']);
    const config = { ...loadConfig({ MESHPROOF_SKIP: 'kiali=no UI checks today' }, tempDir()), reportsDir };
    const summary = writeSummary(config, { istio: '1.30.3', kubernetes: '1.36.4' });
    expect(summary.features['traffic-shifting'].status).toBe('passed');
    expect(summary.features['request-routing'].status).toBe('failed');
    expect(summary.features['request-routing'].verdicts[0]!.sentence).toContain('0 of 50 requests');
    expect(summary.features['fault-abort'].status).toBe('passed');
    expect(summary.features.kiali).toMatchObject({ status: 'skipped', reason: 'skipped by MESHPROOF_SKIP: no UI checks today' });
    expect(summary.features.mirroring.status).toBe('not-run');
    expect(summary.result).toBe('failed');
    expect(summary.totals).toEqual({ passed: 2, failed: 1, skipped: 1, 'not-run': 8 });
    expect(JSON.parse(readFileSync(path.join(reportsDir, 'conformance-summary.json'), 'utf8'))).toEqual(summary);
  });

  it('is incomplete, not passed, when a feature left no recording', () => {
    const reportsDir = reportsWith(readdirSync(fromRoot('docs', 'recordings')).filter((f) => f.startsWith('healthy-')));
    const summary = writeSummary({ ...loadConfig({}, tempDir()), reportsDir }, {});
    expect(summary.result).toBe('incomplete');
  });
});
