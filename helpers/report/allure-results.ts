import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Stage, Status, type Attachment, type Label, type StatusDetails, type StepResult, type TestResult } from 'allure-js-commons';

/**
 * Allure results written and read by meshproof itself, beside the ones allure-vitest writes for each test: the
 * setup phases, the conformance result and the features that never ran have no vitest test to carry them, and
 * the summary needs to know how this run's tests ended. The format is Allure's result format
 * (`<uuid>-result.json`, allure-framework/allure-js `packages/allure-js-commons/src/model.ts`), the one the
 * reporter writes.
 */

/** The Allure label every test of a run carries, with the run id as its value. */
export const runLabel = 'meshproof.run';

export interface ResultFile {
  file: string;
  result: TestResult;
}

/** This run's results: those labelled with its id (a kept results folder holds earlier runs' too). */
export function readRunResults(resultsDir: string, runId: string): ResultFile[] {
  if (!existsSync(resultsDir)) return [];
  return readdirSync(resultsDir)
    .filter((name) => name.endsWith('-result.json'))
    .map((name) => ({ file: path.join(resultsDir, name), result: JSON.parse(readFileSync(path.join(resultsDir, name), 'utf8')) as TestResult }))
    .filter(({ result }) => labelValue(result, runLabel) === runId);
}

export function labelValue(result: Pick<TestResult, 'labels'>, name: string): string | undefined {
  return result.labels.find((label) => label.name === name)?.value;
}

/** Gives a result a status message where it has none (vitest's skip keeps its reason to itself). */
export function setStatusMessage({ file, result }: ResultFile, message: string): void {
  if (result.statusDetails?.message) return;
  writeFileSync(file, JSON.stringify({ ...result, statusDetails: { ...result.statusDetails, message } }));
}

export interface NewAttachment {
  name: string;
  content: string;
  type: string;
  extension: string;
}

export interface NewResult {
  name: string;
  /** Stable across runs, so Allure's history lines the runs up. */
  key: string;
  status: Status;
  statusDetails?: StatusDetails;
  labels: Label[];
  descriptionHtml?: string;
  steps?: StepResult[];
  attachments?: NewAttachment[];
  parameters?: { name: string; value: string }[];
  start: number;
  stop: number;
}

/** Writes one result, and its attachments beside it, as the reporter would. */
export function writeResult(resultsDir: string, result: NewResult): string {
  mkdirSync(resultsDir, { recursive: true });
  const uuid = randomUUID();
  const attachments: Attachment[] = (result.attachments ?? []).map((attachment) => {
    const source = `${randomUUID()}-attachment.${attachment.extension}`;
    writeFileSync(path.join(resultsDir, source), attachment.content);
    return { name: attachment.name, source, type: attachment.type };
  });
  const historyId = createHash('md5').update(result.key).digest('hex');
  const full: TestResult = {
    uuid,
    name: result.name,
    fullName: result.key,
    historyId,
    testCaseId: historyId,
    status: result.status,
    statusDetails: result.statusDetails ?? {},
    stage: Stage.FINISHED,
    labels: result.labels,
    links: [],
    parameters: result.parameters ?? [],
    steps: result.steps ?? [],
    attachments,
    start: result.start,
    stop: result.stop,
    ...(result.descriptionHtml !== undefined && { descriptionHtml: result.descriptionHtml }),
  };
  const file = path.join(resultsDir, `${uuid}-result.json`);
  writeFileSync(file, JSON.stringify(full));
  return file;
}

/** A finished step for a written result. */
export function stepOf(name: string, status: Status, start: number, stop: number, message?: string): StepResult {
  return {
    name,
    status,
    statusDetails: message ? { message } : {},
    stage: Stage.FINISHED,
    steps: [],
    attachments: [],
    parameters: [],
    start,
    stop,
  };
}

export { Status };

/**
 * "No result": what a feature that never ran is. allure-js-commons' Status enum stops at skipped, but Allure's
 * result format and both report generations read "unknown" (@allurereport/core-api TestStatus).
 */
export const unknownStatus = 'unknown' as Status;
