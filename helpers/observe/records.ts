/**
 * One request as meshproof observed it: the unit every traffic source (the host-side driver, the in-mesh
 * client) records and every verdict reads. Raw facts only; what they mean is the judge's business
 * (helpers/judge/outcomes.ts reads a failure's kind and an Envoy local reply's flag from these fields).
 */
export interface RequestRecord {
  /** When the request was sent, ms since the epoch. */
  startedAt: number;
  /** Until the response was complete (or the request failed), ms. */
  latencyMs: number;
  /** HTTP status; 0 when no response arrived (reset, refused, timed out). */
  status: number;
  /** What a classifier read from the response, e.g. "reviews-v2"; absent when none was asked for. */
  classification?: string;
  /** The response headers the caller asked to keep (lower-case names). */
  headers?: Record<string, string>;
  /** Why no (complete) response arrived: "ECONNRESET", "timeout after 30 s", curl's "exit code 56", … */
  error?: string;
  /** curl's exit code when an in-mesh transfer failed (6 DNS, 7 refused, 28 timed out, 52 empty reply, 56 reset). */
  curlExitCode?: number;
  /**
   * The start of the body of a response that is not 2xx, on one line: an Envoy local reply says there why it
   * answered ("no healthy upstream", "fault filter abort", "… reset reason: overflow").
   */
  body?: string;
}

/** How much of a non-2xx body a record keeps: enough for any Envoy local reply, short enough for thousands. */
export const keptBodyLength = 160;

/** The kept form of a body: control characters as spaces, cut to keptBodyLength. */
export function keptBody(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f]+/g, ' ').slice(0, keptBodyLength);
}
