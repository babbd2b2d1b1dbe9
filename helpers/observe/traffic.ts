/**
 * The host-side traffic driver: one call sends a bounded batch and returns one RequestRecord per request
 * sent (as Istio's echo `Call` with `Count`; the sequential sampling loop lives elsewhere and calls this in
 * batches). Keep-alive connections, bounded by both a count and a deadline, nothing dropped silently.
 */
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import { errorText, MeshproofError } from '../errors.ts';
import { formatDuration } from '../config/timeouts.ts';
import { keptBody, type RequestRecord } from './records.ts';

/** What a classifier gets: the complete response. */
export interface ClassifiableResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

export interface TrafficOptions {
  /** Scheme, host and port, e.g. http://127.0.0.1:8080 (a path here is ignored; give it as `path`). */
  baseUrl: string;
  /** Path and query, e.g. /productpage. */
  path: string;
  /** Requests to send at most. */
  count: number;
  /** Requests in flight at once (and keep-alive connections opened at most). */
  concurrency: number;
  /** No request is sent after this many ms from the start; requests still running then end with an error. */
  deadlineMs: number;
  /** One request, until its body was read (the `request` timeout). */
  requestTimeoutMs: number;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD' | 'PATCH';
  body?: string;
  headers?: Record<string, string>;
  /** A raw Cookie header value. Merged with `session`'s cookie. */
  cookie?: string;
  /** A logged-in user (bookinfo.ts `loginAs`): sends its cookie, which is how productpage learns `end-user`. */
  session?: { cookie: string };
  /** Response headers to copy into each record (case-insensitive). */
  keepHeaders?: string[];
  /** Reads the body into a class ("reviews-v2"); the body is only buffered as text when this is given. */
  classify?: (response: ClassifiableResponse) => string | undefined;
  /**
   * A header set to a fresh random value on every request (Gateway API conformance adds `X-Jitter` the same
   * way) so that no cache or hash-based policy sees identical requests.
   */
  entropyHeader?: string;
  signal?: AbortSignal;
}

/**
 * Sends up to `count` requests, `concurrency` at a time, and returns one record per request sent, in the
 * order they were sent. Traffic problems (resets, timeouts, 5xx) are records, never exceptions; only
 * invalid options and the caller's abort signal throw.
 */
export async function sendTraffic(options: TrafficOptions): Promise<RequestRecord[]> {
  validate(options);
  const target = new URL(options.path, options.baseUrl);
  const path = target.pathname + target.search;
  const keep = (options.keepHeaders ?? []).map((name) => name.toLowerCase());
  const headers = requestHeaders(options);
  options.signal?.throwIfAborted();

  const deadline = new AbortController();
  const deadlineTimer = setTimeout(
    () => deadline.abort(new Error(`batch deadline of ${formatDuration(options.deadlineMs)} reached`)),
    options.deadlineMs,
  );
  const stop = options.signal ? AbortSignal.any([deadline.signal, options.signal]) : deadline.signal;
  // One listener on `stop` aborts whatever is in flight. Each request is aborted through a plain
  // EventEmitter, which undici accepts as `signal`: measured on loopback, an AbortSignal per request cost
  // about a third of the throughput.
  const inFlight = new Set<(cause: AbortCause) => void>();
  const onStop = () => {
    for (const abort of inFlight) abort('stop');
  };
  stop.addEventListener('abort', onStop, { once: true });
  // One pool per call: its keep-alive connections belong to this batch and are closed with it. undici's own
  // header/body timers are off: the per-request timer bounds the whole request, body included.
  const pool = new Pool(target.origin, {
    connections: options.concurrency,
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const batch: Batch = { pool, path, headers, keep, options, inFlight, deadline: deadline.signal };

  const records: RequestRecord[] = [];
  let next = 0;
  const worker = async () => {
    while (next < options.count && !stop.aborted) {
      const index = next++;
      const record: RequestRecord = { startedAt: 0, latencyMs: 0, status: 0 };
      records[index] = record; // the slot is taken before the request goes out: nothing sent is ever lost
      await sendOne(batch, record);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  } finally {
    clearTimeout(deadlineTimer);
    stop.removeEventListener('abort', onStop);
    await pool.destroy(); // nothing is in flight any more; destroy also drops idle keep-alive sockets at once
  }
  options.signal?.throwIfAborted();
  return records;
}

type AbortCause = 'timeout' | 'stop';

interface Batch {
  pool: Pool;
  path: string;
  headers: Record<string, string>;
  keep: string[];
  options: TrafficOptions;
  inFlight: Set<(cause: AbortCause) => void>;
  deadline: AbortSignal;
}

async function sendOne(batch: Batch, record: RequestRecord): Promise<void> {
  const { options } = batch;
  const signal = new EventEmitter();
  let cause: AbortCause | undefined;
  const abort = (why: AbortCause) => {
    if (cause) return;
    cause = why;
    signal.emit('abort');
  };
  const timer = setTimeout(abort, options.requestTimeoutMs, 'timeout');
  batch.inFlight.add(abort);
  const headers = options.entropyHeader ? { ...batch.headers, [options.entropyHeader]: jitter() } : batch.headers;
  record.startedAt = Date.now();
  const started = performance.now();
  try {
    const response = await batch.pool.request({
      path: batch.path,
      method: options.method ?? 'GET',
      headers,
      body: options.body,
      signal,
    });
    record.status = response.statusCode;
    const responseHeaders = flatten(response.headers);
    if (batch.keep.length) {
      record.headers = {};
      for (const name of batch.keep) {
        const value = responseHeaders[name];
        if (value !== undefined) record.headers[name] = value;
      }
    }
    // The latency ends when the body was read: a response that stalls mid-body is not a fast response.
    // A non-2xx body is kept in part: an Envoy local reply says there why it answered.
    const keepBody = record.status < 200 || record.status >= 300;
    let body = '';
    if (options.classify || keepBody) body = await response.body.text();
    else await drain(response.body); // read to the end, so the connection goes back to the pool
    record.latencyMs = performance.now() - started;
    if (keepBody && body) record.body = keptBody(body);
    if (options.classify) {
      try {
        const classification = options.classify({ status: record.status, headers: responseHeaders, body });
        if (classification !== undefined) record.classification = classification;
      } catch (error) {
        record.error = `classifier failed: ${errorText(error)}`;
      }
    }
  } catch (error) {
    record.latencyMs = performance.now() - started;
    if (cause === 'timeout') record.error = `timeout after ${formatDuration(options.requestTimeoutMs)}`;
    else if (cause === 'stop' && batch.deadline.aborted) {
      record.error = `${errorText(batch.deadline.reason)} before the response completed`;
    } else if (cause === 'stop') record.error = `aborted: ${errorText(options.signal?.reason)}`;
    else record.error = failureText(error);
  } finally {
    clearTimeout(timer);
    batch.inFlight.delete(abort);
  }
}

/**
 * Reads a body to its end without keeping it. Not undici's `body.dump()`: that resolves even when the body
 * was cut off (it swallows errors), and an incomplete body must be an error here.
 */
function drain(body: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    body.once('end', resolve);
    body.once('error', reject);
    body.once('close', () => {
      if (!body.readableEnded) reject(new Error('the response body was cut off before its end'));
    });
    body.resume();
  });
}

/**
 * A short name for why no (complete) response arrived: the system error code when there is one
 * (ECONNRESET, ECONNREFUSED, …), else undici's code and message ("UND_ERR_SOCKET: other side closed").
 */
export function failureText(error: unknown): string {
  const codes: string[] = [];
  const messages: string[] = [];
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string') codes.push(code);
    if (typeof message === 'string' && message) messages.push(message);
    current = cause;
  }
  const system = codes.find((code) => /^E[A-Z]+$/.test(code));
  const code = system ?? codes[0];
  const message = messages.find((text) => !code || !text.includes(code)) ?? '';
  if (!code) return message || String(error);
  return message ? `${code}: ${message}` : code;
}

function requestHeaders(options: TrafficOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  const cookies = [headers.cookie, options.cookie, options.session?.cookie].filter(Boolean);
  if (cookies.length) headers.cookie = cookies.join('; ');
  return headers;
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

let jitterCounter = 0;
function jitter(): string {
  jitterCounter = (jitterCounter + 1) % 1_000_000;
  return `${jitterCounter.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

function validate(options: TrafficOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(options.count) || options.count < 0) {
    problems.push(`count ${options.count} (a whole number ≥ 0)`);
  }
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    problems.push(`concurrency ${options.concurrency} (a whole number ≥ 1)`);
  }
  for (const key of ['deadlineMs', 'requestTimeoutMs'] as const) {
    if (!(options[key] > 0) || !Number.isFinite(options[key])) problems.push(`${key} ${options[key]} (ms > 0)`);
  }
  try {
    new URL(options.path, options.baseUrl);
  } catch {
    problems.push(`baseUrl ${JSON.stringify(options.baseUrl)} with path ${JSON.stringify(options.path)} (not a URL)`);
  }
  if (problems.length) throw new MeshproofError(`sendTraffic was given an invalid ${problems.join(', ')}`);
}
