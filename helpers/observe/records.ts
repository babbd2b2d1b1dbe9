/**
 * One request as meshproof observed it: the unit every traffic source (the host-side driver, the in-mesh
 * client) records and every verdict reads. Raw facts only; what they mean is the judge's business.
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
}
