import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
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
  /** Why the result is not `passed`, in a sentence: the setup phase that failed, the features that failed or did not run. */
  reason?: string;
  totals: Record<FeatureStatus, number>;
  features: Record<FeatureName, { status: FeatureStatus; reason?: string; verdicts: { pass: boolean; title: string; sentence: string; recording: string }[] }>;
}

/** A run id: the time it started (readable in a folder listing) and a random part. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
}

/** How one test of this run ended, as Allure recorded it (helpers/report/allure-results.ts). */
export interface TestOutcome {
  feature: string;
  name: string;
  status: 'passed' | 'failed' | 'broken' | 'skipped' | 'unknown';
  message?: string;
}

/** The setup phase that failed, when the run ended before any suite. */
export interface SetupFailure {
  phase: string;
  message: string;
}

const firstLine = (text: string) => text.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';

/**
 * The summary of one run from the recordings it made and how its tests ended: recordings of other runs (a kept
 * reports folder holds them) are left out, so a feature that left no verdict this run is `not-run`, never passed
 * by an old recording; and a feature whose test failed is failed even when every verdict it recorded passed (the
 * restore or a control may be what failed), or when it failed before its first verdict.
 */
export function summarize(
  recordings: { file: string; recording: Recording }[],
  config: Pick<MeshproofConfig, 'skip' | 'only'>,
  runId: string,
  versions: Omit<ConformanceSummary['versions'], 'meshproof'>,
  outcome: { tests?: TestOutcome[]; setupFailure?: SetupFailure } = {},
): ConformanceSummary {
  const features = {} as ConformanceSummary['features'];
  const ofThisRun = recordings.filter(({ recording }) => recording.runId === runId);
  const setupFailed = outcome.setupFailure && `setup failed at phase "${outcome.setupFailure.phase}": ${firstLine(outcome.setupFailure.message)}`;
  for (const feature of featureNames) {
    const skipReason = featureSkipReason(config, feature);
    const verdicts = ofThisRun
      .filter(({ recording }) => recording.feature === feature)
      .map(({ file, recording }) => ({ pass: recording.verdict?.pass ?? false, title: recording.title, sentence: recording.verdict?.sentence ?? '(no verdict recorded)', recording: file }));
    const tests = (outcome.tests ?? []).filter((test) => test.feature === feature);
    const failedTest = tests.find((test) => test.status === 'failed' || test.status === 'broken');
    let status: FeatureStatus;
    let reason: string | undefined;
    if (skipReason) [status, reason] = ['skipped', skipReason];
    else if (setupFailed) [status, reason] = ['not-run', setupFailed];
    else if (verdicts.some((v) => !v.pass)) status = 'failed';
    else if (failedTest) {
      status = 'failed';
      reason = `${verdicts.length === 0 ? 'failed before any verdict' : 'a test failed although its verdicts passed'}: "${failedTest.name}": ${firstLine(failedTest.message ?? 'no message')}`;
    } else if (verdicts.length > 0) status = 'passed';
    else if (tests.length > 0 && tests.every((test) => test.status === 'skipped')) [status, reason] = ['skipped', firstLine(tests[0]!.message ?? 'skipped by its suite')];
    else if (tests.length > 0) [status, reason] = ['not-run', 'its tests ended without recording a verdict'];
    else [status, reason] = ['not-run', 'its suite did not run in this run (a vitest file filter, or the suite failed to load)'];
    features[feature] = { status, ...(reason && { reason }), verdicts };
  }
  const totals = { passed: 0, failed: 0, skipped: 0, 'not-run': 0 } as Record<FeatureStatus, number>;
  for (const { status } of Object.values(features)) totals[status] += 1;
  const result = totals.failed > 0 ? 'failed' : setupFailed || totals['not-run'] > 0 ? 'incomplete' : 'passed';
  const named = (status: FeatureStatus) => featureNames.filter((f) => features[f].status === status).join(', ');
  const reason =
    result === 'passed'
      ? undefined
      : setupFailed && totals.failed === 0
        ? setupFailed
        : [totals.failed > 0 && `failed: ${named('failed')}`, totals['not-run'] > 0 && `not run: ${setupFailed ?? named('not-run')}`].filter(Boolean).join('; ');
  return {
    format: summaryFormat,
    runId,
    generatedAt: new Date().toISOString(),
    versions: { ...versions, meshproof: meshproofVersion },
    result,
    ...(reason && { reason }),
    totals,
    features,
  };
}

/** Reads <reportsDir>/recordings/*.json and writes <reportsDir>/conformance-summary.json; returns the summary. */
export function writeSummary(
  config: Pick<MeshproofConfig, 'skip' | 'only' | 'reportsDir'>,
  runId: string,
  versions: Omit<ConformanceSummary['versions'], 'meshproof'>,
  outcome: { tests?: TestOutcome[]; setupFailure?: SetupFailure } = {},
): ConformanceSummary {
  const dir = path.join(config.reportsDir, 'recordings');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  const recordings = files.map((f) => ({ file: path.join('recordings', f), recording: readRecording(path.join(dir, f)) }));
  const summary = summarize(recordings, config, runId, versions, outcome);
  mkdirSync(config.reportsDir, { recursive: true });
  writeFileSync(path.join(config.reportsDir, summaryFile), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

export const summaryFile = 'conformance-summary.json';

/** The headline: "conformance failed — 5 passed, 1 failed, 1 skipped, 6 not run". */
export function conformanceHeadline(summary: Pick<ConformanceSummary, 'result' | 'totals'>): string {
  const t = summary.totals;
  return `conformance ${summary.result} — ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped, ${t['not-run']} not run`;
}
