import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pRetry, { AbortError } from 'p-retry';
import { fetch, type Response } from 'undici';
import { errorText, MeshproofError } from '../errors.ts';
import { formatDuration } from '../config/timeouts.ts';

/**
 * Fetching what a run needs from the internet (tools, dashboards): one GET, retried with back-off while the
 * budget lasts when the failure is one that passes (a network error, HTTP 5xx or 429), never when it is final
 * (404, 403). Redirects are followed (GitHub and dl.k8s.io redirect to their object stores).
 */
export interface FetchRetryOptions {
  /** Aborts the request and the retries: the caller's whole budget. */
  signal: AbortSignal;
  /** The first pause before a retry, doubling after each (timeouts.toolDownloadRetry). */
  retryMinMs: number;
  /** Told before each retry, with why. */
  onRetry?: (why: string) => void;
}

/** A GET that answered something other than 2xx. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    statusText: string,
  ) {
    super(`the server answered HTTP ${status} ${statusText}`);
  }
}

export async function fetchWithRetry(url: string, options: FetchRetryOptions): Promise<Response> {
  try {
    return await pRetry(
      async () => {
        const response = await fetch(url, { signal: options.signal });
        if (!response.ok || !response.body) {
          await response.body?.cancel();
          const failed = new HttpStatusError(response.status, response.statusText);
          throw response.status >= 500 || response.status === 429 ? failed : new AbortError(failed);
        }
        return response;
      },
      {
        retries: 4,
        minTimeout: options.retryMinMs,
        factor: 2,
        signal: options.signal,
        onFailedAttempt: ({ error, retriesLeft }) => {
          if (retriesLeft > 0) options.onRetry?.(errorText(error).split('\n')[0]!);
        },
      },
    );
  } catch (error) {
    // p-retry rethrows an AbortError's original error; a last transient failure arrives as it was thrown.
    throw error instanceof AbortError ? error.originalError : error;
  }
}

export const sha256Of = (bytes: string | Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export interface PinnedFile {
  url: string;
  /** The sha256 pinned for it (lower-case hex). */
  sha256: string;
}

/**
 * A small file from the internet whose sha256 is pinned: from the cache when a copy with that hash is there
 * (content-addressed, so a cached file needs no second check), else downloaded, checked, then cached.
 * Anything that does not match is refused, naming both hashes.
 */
export async function fetchPinned(
  file: PinnedFile,
  options: { cacheDir: string; timeoutMs: number; retryMinMs: number; what: string; log?: (line: string) => void },
): Promise<string> {
  const cached = path.join(options.cacheDir, file.sha256);
  const copy = await readFile(cached, 'utf8').catch(() => undefined);
  if (copy !== undefined && sha256Of(copy) === file.sha256) return copy;
  const signal = AbortSignal.timeout(options.timeoutMs);
  let text: string;
  try {
    const response = await fetchWithRetry(file.url, { signal, retryMinMs: options.retryMinMs, onRetry: (why) => options.log?.(`${options.what}: ${why}; retrying`) });
    text = await response.text();
  } catch (error) {
    const why = signal.aborted ? `did not arrive within ${formatDuration(options.timeoutMs)}` : `could not be fetched: ${errorText(error)}`;
    throw new MeshproofError(
      `${options.what} ${why}\n  URL: ${file.url}`,
      `Retry later; meshproof already retried what a network hiccup explains. Offline, put the file at ${cached} (its name is its sha256).`,
    );
  }
  const actual = sha256Of(text);
  if (actual !== file.sha256) {
    throw new MeshproofError(
      `${options.what} was refused: its sha256 is ${actual}, but ${file.sha256} is pinned\n  URL: ${file.url}`,
      'The file changed upstream. If the new content is the release’s own, pin its sha256 in the fixture that names this URL.',
    );
  }
  await mkdir(options.cacheDir, { recursive: true });
  const staged = `${cached}.${process.pid}.tmp`;
  await writeFile(staged, text);
  await rename(staged, cached);
  return text;
}
