import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { fromRoot } from '../config/data-file.ts';
import { MeshproofError } from '../errors.ts';
import { conformanceHeadline, summaryFile, type ConformanceSummary } from './summary.ts';

/**
 * The Allure HTML report of a run. The environment block carries the versions the run was made on; the report
 * makes no outside request: Allure's Awesome plugin embeds an analytics script, removed after generation.
 */

/** A key the environment block shows as written: Java-properties keys end at a space, ':' or '='. */
const environmentKey = /^[A-Za-z][A-Za-z0-9_.-]*$/;

export function writeAllureEnvironment(resultsDir: string, environment: Record<string, string>): void {
  const bad = Object.keys(environment).filter((key) => !environmentKey.test(key));
  if (bad.length > 0) throw new Error(`Allure environment keys must be single words, got ${bad.map((k) => JSON.stringify(k)).join(', ')}`);
  mkdirSync(resultsDir, { recursive: true });
  // Java properties: a backslash escapes, and a value keeps everything after the first separator on one line.
  const lines = Object.entries(environment).map(([key, value]) => `${key}=${value.replace(/\\/g, '\\\\').replace(/\n/g, ' ')}`);
  writeFileSync(path.join(resultsDir, 'environment.properties'), `${lines.join('\n')}\n`);
}

export interface ReportOptions {
  /** The title the report opens with (the conformance headline). */
  reportName: string;
  /**
   * One self-contained index.html, which a browser opens from file:// (the multi-file report fetches its data,
   * which browsers refuse from file://, so it would spin forever).
   */
  singleFile: boolean;
  /** A JSON-lines file Allure appends each report to, so the next report shows trends per test. */
  historyPath?: string;
}

export async function generateAllureReport(resultsDir: string, outputDir: string, timeoutMs: number, options: ReportOptions): Promise<string> {
  if (!existsSync(resultsDir) || readdirSync(resultsDir).length === 0) {
    throw new MeshproofError(`there are no Allure results in ${resultsDir}.`, 'Run the conformance suites first: npm test');
  }
  // Allure 3 takes the plugin options from a config file (allurerc.json, @allurereport/core config.js).
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'meshproof-allurerc-'));
  const configFile = path.join(configDir, 'allurerc.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      name: options.reportName,
      output: outputDir,
      ...(options.historyPath && { historyPath: options.historyPath }),
      plugins: { awesome: { options: { reportName: options.reportName, singleFile: options.singleFile, groupBy: ['epic', 'feature'], stepTreeExpansion: 'expanded' } } },
    }),
  );
  try {
    const run = await execa(fromRoot('node_modules', '.bin', 'allure'), ['generate', resultsDir, '--config', configFile, '-o', outputDir], {
      cwd: fromRoot(),
      reject: false,
      all: true,
      timeout: timeoutMs,
    });
    const index = path.join(outputDir, 'index.html');
    if (run.exitCode !== 0 || !existsSync(index)) {
      throw new MeshproofError(`allure generate failed (exit code ${run.exitCode}):\n${(run.all ?? '').split('\n').slice(-10).join('\n')}`);
    }
    const html = readFileSync(index, 'utf8');
    writeFileSync(index, html.replace(/<script[^>]*googletagmanager[\s\S]*?<\/script>\s*(<script>[^<]*gtag[\s\S]*?<\/script>)?/g, ''));
    return index;
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
}

/**
 * The report of the run in a reports folder, as `npm run report` makes it: one self-contained HTML file (it
 * opens from file://, with no server), titled with the conformance result, with Allure's history kept beside
 * the reports so that the next report shows trends per test. Returns the index.html written.
 */
export function generateRunReport(reportsDir: string, timeoutMs: number): Promise<string> {
  const summaryPath = path.join(reportsDir, summaryFile);
  const summary = existsSync(summaryPath) ? (JSON.parse(readFileSync(summaryPath, 'utf8')) as ConformanceSummary) : undefined;
  return generateAllureReport(path.join(reportsDir, 'allure-results'), path.join(reportsDir, 'allure-report'), timeoutMs, {
    reportName: summary ? `meshproof: ${conformanceHeadline(summary)}` : 'meshproof',
    singleFile: true,
    historyPath: path.join(reportsDir, 'allure-history.jsonl'),
  });
}
