import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MeshproofConfig } from '../config/config.ts';
import { featureNames, type FeatureName } from '../config/features.ts';
import { featureSkipReason } from '../config/suites.ts';
import { meshproofVersion } from '../config/version.ts';
import { readRecording, type Recording } from '../record/recording.ts';

/**
 * The machine-readable conformance summary of a run (reports/conformance-summary.json), in the spirit of Gateway
 * API's conformance report: per feature, passed, failed, skipped (with the reason) or not run, with every verdict
 * sentence and the recording it came from; and the versions the run was made on.
 */
export const summaryFormat = 'meshproof.conformance-summary/v1';

export type FeatureStatus = 'passed' | 'failed' | 'skipped' | 'not-run';

export interface ConformanceSummary {
  format: typeof summaryFormat;
  /** The run summarised: only recordings with this run id count. */
  runId: string;
  generatedAt: string;
  versions: { meshproof: string; istio?: string; kubernetes?: string };
  result: 'passed' | 'failed' | 'incomplete';
  totals: Record<FeatureStatus, number>;
  features: Record<FeatureName, { status: FeatureStatus; reason?: string; verdicts: { pass: boolean; title: string; sentence: string; recording: string }[] }>;
}

/** A run id: the time it started (readable in a folder listing) and a random part. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
}

/**
 * The summary of one run from the recordings it made: recordings of other runs (a kept reports folder holds
 * them) are left out, so a feature that left no verdict this run is `not-run`, never passed by an old recording.
 */
export function summarize(
  recordings: { file: string; recording: Recording }[],
  config: Pick<MeshproofConfig, 'skip' | 'only'>,
  runId: string,
  versions: Omit<ConformanceSummary['versions'], 'meshproof'>,
): ConformanceSummary {
  const features = {} as ConformanceSummary['features'];
  const ofThisRun = recordings.filter(({ recording }) => recording.runId === runId);
  for (const feature of featureNames) {
    const reason = featureSkipReason(config, feature);
    const verdicts = ofThisRun
      .filter(({ recording }) => recording.feature === feature)
      .map(({ file, recording }) => ({ pass: recording.verdict?.pass ?? false, title: recording.title, sentence: recording.verdict?.sentence ?? '(no verdict recorded)', recording: file }));
    const status: FeatureStatus = reason ? 'skipped' : verdicts.length === 0 ? 'not-run' : verdicts.every((v) => v.pass) ? 'passed' : 'failed';
    features[feature] = { status, ...(reason && { reason }), verdicts };
  }
  const totals = { passed: 0, failed: 0, skipped: 0, 'not-run': 0 } as Record<FeatureStatus, number>;
  for (const { status } of Object.values(features)) totals[status] += 1;
  const result = totals.failed > 0 ? 'failed' : totals['not-run'] > 0 ? 'incomplete' : 'passed';
  return { format: summaryFormat, runId, generatedAt: new Date().toISOString(), versions: { ...versions, meshproof: meshproofVersion }, result, totals, features };
}

/** Reads <reportsDir>/recordings/*.json and writes <reportsDir>/conformance-summary.json; returns the summary. */
export function writeSummary(config: Pick<MeshproofConfig, 'skip' | 'only' | 'reportsDir'>, runId: string, versions: Omit<ConformanceSummary['versions'], 'meshproof'>): ConformanceSummary {
  const dir = path.join(config.reportsDir, 'recordings');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  const recordings = files.map((f) => ({ file: path.join('recordings', f), recording: readRecording(path.join(dir, f)) }));
  const summary = summarize(recordings, config, runId, versions);
  writeFileSync(path.join(config.reportsDir, 'conformance-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
