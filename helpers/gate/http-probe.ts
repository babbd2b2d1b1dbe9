import { request } from 'undici';

export interface ProbeResponse {
  status: number;
  body: string;
}

/** One GET for a readiness probe: the status and body, bounded by `timeoutMs`; network errors throw. */
export async function httpGet(url: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<ProbeResponse> {
  const response = await request(url, { method: 'GET', headers, signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.statusCode, body: await response.body.text() };
}

/** The first characters of a body, on one line, for a "last seen" message. */
export function excerpt(body: string, length = 120): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length)}…` : flat;
}
