/**
 * The observability add-ons' APIs as meshproof reads them: one GET per question (the only I/O of the add-on
 * readers), and what every reader shares. A reader (prometheus.ts, grafana.ts, jaeger.ts, kiali.ts beside this
 * file) is pure: it turns an answer's status and body into a classification, the string a verdict counts ("lists
 * productpage.bookinfo", "live traffic on productpage → details, …"). It passes on exactly one classification per
 * question and, when it fails, says what the answer held instead, so a failed verdict explains itself (as Istio's
 * PromDiff does). Each product's file holds its addresses, the answer shapes its upstream documents, and its
 * readers, so a change to one product's API is made in one file.
 */
import type { z } from 'zod';
import { describeIssue, errorText } from '../../errors.ts';
import { excerpt } from '../../net/excerpt.ts';
import type { RequestRecord } from '../records.ts';

/** One API answer: what a reader reads, and what a recording keeps of it (everything but the body). */
export interface ApiAnswer {
  url: string;
  /** When the request was sent, ms since the epoch. */
  startedAt: number;
  latencyMs: number;
  /** HTTP status; 0 when no answer arrived. */
  status: number;
  body: string;
  /** Why no answer arrived. */
  error?: string;
}

/**
 * GETs `url`, bounded by `timeoutMs` (and `signal`). Never throws: an add-on that refuses the connection or
 * does not answer in time is an answer with status 0 and the reason, which a reader classifies like any other.
 */
export async function fetchAnswer(url: string, timeoutMs: number, signal?: AbortSignal): Promise<ApiAnswer> {
  const startedAt = Date.now();
  try {
    // Loaded on the first request: the readers below also serve `meshproof judge`, which asks nothing.
    const { httpRequest } = await import('../../net/http.ts');
    const { status, body } = await httpRequest(url, { timeoutMs, signal, headers: { accept: 'application/json' } });
    return { url, startedAt, latencyMs: Date.now() - startedAt, status, body };
  } catch (error) {
    return { url, startedAt, latencyMs: Date.now() - startedAt, status: 0, body: '', error: errorText(error) };
  }
}

/** The record a recording keeps of an answer: its timing, status and classification (not the body). */
export function answerRecord(answer: ApiAnswer, classification: string): RequestRecord {
  return {
    startedAt: answer.startedAt,
    latencyMs: answer.latencyMs,
    status: answer.status,
    classification,
    ...(answer.error !== undefined && { error: answer.error }),
  };
}

/**
 * What a reader decided about one answer. `expected` is the one classification a passing answer gets, known
 * before asking (it is the matcher of the verdict); `classification` is what this answer got: `expected` when
 * it passes, otherwise a sentence saying what the answer held instead.
 */
export interface Reading {
  pass: boolean;
  classification: string;
  expected: string;
}

/** A reading from the classification and the expected one. */
export function reading(expected: string, classification: string): Reading {
  return { pass: classification === expected, classification, expected };
}

/** The status and body of an answer: all a reader sees. */
export type Answered = Pick<ApiAnswer, 'status' | 'body' | 'error'>;

/** What a reader makes of a body: the value it needs, or the classification that says why there is none. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; classification: string };

// What every reader says of an answer it cannot read, so the four products word it alike.
export const noAnswer = (answer: Answered) => `no answer${answer.error ? `: ${answer.error}` : ''}`;
export const httpStatusText = (answer: Answered) => `HTTP ${answer.status}: ${excerpt(answer.body, 80) || 'empty body'}`;
export const notJsonText = (answer: Answered) => `not JSON: ${excerpt(answer.body, 80) || 'empty body'}`;

/** The body of a 200 answer parsed against `schema`, or why it cannot be read as `what`. */
export function parseAnswer<T>(answer: Answered, schema: z.ZodType<T>, what: string): Parsed<T> {
  if (answer.status === 0) return { ok: false, classification: noAnswer(answer) };
  if (answer.status !== 200) return { ok: false, classification: httpStatusText(answer) };
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return { ok: false, classification: notJsonText(answer) };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, classification: `not ${what}: ${issue ? describeIssue(issue, 'the body') : 'unexpected shape'}` };
}

/** "a, b and c"; at most `max` named, then "and N more". */
export function listed(items: readonly string[], max = 8): string {
  if (items.length === 0) return 'none';
  const shown = items.slice(0, max);
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

/** A value as a sentence shows it: four significant digits, and NaN or ±Infinity as such (a P99 with no requests). */
export function shortNumber(value: number): string {
  return Number.isNaN(value) ? 'NaN' : Number.isFinite(value) ? String(+value.toPrecision(4)) : String(value);
}

/** The add-ons' base URLs are port-forwards without a path; a trailing slash is dropped before one is added. */
export function withoutTrailingSlash(base: string): string {
  return base.replace(/\/+$/, '');
}
