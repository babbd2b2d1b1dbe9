/**
 * What a judge returns: pass or fail, and one sentence a person understands, saying what was observed, what
 * was expected and how sure the judgement is ("reviews-v1 got 71.2 % of 400 requests; 80 % expected;
 * 95 % CI 66.6–75.5 %; p = 3e-6 < α = 1e-4"). Judges are pure functions of recorded observations, so a
 * verdict can be re-run offline from a recording.
 */
export interface Verdict {
  pass: boolean;
  sentence: string;
  /** The judge that produced it, e.g. "weighted-split". */
  judge: string;
  /** Numbers behind the sentence, for the report and the machine-readable summary. */
  figures: Record<string, number | string | boolean | null>;
}
