/**
 * Being a Bookinfo user and asking Bookinfo: one POST /login for a session (productpage.py login), and batches
 * to the reviews JSON API, each answer classified by helpers/config/bookinfo.ts (istio/istio
 * samples/bookinfo/src/productpage/productpage.py: /login, /logout, /api/v1 routes).
 */
import { reviewsVersionFromJson } from '../config/bookinfo.ts';
import { errorText, MeshproofError } from '../errors.ts';
import { httpRequest } from '../net/http.ts';
import type { RequestRecord } from './records.ts';
import { sendTraffic, type TrafficOptions } from './traffic.ts';

// ---------------------------------------------------------------------------------------------------------
// Sessions: productpage forwards `end-user` only from its Flask session (productpage.py getForwardHeaders:
// `if 'user' in session: headers['end-user'] = session['user']`), so an `end-user` header sent from outside
// does nothing. A "jason" request is a request that carries jason's `session` cookie.

/** A logged-in Bookinfo user; pass it to sendTraffic as `session`. */
export interface BookinfoSession {
  user: string;
  /** The Cookie header value to send, `session=<value>`. */
  cookie: string;
}

export interface LoginOptions {
  /** For the one POST, from the timeouts object (`request`). */
  timeoutMs: number;
  signal?: AbortSignal;
}

export class LoginError extends MeshproofError {}

/**
 * Logs in as `user` (the password is ignored upstream; any name is accepted). productpage.py login()
 * answers 302 to `request.referrer`, which is `Location: None` without a Referer (Flask 3.1), so the redirect
 * is NOT followed: the `session` cookie is taken from the 302 itself.
 */
export async function loginAs(baseUrl: string, user: string, options: LoginOptions): Promise<BookinfoSession> {
  const form = new URLSearchParams({ username: user, passwd: 'password' }).toString();
  const response = await bookinfoCall(baseUrl, '/login', options, {
    method: 'POST',
    body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const pair = sessionPair(response.setCookie);
  if (response.status >= 400 || !pair) {
    const seen = response.setCookie.length ? `Set-Cookie: ${response.setCookie.join(' | ')}` : 'no Set-Cookie';
    throw new LoginError(
      `logging in to Bookinfo as ${user} at ${baseUrl}/login gave no session cookie (HTTP ${response.status}, ${seen})`,
      'Check that the ingress routes POST /login to productpage (the bookinfo VirtualService lists `exact: /login`) ' +
        'and that the base URL is the gateway, not a sidecar-less path.',
    );
  }
  return { user, cookie: pair };
}

/** GET /logout with the session (the redirect is not followed); the cookie is useless afterwards. */
export async function logout(baseUrl: string, session: BookinfoSession, options: LoginOptions): Promise<void> {
  const response = await bookinfoCall(baseUrl, '/logout', options, {
    method: 'GET',
    headers: { cookie: session.cookie },
  });
  if (response.status >= 400) {
    throw new LoginError(`logging ${session.user} out of Bookinfo at ${baseUrl}/logout gave HTTP ${response.status}`);
  }
}

/** `session=<value>` from Set-Cookie lines (Flask: `session=…; HttpOnly; Path=/`); an emptied cookie is none. */
export function sessionPair(setCookie: readonly string[]): string | undefined {
  for (const line of setCookie) {
    const match = /^\s*session=([^;]*)/.exec(line);
    if (match?.[1]) return `session=${match[1]}`;
  }
  return undefined;
}

async function bookinfoCall(
  baseUrl: string,
  path: string,
  options: LoginOptions,
  init: { method: 'GET' | 'POST'; body?: string; headers: Record<string, string> },
): Promise<{ status: number; setCookie: string[] }> {
  const target = new URL(path, baseUrl);
  try {
    // Redirects are not followed (the cookie is on the 302 itself), and the connection is closed afterwards, so
    // no keep-alive socket outlives the login in a global pool.
    const answer = await httpRequest(target.href, { ...init, timeoutMs: options.timeoutMs, signal: options.signal, ownConnection: true });
    const raw = answer.headers['set-cookie'];
    return { status: answer.status, setCookie: raw === undefined ? [] : Array.isArray(raw) ? raw : [raw] };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new LoginError(
      `could not reach Bookinfo at ${target.href}: ${errorText(error)}`,
      'Check that the ingress gateway is reachable from this machine (the base URL and port).',
    );
  }
}

/**
 * Batches to the reviews JSON API through the gateway, each response classified by reviews version: the
 * simplest way to measure a reviews split from outside the mesh (productpage passes the reviews body through).
 */
export function reviewsApiBatch(options: Omit<TrafficOptions, 'path' | 'count' | 'classify'>): (count: number) => Promise<RequestRecord[]> {
  return (count) => sendTraffic({ ...options, path: '/api/v1/products/0/reviews', count, classify: ({ body }) => reviewsVersionFromJson(body) });
}
