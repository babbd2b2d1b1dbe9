import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from '../config/timeouts.ts';
import { errorText, MeshproofError } from '../errors.ts';

/**
 * The bounded poll, below the pipeline like helpers/net: provisioning waits for Deployments and the add-ons,
 * the gate for the new configuration, observe for a metric to move, the steps for an ejected endpoint to return.
 * It imports nothing from the pipeline but the duration format its failure message is written in.
 */

/** What one probe saw: done (with a value), or not yet (with a sentence saying what it saw instead). */
export type ProbeResult<T> = { done: true; value: T; seen?: string } | { done: false; seen: string };

export interface PollOptions {
  /** What is awaited, in words ("istiod to become ready"); it names the wait in the failure message. */
  what: string;
  /** The deadline, from the timeouts object. */
  timeoutMs: number;
  /** Pause after a probe that was not done, from the timeouts object. */
  intervalMs: number;
  /**
   * Successes in a row needed to finish (Gateway API's RequiredConsecutiveSuccesses). A success is followed
   * by the next probe at once: only failures wait, so a converged system is confirmed quickly.
   */
  consecutiveSuccesses?: number;
  signal?: AbortSignal;
}

export class PollTimeoutError extends MeshproofError {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly lastSeen: string,
    readonly probes: number,
  ) {
    super(
      `timed out after ${formatDuration(timeoutMs)} waiting for ${what}; last seen: ${lastSeen} (${probes} probes)`,
    );
  }
}

/**
 * A named, bounded poll: the only way meshproof waits. A probe that throws counts as "not yet" (an API
 * that refuses connections while starting is the normal case), and its message becomes what was seen.
 * The probe gets a signal that fires at the deadline, so a hanging request cannot outlive the wait.
 */
export async function pollUntil<T>(
  options: PollOptions,
  probe: (signal: AbortSignal) => Promise<ProbeResult<T>>,
): Promise<T> {
  const needed = options.consecutiveSuccesses ?? 1;
  // AbortSignal.timeout takes whole milliseconds only.
  const deadline = AbortSignal.timeout(Math.max(0, Math.ceil(options.timeoutMs)));
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  let streak = 0;
  let probes = 0;
  let lastSeen = 'nothing yet (no probe finished)';
  while (!signal.aborted) {
    probes += 1;
    let result: ProbeResult<T>;
    try {
      result = await raceAbort(probe(signal), signal);
    } catch (error) {
      if (signal.aborted) break;
      result = { done: false, seen: errorText(error) };
    }
    if (result.done) {
      streak += 1;
      lastSeen = result.seen ?? `success ${streak} of ${needed} in a row`;
      if (streak >= needed) return result.value;
      continue;
    }
    streak = 0;
    lastSeen = result.seen;
    try {
      await sleep(options.intervalMs, undefined, { signal });
    } catch {
      break;
    }
  }
  if (options.signal?.aborted) throw options.signal.reason;
  throw new PollTimeoutError(options.what, options.timeoutMs, lastSeen, probes);
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
