import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { describeIssue, MeshproofError } from '../errors.ts';
import { expectationProblems, expectationSchema, metricsRead } from '../judge/expectation.ts';
import { traceRecordSchema } from '../observe/addons/jaeger.ts';
import { recordedAnalysisMessageSchema } from '../judge/analysis.ts';

export { expectationSchema, type Expectation } from '../judge/expectation.ts';

/**
 * A recording: one batch of raw observations with everything a judge needs to decide again, offline. The
 * format is versioned (`format`), documented in docs/recordings.md, and published as a JSON Schema
 * (docs/recording.schema.json, generated from this file and checked by a self-test).
 */
export const recordingFormat = 'meshproof.recording/v2';
/** The first format: what v2 adds (a run id, a check id, curl exit codes, kept bodies, counter-ratio) is optional. */
export const recordingFormatV1 = 'meshproof.recording/v1';

const requestRecordSchema = z
  .strictObject({
    startedAt: z.number().describe('when the request was sent, ms since the epoch'),
    latencyMs: z.number().min(0).describe('until the response was complete or the request failed, ms'),
    status: z.number().int().min(0).max(999).describe('HTTP status; 0 when no response arrived'),
    classification: z.string().optional().describe('what a classifier read from the response, e.g. "reviews-v2"'),
    headers: z.record(z.string(), z.string()).optional().describe('the response headers kept, lower-case names'),
    error: z.string().optional().describe('why no complete response arrived'),
    curlExitCode: z.number().int().min(0).optional().describe("curl's exit code when an in-mesh transfer failed (6 DNS, 7 refused, 28 timed out, 52 empty reply, 56 reset)"),
    body: z.string().optional().describe('the start of a non-2xx body, on one line (Envoy local replies say why they answered)'),
  })
  .describe('One request as observed');

const labelsSchema = z.record(z.string(), z.string());
const selectorSchema = z.strictObject({
  metric: z.string(),
  labels: labelsSchema.optional(),
  labelsMatching: labelsSchema.optional().describe('labels matched with =~'),
  by: z.array(z.string()).optional(),
});
const snapshotSchema = z
  .strictObject({
    selector: selectorSchema,
    promql: z.string(),
    time: z.number().describe('evaluation time, unix seconds'),
    series: z.array(z.strictObject({ labels: labelsSchema, value: z.number().min(0).describe('a counter: never negative') })),
    groups: z.array(z.strictObject({ labels: labelsSchema, value: z.number().min(0) })),
  })
  .describe('Counters selected from Prometheus at one moment');

const metricObservationSchema = z
  .strictObject({
    name: z.string().describe('what the metric shows, e.g. "requests at reviews-v2"'),
    before: snapshotSchema,
    after: snapshotSchema,
  })
  .describe('A Prometheus counter before and after the batch; its increase belongs to this batch');

const answerSchema = z
  .strictObject({
    url: z.string(),
    startedAt: z.number().describe('when the request was sent, ms since the epoch'),
    latencyMs: z.number().min(0),
    status: z.number().int().min(0).max(999).describe('HTTP status; 0 when no answer arrived'),
    body: z.string().describe('the whole body: the judge reads it again'),
    error: z.string().optional().describe('why no answer arrived'),
  })
  .describe("One add-on API answer, kept whole (Kiali's graph, validations, workloads)");

export const verdictSchema = z.strictObject({
  pass: z.boolean(),
  sentence: z.string(),
  judge: z.string(),
  figures: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])),
});

export const recordingSchema = z
  .strictObject({
    format: z.literal(recordingFormat),
    runId: z.string().optional().describe('the conformance run that made it: a summary counts only its own run'),
    feature: z.string().describe('the feature proved, e.g. "traffic-shifting"'),
    check: z.string().optional().describe('the catalogue check it is, e.g. "traffic-shifting/split" (meshproof features --checks)'),
    title: z.string().describe('the assertion, e.g. "80 % of traffic to reviews v1"'),
    recordedAt: z.string().describe('ISO 8601 time the batch ended'),
    versions: z.strictObject({
      meshproof: z.string(),
      istio: z.string().optional(),
      kubernetes: z.string().optional(),
    }),
    expectation: expectationSchema,
    requests: z.array(requestRecordSchema),
    metrics: z.array(metricObservationSchema),
    traces: z.array(traceRecordSchema).optional().describe("requests' traces read from Jaeger, for a trace verdict (optional: only trace verdicts have them)"),
    answers: z.array(answerSchema).optional().describe("add-on answers a judge reads whole (judge \"kiali\"); recordings without such a judge have none"),
    analysis: z
      .array(recordedAnalysisMessageSchema)
      .optional()
      .describe('the messages `istioctl analyze -o json` printed, for judge "istio-analysis" (empty when it found nothing); other recordings have none'),
    verdict: verdictSchema.optional().describe('the verdict when the recording was made'),
  })
  .describe('A meshproof recording: raw observations and the expectation they are judged against');

export type Recording = z.infer<typeof recordingSchema>;

/** A file that is not a recording meshproof can judge: exit code 2, never a failed verdict. */
export class InvalidRecordingError extends MeshproofError {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is not a ${recordingFormat} recording meshproof can judge:\n  ${problems.join('\n  ')}`, 'See docs/recordings.md for the format.', 2);
  }
}

/**
 * Reads a recording: the schema (v1 files are read as v2, which only adds optional fields), then the sense of it
 * (recordingProblems). Throws InvalidRecordingError naming every problem.
 */
export function parseRecording(value: unknown, source: string): Recording {
  const upgraded =
    value && typeof value === 'object' && (value as { format?: unknown }).format === recordingFormatV1 ? { ...value, format: recordingFormat } : value;
  const format = upgraded && typeof upgraded === 'object' ? (upgraded as { format?: unknown }).format : undefined;
  if (format !== recordingFormat) {
    throw new InvalidRecordingError(source, [`format is ${JSON.stringify(format)}; meshproof reads ${recordingFormatV1} and ${recordingFormat}`]);
  }
  const result = recordingSchema.safeParse(upgraded);
  if (!result.success) {
    throw new InvalidRecordingError(source, result.error.issues.slice(0, 8).map((issue) => describeIssue(issue, '(the whole file)')));
  }
  const problems = recordingProblems(result.data);
  if (problems.length > 0) throw new InvalidRecordingError(source, problems);
  return result.data;
}

/** What makes a well-formed recording impossible to judge; empty when it can be judged. */
export function recordingProblems(recording: Recording): string[] {
  const problems = expectationProblems(recording.expectation);
  const names = new Set(recording.metrics.map((m) => m.name));
  for (const name of metricsRead(recording.expectation)) {
    if (!names.has(name)) problems.push(`expectation reads the metric "${name}", which the recording does not have (it has: ${[...names].join(', ') || 'none'})`);
  }
  if (recording.expectation.judge === 'kiali' && !recording.answers?.length) problems.push("expectation reads Kiali's answer, which the recording does not keep (answers is empty)");
  if (recording.expectation.judge === 'istio-analysis' && !recording.analysis) problems.push("expectation reads istioctl analyze's messages, which the recording does not keep (no analysis)");
  recording.metrics.forEach((m, i) => {
    if (m.after.time < m.before.time) problems.push(`metrics.${i} (${m.name}): the "after" snapshot is older than the "before" one`);
  });
  return problems;
}

export function readRecording(file: string): Recording {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InvalidRecordingError(file, [`cannot be read as JSON: ${(error as Error).message}`]);
  }
  return parseRecording(value, file);
}

/** Writes under <reportsDir>/recordings/, one file per recording; returns the path. */
export function writeRecording(reportsDir: string, recording: Recording): string {
  const dir = path.join(reportsDir, 'recordings');
  mkdirSync(dir, { recursive: true });
  const slug = `${recording.feature}-${recording.title}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const file = path.join(dir, `${slug}-${recording.recordedAt.replace(/[:.]/g, '')}.json`);
  writeFileSync(file, `${JSON.stringify(parseRecording(recording, file), null, 2)}\n`);
  return file;
}

/** The JSON Schema of the format, generated from the zod schema so the two cannot drift. */
export function recordingJsonSchema(): Record<string, unknown> {
  return {
    title: 'meshproof recording v2',
    ...(z.toJSONSchema(recordingSchema) as Record<string, unknown>),
  };
}
