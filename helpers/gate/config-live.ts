import { liveProbeStatus } from '../apply/live-probe.ts';
import { pollUntil, type ProbeResult } from '../wait/poll.ts';

/**
 * Proving that the configuration just applied is the one serving, before any sample is taken: a probe
 * carrying this apply's id must be answered by the probe route that only this apply has
 * (helpers/apply/live-probe.ts says how that route is built and why it proves the new configuration).
 */

/** Successes in a row before the config counts as live (Gateway API's RequiredConsecutiveSuccesses). */
export const requiredConsecutiveSuccesses = 3;

export interface ConfigLiveOptions {
  /** What was applied, in words: "the 80/10/10 reviews split". */
  what: string;
  timeoutMs: number;
  intervalMs: number;
  consecutiveSuccesses?: number;
}

/**
 * Polls `probe` until it has seen the new config `consecutiveSuccesses` times in a row. A probe returns
 * whether the answer could only have come from the new config, and what it saw; the proof resolves to what the
 * last probe saw, for the report ("GET … answered 418 from the probe route").
 */
export function awaitConfigLive(options: ConfigLiveOptions, probe: (signal: AbortSignal) => Promise<ProbeResult<void>>): Promise<string> {
  return pollUntil(
    {
      what: `${options.what} to be the configuration serving`,
      timeoutMs: options.timeoutMs,
      intervalMs: options.intervalMs,
      consecutiveSuccesses: options.consecutiveSuccesses ?? requiredConsecutiveSuccesses,
    },
    async (signal): Promise<ProbeResult<string>> => {
      const result = await probe(signal);
      return result.done ? { ...result, value: result.seen ?? options.what } : result;
    },
  );
}

/**
 * A probe result from an HTTP status: the probe route answered (live), or something else did (not yet). The probe
 * route is a fault abort, so a mesh that applies no fault aborts looks exactly like one whose configuration never
 * arrives: the words say both (found by a dress rehearsal on a mesh that dropped every abort).
 */
export function probeAnswer(status: number, via: string): ProbeResult<void> {
  return status === liveProbeStatus
    ? { done: true, value: undefined, seen: `${via} answered ${status} from the probe route` }
    : { done: false, seen: `${via} answered ${status}: the previous configuration still serves, or the mesh does not apply the probe route's fault abort (${liveProbeStatus})` };
}
