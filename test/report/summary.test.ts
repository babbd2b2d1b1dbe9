import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../helpers/config/config.ts';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { writeSummary } from '../../helpers/report/summary.ts';
import { useTempDirs } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-summary-');

const runId = '20261129T120000Z-1a2b3c4d';

/** A reports folder with shipped samples as recordings of `run` (a sample's runId replaced). */
function reportsWith(files: string[], run = runId, reports = tempDir()): string {
  mkdirSync(path.join(reports, 'recordings'), { recursive: true });
  for (const f of files) {
    const recording = JSON.parse(readFileSync(fromRoot('docs', 'recordings', f), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(reports, 'recordings', `${run}-${f}`), JSON.stringify({ ...recording, runId: run }));
  }
  return reports;
}

describe('the conformance summary', () => {
  it('gives each feature its status from its recordings, with every verdict sentence', () => {
    const reportsDir = reportsWith(['healthy-weighted-split.json', 'broken-all-match.json', 'healthy-rate.json']);
    const config = { ...loadConfig({ MESHPROOF_SKIP: 'kiali=no UI checks today' }, tempDir()), reportsDir };
    const summary = writeSummary(config, runId, { istio: '1.30.3', kubernetes: '1.36.4' });
    expect(summary.runId).toBe(runId);
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
    const summary = writeSummary({ ...loadConfig({}, tempDir()), reportsDir }, runId, {});
    expect(summary.result).toBe('incomplete');
  });

  it("counts only this run's recordings: an earlier run's passing verdict does not pass a feature that left none", () => {
    const earlier = '20261128T090000Z-99999999';
    const reportsDir = reportsWith(['healthy-weighted-split.json', 'healthy-rate.json'], earlier);
    reportsWith(['healthy-rate.json'], runId, reportsDir);
    const summary = writeSummary({ ...loadConfig({}, tempDir()), reportsDir }, runId, {});
    expect(summary.features['traffic-shifting'].status).toBe('not-run');
    expect(summary.features['fault-abort'].status).toBe('passed');
    expect(summary.features['fault-abort'].verdicts).toHaveLength(1);
    expect(summary.result).toBe('incomplete');
  });
});
