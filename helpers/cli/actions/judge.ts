import { loadConfig } from '../../config/config.ts';
import { judgeRecording } from '../../judge/rejudge.ts';
import { strictProblems } from '../../judge/strict.ts';
import { InvalidRecordingError, readRecording, recordingJsonSchema, type Recording } from '../../record/recording.ts';

/**
 * `meshproof judge`: every file judged, even after a bad one; one verdict (or the reasons it is invalid) per file
 * and a last line `N passed, M failed, K invalid`. Exit code 2 when any file is invalid, else 1 when a verdict
 * fails, else 0.
 */
export function judgeFiles(files: string[], options: { strict?: boolean }): void {
  const alpha = options.strict ? loadConfig().alpha : undefined;
  const tally = { passed: 0, failed: 0, invalid: 0 };
  const invalid = (file: string, problems: string[]) => {
    tally.invalid += 1;
    process.stdout.write(`INVALID  ${file}\n      ${problems.join('\n      ')}\n`);
  };
  for (const file of files) {
    let recording: Recording;
    try {
      recording = readRecording(file);
    } catch (error) {
      if (!(error instanceof InvalidRecordingError)) throw error;
      invalid(file, error.problems);
      continue;
    }
    const problems = alpha === undefined ? [] : strictProblems(recording, alpha);
    if (problems.length > 0) {
      invalid(file, problems.map((p) => `--strict: ${p}`));
      continue;
    }
    const verdict = judgeRecording(recording);
    tally[verdict.pass ? 'passed' : 'failed'] += 1;
    const changed = recording.verdict && recording.verdict.pass !== verdict.pass ? ` (recorded as ${recording.verdict.pass ? 'PASS' : 'FAIL'})` : '';
    process.stdout.write(`${verdict.pass ? 'PASS' : 'FAIL'}  ${recording.feature}: ${recording.title}${changed}\n      ${verdict.sentence}\n      ${file}\n`);
  }
  process.stdout.write(`${tally.passed} passed, ${tally.failed} failed, ${tally.invalid} invalid\n`);
  process.exitCode = tally.invalid > 0 ? 2 : tally.failed > 0 ? 1 : 0;
}

export function printRecordingSchema(): void {
  process.stdout.write(`${JSON.stringify(recordingJsonSchema(), null, 2)}\n`);
}
