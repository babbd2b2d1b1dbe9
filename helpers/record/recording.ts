import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { MeshproofError } from '../errors.ts';
import { requestMatcherSchema } from '../judge/matchers.ts';

/**
 * A recording: one batch of raw observations with everything a judge needs to decide again, offline. The
 * format is versioned (`format`), documented in docs/recordings.md, and published as a JSON Schema
 * (docs/recording.schema.json, generated from this file and checked by a self-test).
 */
export const recordingFormat = 'meshproof.recording/v1';

const requestRecordSchema = z
  .strictObject({
    startedAt: z.number().describe('when the request was sent, ms since the epoch'),
    latencyMs: z.number().min(0).describe('until the response was complete or the request failed, ms'),
    status: z.number().int().min(0).max(999).describe('HTTP status; 0 when no response arrived'),
    classification: z.string().optional().describe('what a classifier read from the response, e.g. "reviews-v2"'),
    headers: z.record(z.string(), z.string()).optional().describe('the response headers kept, lower-case names'),
    error: z.string().optional().describe('why no complete response arrived'),
  })
  .describe('One request as observed');

const labelsSchema = z.record(z.string(), z.string());
const selectorSchema = z.strictObject({
  metric: z.string(),
  labels: labelsSchema.optional(),
  by: z.array(z.string()).optional(),
});
const snapshotSchema = z
  .strictObject({
    selector: selectorSchema,
    promql: z.string(),
    time: z.number().describe('evaluation time, unix seconds'),
    series: z.array(z.strictObject({ labels: labelsSchema, value: z.number() })),
    groups: z.array(z.strictObject({ labels: labelsSchema, value: z.number() })),
  })
  .describe('Counters selected from Prometheus at one moment');

const metricObservationSchema = z
  .strictObject({
    name: z.string().describe('what the metric shows, e.g. "requests at reviews-v2"'),
    before: snapshotSchema,
    after: snapshotSchema,
  })
  .describe('A Prometheus counter before and after the batch; its increase belongs to this batch');

const description = z.string().describe('what is expected, in the words of the lab');

export const expectationSchema = z.discriminatedUnion('judge', [
  z
    .strictObject({
      judge: z.literal('weighted-split'),
      description,
      weights: z.record(z.string(), z.number().min(0).max(100)).describe('percent of traffic per class; sums to 100'),
      alpha: z.number().gt(0).lt(0.5),
      minShiftPoints: z.number().gt(0).lt(100).optional(),
      power: z.number().gt(0).lt(1).optional(),
    })
    .describe('The classified requests follow these weights (sequential exact tests)'),
  z
    .strictObject({ judge: z.literal('all-match'), description, matcher: requestMatcherSchema })
    .describe('Every request matches (deterministic routing)'),
  z
    .strictObject({
      judge: z.literal('rate'),
      description,
      matcher: requestMatcherSchema,
      expectedRate: z.number().min(0).max(1),
      alpha: z.number().gt(0).lt(0.5),
    })
    .describe('About this share of requests match (exact binomial test)'),
  z
    .strictObject({
      judge: z.literal('latency'),
      description,
      matcher: requestMatcherSchema.optional(),
      atLeastMs: z.number().min(0).optional(),
      atMostMs: z.number().min(0).optional(),
      quantile: z.number().gt(0).max(1).optional(),
    })
    .describe('Every matching request took at least atLeastMs; the quantile is at most atMostMs'),
  z
    .strictObject({
      judge: z.literal('metric-increase'),
      description,
      metric: z.string().describe('the name of a metricObservation'),
      group: z.record(z.string(), z.string()).optional().describe('only the increase of this group (labels of selector.by)'),
      atLeast: z.number().min(0),
      atMost: z.number().min(0).optional(),
    })
    .describe('A Prometheus counter rose by at least (and at most) this much during the batch'),
]);

export type Expectation = z.infer<typeof expectationSchema>;

export const verdictSchema = z.strictObject({
  pass: z.boolean(),
  sentence: z.string(),
  judge: z.string(),
  figures: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])),
});

export const recordingSchema = z
  .strictObject({
    format: z.literal(recordingFormat),
    feature: z.string().describe('the feature proved, e.g. "traffic-shifting"'),
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
    verdict: verdictSchema.optional().describe('the verdict when the recording was made'),
  })
  .describe('A meshproof recording: raw observations and the expectation they are judged against');

export type Recording = z.infer<typeof recordingSchema>;

export function parseRecording(value: unknown, source: string): Recording {
  const result = recordingSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 8).map((i) => `${i.path.join('.') || '(the whole file)'}: ${i.message}`);
    throw new MeshproofError(`${source} is not a ${recordingFormat} recording:\n  ${problems.join('\n  ')}`, 'See docs/recordings.md for the format.');
  }
  return result.data;
}

export function readRecording(file: string): Recording {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new MeshproofError(`${file} cannot be read as JSON: ${(error as Error).message}`);
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
    title: 'meshproof recording v1',
    ...(z.toJSONSchema(recordingSchema) as Record<string, unknown>),
  };
}
