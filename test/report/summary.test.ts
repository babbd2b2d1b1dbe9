import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../helpers/config/config.ts';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { conformanceHeadline, writeSummary } from '../../helpers/report/summary.ts';
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
    expect(summary.totals).toEqual({ passed: 2, failed: 1, skipped: 1, 'not-run': 10 });
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

  it('fails a feature whose test failed, although every verdict it recorded passed, or before any verdict', () => {
    const reportsDir = reportsWith(['healthy-weighted-split.json']);
    const summary = writeSummary({ ...loadConfig({}, tempDir()), reportsDir }, runId, {}, {
      tests: [
        { feature: 'traffic-shifting', name: '80 % of traffic to reviews v1', status: 'broken', message: 'restore the baseline: kubectl apply failed\n  at …' },
        { feature: 'mirroring', name: 'reviews v3 receives a copy', status: 'failed', message: 'the configuration did not reach every proxy within 60 s' },
        { feature: 'kiali', name: 'the graph', status: 'skipped', message: 'Kiali is not installed here' },
        { feature: 'jaeger', name: 'traces', status: 'passed' },
      ],
    });
    expect(summary.features['traffic-shifting']).toMatchObject({ status: 'failed', reason: 'a test failed although its verdicts passed: "80 % of traffic to reviews v1": restore the baseline: kubectl apply failed' });
    expect(summary.features.mirroring).toMatchObject({ status: 'failed', reason: 'failed before any verdict: "reviews v3 receives a copy": the configuration did not reach every proxy within 60 s' });
    expect(summary.features.kiali).toMatchObject({ status: 'skipped', reason: 'Kiali is not installed here' });
    expect(summary.features.jaeger).toMatchObject({ status: 'not-run', reason: 'its tests ended without recording a verdict' });
    expect(summary.features.grafana).toMatchObject({ status: 'not-run', reason: expect.stringContaining('its suite did not run in this run') });
    expect(summary.result).toBe('failed');
    expect(summary.reason).toBe('failed: traffic-shifting, mirroring; not run: ab-testing, request-routing, fault-delay, fault-abort, circuit-breaker, rate-limiting, timeouts-retries, mtls-strict, prometheus, grafana, jaeger');
  });

  it('is incomplete with the failed setup phase as the reason of every feature, skipped ones aside', () => {
    const summary = writeSummary({ ...loadConfig({ MESHPROOF_SKIP: 'kiali=not today' }, tempDir()), reportsDir: tempDir() }, runId, {}, {
      setupFailure: { phase: 'addons', message: 'helm upgrade --install kiali failed\nError: timed out waiting for the condition' },
    });
    expect(summary.result).toBe('incomplete');
    expect(summary.reason).toBe('setup failed at phase "addons": helm upgrade --install kiali failed');
    expect(summary.features['traffic-shifting']).toMatchObject({ status: 'not-run', reason: 'setup failed at phase "addons": helm upgrade --install kiali failed' });
    expect(summary.features.kiali).toMatchObject({ status: 'skipped', reason: 'skipped by MESHPROOF_SKIP: not today' });
    expect(conformanceHeadline(summary)).toBe('conformance incomplete — 0 passed, 0 failed, 1 skipped, 13 not run');
  });
});
