/**
 * Prometheus' HTTP API answer, read once for every reader of it: the query client (observe/prometheus.ts), the
 * observability checks' readers (observe/addons/), the readiness wait (provision/readiness.ts) and `meshproof
 * monitor test` (provision/monitor.ts). Pure: the body in, what it says out; each caller words the outcome for its
 * own user.
 *
 * The format is Prometheus' "Format overview" and "Expression query result formats"
 * (https://prometheus.io/docs/prometheus/latest/querying/api/): an envelope
 * `{"status": "success" | "error", "data": …, "errorType": …, "error": …}`, with errors answered as 4xx/5xx in
 * that same envelope; `data` is `{"resultType": "vector" | "matrix" | "scalar" | "string", "result": …}`, and a
 * sample is `[<unix seconds>, "<value>"]`.
 */
import { z } from 'zod';
import { describeIssue } from '../errors.ts';

/** `time` is in unix seconds, as Prometheus returns it. */
export interface Sample {
  time: number;
  value: number;
}
/** `metric` holds the series' labels, `__name__` included when Prometheus sends it. */
export interface VectorSample {
  metric: Record<string, string>;
  value: Sample;
}
export interface RangeSeries {
  metric: Record<string, string>;
  values: Sample[];
}
export type QueryResult =
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'matrix'; result: RangeSeries[] }
  | { resultType: 'scalar'; result: Sample }
  | { resultType: 'string'; result: { time: number; value: string } };

/** What an answer's body says. */
export type PrometheusAnswer =
  | { kind: 'result'; result: QueryResult }
  /** Prometheus' own error envelope: errorType is bad_data, execution, timeout, … */
  | { kind: 'error'; errorType: string | undefined; error: string | undefined }
  | { kind: 'not-json' }
  /** JSON, but not Prometheus' envelope: something else answered (a proxy, another service). */
  | { kind: 'not-an-envelope'; why: string }
  /** The envelope says success, but its data is not a result of a known type. */
  | { kind: 'unexpected-data'; why: string };

/**
 * A sample's value. Values are strings because Go prints NaN and ±Inf that way; Number('+Inf') would be NaN,
 * while Number('NaN') is NaN, as meant.
 */
export function sampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

const sample = z.tuple([z.number(), z.string().transform(sampleValue)]).transform(([time, value]) => ({ time, value }));
const labels = z.record(z.string(), z.string());
const data = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: labels, value: sample })) }),
  z.object({ resultType: z.literal('matrix'), result: z.array(z.object({ metric: labels, values: z.array(sample) })) }),
  z.object({ resultType: z.literal('scalar'), result: sample }),
  z.object({
    resultType: z.literal('string'),
    result: z.tuple([z.number(), z.string()]).transform(([time, value]) => ({ time, value })),
  }),
]);
const envelope = z.object({
  status: z.enum(['success', 'error']),
  data: z.unknown().optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
});

/** The first problem zod found, as "data.result.0.value: …": its path from the top of the answer. */
function firstProblem(error: z.ZodError, under: readonly string[]): string {
  const issue = error.issues[0];
  return issue ? describeIssue({ ...issue, path: [...under, ...issue.path] }, 'the body') : 'unexpected shape';
}

/** Reads the body of one answer of Prometheus' query API (whatever its HTTP status). */
export function readPrometheusAnswer(body: string): PrometheusAnswer {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'not-json' };
  }
  const parsed = envelope.safeParse(json);
  if (!parsed.success) return { kind: 'not-an-envelope', why: firstProblem(parsed.error, []) };
  if (parsed.data.status === 'error') return { kind: 'error', errorType: parsed.data.errorType, error: parsed.data.error };
  const result = data.safeParse(parsed.data.data);
  if (!result.success) return { kind: 'unexpected-data', why: firstProblem(result.error, ['data']) };
  return { kind: 'result', result: result.data };
}
