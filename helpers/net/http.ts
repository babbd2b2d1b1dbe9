/**
 * One HTTP request as meshproof makes it: bounded by a timeout from the timeouts object, cancellable by the
 * caller, the body read whole as text. Every stage asks something over HTTP (provision waits for the ingress and
 * the add-ons, gate probes the data path, observe reads the add-ons' APIs and logs in to Bookinfo), so this lives
 * below the pipeline, like helpers/errors.ts, and imports nothing from it but the duration format.
 *
 * Two kinds of traffic have their own code on purpose: the traffic driver (observe/traffic.ts, one pool per batch
 * tuned for hundreds of requests) and the tool downloads (provision/download.ts, bodies of tens of MB streamed to
 * disk, retried with back-off).
 */
import { Agent, Client, interceptors, request, type Dispatcher } from 'undici';
import { formatDuration } from '../config/timeouts.ts';

export interface HttpRequestOptions {
  /** The bound on the whole exchange, the body included (a timeout from the timeouts object). */
  timeoutMs: number;
  /** The caller's cancellation (a poll's deadline): when it fires, its reason is thrown as it is. */
  signal?: AbortSignal;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /**
   * Follow 3xx answers (publishers redirect to their CDNs). Without it a redirect is an answer like any other:
   * Bookinfo's /login answers 302 with the session cookie, and `Location: None` leads nowhere.
   */
  followRedirects?: boolean;
  /**
   * A connection of its own, closed after the answer: no keep-alive socket of this request outlives it in
   * undici's global pool (a login to a Bookinfo that the caller stops right after).
   */
  ownConnection?: boolean;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** No complete answer within the request's own bound (the caller's signal did not fire). */
export class HttpTimeoutError extends Error {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer within ${formatDuration(timeoutMs)}`);
  }
}

// Enough for dl.k8s.io → CDN and GitHub's release redirects; a loop ends as an error instead of a hang.
const maxRedirections = 5;

/**
 * meshproof's own connection pool, not undici's global dispatcher: Node's built-in fetch installs its bundled
 * undici's Agent as the global one, and that copy (undici 6 inside Node 20 and 22) rejects the redirect
 * interceptor of the undici meshproof depends on ("invalid onError method") once anything in the process has
 * called fetch.
 */
const sharedAgent = new Agent();

/**
 * Sends one request. Throws the caller's abort reason when its signal fired, an HttpTimeoutError when the request's
 * own bound did, and undici's error when no answer arrived (ECONNREFUSED, a reset); any HTTP status is an answer.
 */
export async function httpRequest(url: string, options: HttpRequestOptions): Promise<HttpAnswer> {
  const bound = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, bound]) : bound;
  const own = options.ownConnection ? new Client(new URL(url).origin) : undefined;
  const base: Dispatcher = own ?? sharedAgent;
  const dispatcher = options.followRedirects ? base.compose(interceptors.redirect({ maxRedirections })) : base;
  try {
    const response = await request(url, {
      dispatcher,
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      body: options.body,
      signal,
    });
    const body = await response.body.text();
    return { status: response.statusCode, headers: response.headers, body };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (bound.aborted) throw new HttpTimeoutError(url, options.timeoutMs);
    throw error;
  } finally {
    await own?.close();
  }
}
