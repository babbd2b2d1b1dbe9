import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MeshproofConfig } from '../config/config.ts';
import { featureCatalog, featureNames } from '../config/features.ts';
import { meshproofVersion } from '../config/version.ts';
import { formatDuration } from '../config/timeouts.ts';
import { writeAllureEnvironment } from './allure-report.ts';
import { labelValue, readRunResults, runLabel, setStatusMessage, Status, stepOf, unknownStatus, writeResult } from './allure-results.ts';
import type { PhaseRecord } from '../provision/progress.ts';
import { conformanceHeadline, summaryFile, writeSummary, type ConformanceSummary, type FeatureStatus, type SetupFailure, type TestOutcome } from './summary.ts';
import { escapeHtml } from './html.ts';

/**
 * The end of a conformance run, whether the suites ran or setup stopped it: the reports folder always gets the
 * setup phases, the conformance summary, and Allure results that account for every feature of the catalogue —
 * passed, failed, skipped with its reason, or not run and why — with the conformance result first. The CI
 * artifact is most needed exactly when setup failed.
 */
export interface RunEnding {
  config: Pick<MeshproofConfig, 'skip' | 'only' | 'reportsDir' | 'target'>;
  runId: string;
  versions: { istio?: string; kubernetes?: string };
  /** "kind (kindest/node:v1.36.4@sha256:…)" or "existing (context)". */
  target: string;
  setupPhases: readonly PhaseRecord[];
  /** Set when setup failed: the run ends here, before any suite. */
  setupFailure?: SetupFailure;
  startedAt: number;
}

/** The epic every feature is filed under in the report, the conformance result beside them. */
export const conformanceEpic = 'Istio conformance';

export function finishRun(ending: RunEnding): ConformanceSummary {
  const { config, runId } = ending;
  const resultsDir = path.join(config.reportsDir, 'allure-results');
  mkdirSync(config.reportsDir, { recursive: true });
  writeFileSync(path.join(config.reportsDir, 'setup-phases.json'), `${JSON.stringify(ending.setupPhases, null, 2)}\n`);

  const results = readRunResults(resultsDir, runId);
  const tests: TestOutcome[] = results.flatMap(({ result }) => {
    const feature = labelValue(result, 'feature');
    return feature ? [{ feature, name: result.name ?? '', status: (result.status ?? 'unknown') as TestOutcome['status'], ...(result.statusDetails?.message && { message: result.statusDetails.message }) }] : [];
  });
  const summary = writeSummary(config, runId, ending.versions, { tests, ...(ending.setupFailure && { setupFailure: ending.setupFailure }) });

  // vitest keeps a skip's reason to itself: the report shows the summary's.
  for (const file of results) {
    const feature = labelValue(file.result, 'feature');
    const reason = feature && summary.features[feature as keyof typeof summary.features]?.reason;
    if (file.result.status === Status.SKIPPED && reason) setStatusMessage(file, reason);
  }
  const now = Date.now();
  writeSetupResult(resultsDir, ending, now);
  const withTests = new Set(tests.map((t) => t.feature));
  for (const feature of featureNames) {
    const { status, reason } = summary.features[feature];
    // A skipped feature's vitest test is already there; one that never ran has no test at all.
    if (withTests.has(feature) || (status !== 'not-run' && status !== 'skipped')) continue;
    writeResult(resultsDir, {
      name: featureCatalog[feature].description,
      key: `meshproof:feature:${feature}`,
      status: status === 'skipped' ? Status.SKIPPED : unknownStatus,
      statusDetails: { message: `${status === 'skipped' ? 'skipped' : 'not run'}: ${reason}` },
      // The report shows the message only for failures; the description says it for every status.
      descriptionHtml: `<p>${escapeHtml(featureCatalog[feature].description)}</p><p><b>${status === 'skipped' ? 'skipped' : 'not run'}</b>: ${escapeHtml(reason ?? '')}</p>`,
      labels: [
        { name: 'epic', value: conformanceEpic },
        { name: 'feature', value: feature },
        { name: runLabel, value: runId },
      ],
      start: now,
      stop: now,
    });
  }
  writeConformanceResult(resultsDir, ending, summary, now);
  writeAllureEnvironment(resultsDir, {
    Conformance: `${summary.result}${summary.reason ? ` (${summary.reason})` : ''}`,
    Istio: ending.versions.istio ?? 'unknown',
    Kubernetes: ending.versions.kubernetes ?? 'unknown',
    Target: ending.target,
    meshproof: meshproofVersion,
    Run: runId,
  });
  return summary;
}

/** The setup phases as one test, its steps the phases with their durations and why any was skipped or failed. */
function writeSetupResult(resultsDir: string, ending: RunEnding, now: number): void {
  const steps = ending.setupPhases.map((phase) =>
    stepOf(
      `${phase.name} (${formatDuration(phase.durationMs)})${phase.status === 'skipped' ? ` — ${phase.detail}` : ''}`,
      phase.status === 'failed' ? Status.FAILED : Status.PASSED,
      phase.startedAt,
      phase.startedAt + phase.durationMs,
      phase.status === 'failed' ? phase.detail : undefined,
    ),
  );
  writeResult(resultsDir, {
    name: ending.setupFailure ? `setup failed at phase "${ending.setupFailure.phase}"` : 'the mesh was set up',
    key: 'meshproof:setup',
    status: ending.setupFailure ? Status.BROKEN : Status.PASSED,
    ...(ending.setupFailure && { statusDetails: { message: ending.setupFailure.message } }),
    labels: [
      { name: 'epic', value: 'meshproof' },
      { name: 'feature', value: 'setup' },
      { name: runLabel, value: ending.runId },
    ],
    steps,
    start: ending.startedAt,
    stop: now,
  });
}

const statusWords: Record<FeatureStatus, string> = { passed: 'passed', failed: 'FAILED', skipped: 'skipped', 'not-run': 'not run' };
const statusColours: Record<FeatureStatus, string> = { passed: '#2e7d32', failed: '#c62828', skipped: '#757575', 'not-run': '#ef6c00' };


/** The conformance result as the report's first test: every feature's status, reason and verdicts in a table. */
function writeConformanceResult(resultsDir: string, ending: RunEnding, summary: ConformanceSummary, now: number): void {
  const rows = featureNames.map((feature) => {
    const { status, reason, verdicts } = summary.features[feature];
    const details = [
      ...(reason ? [`<div>${escapeHtml(reason)}</div>`] : []),
      ...verdicts.map((v) => `<div style="color:${v.pass ? statusColours.passed : statusColours.failed}">${v.pass ? '✓' : '✗'} ${escapeHtml(v.sentence)}</div>`),
    ].join('');
    return (
      `<tr style="border-top:1px solid #e0e0e0" data-feature="${feature}"><td style="padding:4px 8px;vertical-align:top"><b>${escapeHtml(feature)}</b><br><small>${escapeHtml(featureCatalog[feature].description)}</small></td>` +
      `<td style="padding:4px 8px;vertical-align:top;color:${statusColours[status]};font-weight:bold" data-status="${status}">${statusWords[status]}</td>` +
      `<td style="padding:4px 8px;vertical-align:top;white-space:normal;overflow-wrap:anywhere">${details}</td></tr>`
    );
  });
  const versions = `Istio ${ending.versions.istio ?? 'unknown'}, Kubernetes ${ending.versions.kubernetes ?? 'unknown'}, ${ending.target}, meshproof ${meshproofVersion}, run ${ending.runId}`;
  const html =
    `<p id="meshproof-conformance" data-result="${summary.result}"><b>${escapeHtml(conformanceHeadline(summary))}</b>` +
    `${summary.reason ? `<br>${escapeHtml(summary.reason)}` : ''}<br><small>${escapeHtml(versions)}</small></p>` +
    `<table style="border-collapse:collapse;width:100%;table-layout:fixed">` +
    `<tr><th align="left" style="width:26%">feature</th><th align="left" style="width:9%">status</th><th align="left">why, and the verdicts</th></tr>${rows.join('')}</table>`;
  const status = summary.result === 'passed' ? Status.PASSED : summary.result === 'failed' ? Status.FAILED : Status.BROKEN;
  writeResult(resultsDir, {
    // The leading "0 ·" sorts it before every feature in the report's tree.
    name: `0 · ${conformanceHeadline(summary)}`,
    key: 'meshproof:conformance-result',
    status,
    ...(summary.reason && { statusDetails: { message: summary.reason } }),
    labels: [
      { name: 'epic', value: conformanceEpic },
      { name: 'feature', value: '0 · conformance result' },
      { name: runLabel, value: ending.runId },
    ],
    descriptionHtml: html,
    attachments: [{ name: summaryFile, content: readFileSync(path.join(ending.config.reportsDir, summaryFile), 'utf8'), type: 'application/json', extension: 'json' }],
    start: ending.startedAt,
    stop: now,
  });
}
