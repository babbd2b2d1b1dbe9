/**
 * The weighted-split judge: "80 % of traffic to reviews v1, 10 % to v2, 10 % to v3".
 *
 * Gateway API, Istio and istio.io judge a split with flat bands (±5 points on 500 requests with up to 10 reruns,
 * ±10 on 100; facts/anchors.md §1b). A band has no stated false-failure rate and no stated power, and rerunning
 * until a batch passes quietly turns a real 7-point shift into a pass. This judge instead states both numbers
 * and keeps them, exactly (no normal approximation anywhere):
 *
 *  - false failures: a healthy mesh is failed with probability ≤ α (default 1e-4, from config);
 *  - power: a split that is off by the minimum detectable shift (default 10 points) in any class is failed with
 *    probability ≥ the stated power (default 0.999).
 *
 * How (docs/statistics.md says it for people):
 *
 *  1. Every class with a weight strictly between 0 and 100 gets its own exact binomial test of
 *     "share = weight", at α / k (Bonferroni over the k tested classes; k = 1 for a two-way split, whose two
 *     tests are the same test). The union bound makes the whole split's false-failure rate ≤ α whatever the
 *     correlation between classes.
 *  2. Each class test is group-sequential: looks at 5 sample sizes (the first at 30 % of the maximum), with
 *     rejection boundaries from a Hwang–Shih–DeCani α-spending function (γ = −4, close to O'Brien–Fleming:
 *     spends little α early so the final look stays almost as sharp as a fixed test) and early-pass
 *     ("futility") regions from a linear β-spending function against share = weight ± shift. All boundaries
 *     are computed exactly, by convolving binomial distributions look to look.
 *  3. The maximum sample size is a multiple of 10, found by bisection, at which every class test, computed
 *     exactly, has power ≥ the target against both weight − shift and weight + shift.
 *  4. The split fails as soon as any class test rejects; it passes early only when every class is in its
 *     early-pass region at the same look; at the last look it passes when no class rejects.
 *
 * Why this keeps both promises: α is spent only by rejections, and early passes only remove rejections, so
 * P(fail | healthy) ≤ Σ α/k = α. And if class c is off by the shift, the split can only pass after c's own test
 * accepted, so P(fail) ≥ P(c's own sequential test rejects) ≥ power — the figure computed in step 3.
 *
 * Weight 0 and weight 100 need no statistics: a request in a weight-0 class is impossible under the expected
 * split, so one is proof. The same holds for a request that failed (error, no response, HTTP ≥ 400) or that the
 * classifier could not attribute, and for a class outside the expectation: under "80/10/10" every request is
 * answered by one of the three. Each of these fails the split at once, is listed in the sentence, and costs no
 * α. (A subset without endpoints, or a VirtualService naming a subset no DestinationRule defines, shows up as
 * exactly such 503s — the failures are evidence about the split, not noise to filter out.) Against a shift of
 * the minimum size into such a category, the first look must be big enough that (1 − shift)^n ≤ 1 − power: 66
 * requests for 10 points at 0.999; a 100/0 split is judged on exactly those.
 *
 * The sentence's p is the stagewise-ordering sequential p-value of the most extreme class (the probability,
 * under the expected split, of a result at least as extreme, counting rejection at an earlier look as more
 * extreme), Bonferroni-adjusted. By construction the split fails exactly when p ≤ α at a decisive look.
 */
import type { RequestRecord } from '../observe/records.ts';
import type { Verdict } from './verdict.ts';
import { describeOutcome } from './outcomes.ts';
import { describeRecord } from './rates.ts';
import { binomialPmf, clopperPearson, formatP, formatPercent, pIs } from './statistics.ts';

export interface SplitExpectation {
  /** Percent of traffic per class, e.g. {"reviews-v1": 80, "reviews-v2": 10, "reviews-v3": 10}; sums to 100. */
  weights: Readonly<Record<string, number>>;
  /** Overall false-failure budget for this split; default 1e-4 (config `alpha`). */
  alpha?: number;
  /** The smallest shift, in percentage points, that must be caught; default 10. */
  minShiftPoints?: number;
  /** Probability of catching that shift; default 0.999. */
  power?: number;
}

/** The fixed shape of the sequential design; a plan depends only on the expectation. */
export const SEQUENTIAL_DESIGN = {
  /** Number of looks (interim analyses) including the last. */
  looks: 5,
  /** Where the first look sits, as a fraction of the maximum sample size; the rest are evenly spaced. */
  firstLookFraction: 0.3,
  /** Hwang–Shih–DeCani γ for α-spending: −4 ≈ O'Brien–Fleming (conservative early). */
  alphaSpendingGamma: -4,
  /** Hwang–Shih–DeCani γ for β-spending of the early-pass regions: 0 = linear in information. */
  betaSpendingGamma: 0,
  /** Looks are whole multiples of this many requests. */
  granularity: 10,
} as const;

/** One look of one class's sequential test. Counts are of requests attributed to that class. */
export interface ClassLook {
  /** Requests analysed at this look. */
  n: number;
  /** Fail when the class count is ≤ this (−1: no count is low enough). */
  rejectAtOrBelow: number;
  /** Fail when the class count is ≥ this (n + 1: no count is high enough). */
  rejectAtOrAbove: number;
  /** Pass early (if every class agrees) when acceptFrom ≤ count ≤ acceptTo; empty when acceptFrom > acceptTo. */
  acceptFrom: number;
  acceptTo: number;
}

export interface ClassDesign {
  /** Expected share as a fraction. */
  share: number;
  looks: ClassLook[];
  /** Exact power of this class's own sequential test against share − shift and share + shift (null: impossible). */
  powerBelow: number | null;
  powerAbove: number | null;
  /** Exact probability that this class's test fails a healthy mesh (≤ its α share). */
  falseFailure: number;
}

export interface SplitPlan {
  /** The most requests the verdict can need. */
  maxRequests: number;
  /** Request counts at which judgeSplit decides; the last equals maxRequests. */
  looks: number[];
  alpha: number;
  minShiftPoints: number;
  power: number;
  /** Classes judged statistically (0 < weight < 100). */
  testedClasses: string[];
  /** Bonferroni divisor: the number of distinct tests among testedClasses. */
  multiplicity: number;
  /** Per-class tests, keyed by class name. */
  classes: Readonly<Record<string, ClassDesign>>;
  /**
   * Smallest exact power against the minimum shift: over each class's own test (both directions) and over a
   * leak of that size into failures or a weight-0 class by the first look.
   */
  achievedPower: number;
  /** Exact upper bound on the false-failure rate (Σ over tests, ≤ alpha). */
  falseFailureBound: number;
}

export type SplitDecision = 'pass' | 'fail' | 'continue';

export interface SplitJudgement {
  decision: SplitDecision;
  verdict: Verdict;
}

interface Normalized {
  entries: [string, number][];
  alpha: number;
  minShiftPoints: number;
  power: number;
}

function normalize(expectation: SplitExpectation): Normalized {
  const entries = Object.entries(expectation.weights);
  if (entries.length === 0) throw new RangeError('a split needs at least one class in weights');
  for (const [name, w] of entries) {
    if (!Number.isFinite(w) || w < 0 || w > 100) throw new RangeError(`weight of ${name} must be between 0 and 100, got ${w}`);
  }
  const total = entries.reduce((a, [, w]) => a + w, 0);
  if (Math.abs(total - 100) > 1e-6) {
    throw new RangeError(`weights must sum to 100 (they are percentages, as in a VirtualService), got ${total}`);
  }
  const alpha = expectation.alpha ?? 1e-4;
  const minShiftPoints = expectation.minShiftPoints ?? 10;
  const power = expectation.power ?? 0.999;
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`alpha must be in (0, 0.5), got ${alpha}`);
  if (!(minShiftPoints > 0 && minShiftPoints <= 100)) throw new RangeError(`minShiftPoints must be in (0, 100], got ${minShiftPoints}`);
  if (!(power > 0 && power < 1)) throw new RangeError(`power must be in (0, 1), got ${power}`);
  return { entries, alpha, minShiftPoints, power };
}

const isTested = (w: number): boolean => w > 0 && w < 100;

/** Hwang–Shih–DeCani spending: the fraction of the budget spent by information time t ∈ [0, 1]. */
function spent(gamma: number, t: number): number {
  if (t >= 1) return 1;
  return gamma === 0 ? t : (1 - Math.exp(-gamma * t)) / (1 - Math.exp(-gamma));
}

/** Binomial(m, p) pmf, truncated to ±12 standard deviations (what is dropped is < 1e-30). */
function incrementPmf(m: number, p: number): { from: number; probs: Float64Array } {
  if (p <= 0 || m === 0) return { from: 0, probs: Float64Array.of(1) };
  if (p >= 1) return { from: m, probs: Float64Array.of(1) };
  const sd = Math.sqrt(m * p * (1 - p));
  const from = Math.max(0, Math.floor(m * p - 12 * sd - 5));
  const to = Math.min(m, Math.ceil(m * p + 12 * sd + 5));
  const probs = new Float64Array(to - from + 1);
  for (let k = from; k <= to; k++) probs[k - from] = binomialPmf(k, m, p);
  return { from, probs };
}

/** The distribution of the count after m more requests: f convolved with Binomial(m, p), over 0..n. */
function advance(f: Float64Array, m: number, p: number, n: number): Float64Array {
  const step = incrementPmf(m, p);
  const out = new Float64Array(n + 1);
  for (let x = 0; x < f.length; x++) {
    const fx = f[x] ?? 0;
    if (fx < 1e-30) continue;
    const base = x + step.from;
    for (let k = 0; k < step.probs.length; k++) out[base + k] = (out[base + k] ?? 0) + fx * (step.probs[k] ?? 0);
  }
  return out;
}

/** Stagewise one-sided p-values of one look, kept for the sentence. */
interface LookTables {
  /** P(rejected low at an earlier look) + P(not rejected earlier and count ≤ x now), under the expected share. */
  lower: Float64Array;
  /** The same for the upper tail: count ≥ x. */
  upper: Float64Array;
}

interface FullClassDesign extends ClassDesign {
  tables: LookTables[];
}

/**
 * Exact group-sequential design of one class's test at the given looks. See the file comment for the shape;
 * this follows it literally, carrying three sub-distributions of the count from look to look: under the
 * expected share (paths not yet rejected, for α) and under share ∓ shift (paths not yet stopped, for power).
 */
function designClass(share: number, looks: readonly number[], alpha: number, beta: number, shift: number): FullClassDesign {
  const K = looks.length;
  const N = looks[K - 1] ?? 0;
  const alternatives = [
    { q: share - shift, below: true },
    { q: share + shift, below: false },
  ]
    .filter(({ q }) => q > -1e-12 && q < 1 + 1e-12)
    .map(({ q, below }) => ({ q: Math.min(1, Math.max(0, q)), below, f: Float64Array.of(1) as Float64Array, power: 0, betaSpent: 0 }));
  let h: Float64Array = Float64Array.of(1);
  let spentLow = 0;
  let spentHigh = 0;
  let previous = 0;
  const out: ClassLook[] = [];
  const tables: LookTables[] = [];
  for (let j = 0; j < K; j++) {
    const n = looks[j] ?? 0;
    const m = n - previous;
    previous = n;
    h = advance(h, m, share, n);
    for (const alt of alternatives) alt.f = advance(alt.f, m, alt.q, n);
    const last = j === K - 1;
    const t = n / N;
    const budget = last ? alpha : alpha * spent(SEQUENTIAL_DESIGN.alphaSpendingGamma, t);

    const lower = new Float64Array(n + 1);
    const upper = new Float64Array(n + 1);
    let cum = spentLow;
    for (let x = 0; x <= n; x++) lower[x] = cum += h[x] ?? 0;
    cum = spentHigh;
    for (let x = n; x >= 0; x--) upper[x] = cum += h[x] ?? 0;
    tables.push({ lower, upper });

    // Largest low tail and smallest high tail whose stagewise p stays within half the α spent so far.
    let rejectAtOrBelow = -1;
    while (rejectAtOrBelow < n && (lower[rejectAtOrBelow + 1] ?? 1) <= budget / 2) rejectAtOrBelow++;
    let rejectAtOrAbove = n + 1;
    while (rejectAtOrAbove > 0 && (upper[rejectAtOrAbove - 1] ?? 1) <= budget / 2) rejectAtOrAbove--;
    // An early pass must also read "p ≥ α" in the sentence: keep it off counts whose p is below the full α.
    let guardLow = -1;
    while (guardLow < n && (lower[guardLow + 1] ?? 1) <= alpha / 2) guardLow++;
    let guardHigh = n + 1;
    while (guardHigh > 0 && (upper[guardHigh - 1] ?? 1) <= alpha / 2) guardHigh--;

    if (rejectAtOrBelow >= 0) spentLow = lower[rejectAtOrBelow] ?? spentLow;
    if (rejectAtOrAbove <= n) spentHigh = upper[rejectAtOrAbove] ?? spentHigh;
    for (let x = 0; x <= rejectAtOrBelow; x++) h[x] = 0;
    for (let x = rejectAtOrAbove; x <= n; x++) h[x] = 0;

    let acceptFrom: number;
    let acceptTo: number;
    if (last) {
      acceptFrom = rejectAtOrBelow + 1;
      acceptTo = rejectAtOrAbove - 1;
    } else {
      acceptFrom = Math.max(rejectAtOrBelow, guardLow) + 1;
      acceptTo = Math.min(rejectAtOrAbove, guardHigh) - 1;
      const betaBudget = beta * spent(SEQUENTIAL_DESIGN.betaSpendingGamma, t);
      for (const alt of alternatives) {
        if (alt.below) {
          // Accepting counts ≥ c costs at most P(count ≥ c) under the lower alternative.
          let c = n + 1;
          let mass = alt.betaSpent;
          while (c > 0 && mass + (alt.f[c - 1] ?? 0) <= betaBudget) mass += alt.f[--c] ?? 0;
          acceptFrom = Math.max(acceptFrom, c);
        } else {
          let c = -1;
          let mass = alt.betaSpent;
          while (c < n && mass + (alt.f[c + 1] ?? 0) <= betaBudget) mass += alt.f[++c] ?? 0;
          acceptTo = Math.min(acceptTo, c);
        }
      }
    }
    for (const alt of alternatives) {
      for (let x = 0; x <= n; x++) {
        const fx = alt.f[x] ?? 0;
        if (fx === 0) continue;
        if (x <= rejectAtOrBelow || x >= rejectAtOrAbove) {
          alt.power += fx;
          alt.f[x] = 0;
        } else if (x >= acceptFrom && x <= acceptTo) {
          alt.betaSpent += fx;
          alt.f[x] = 0;
        }
      }
    }
    out.push({ n, rejectAtOrBelow, rejectAtOrAbove, acceptFrom, acceptTo });
  }
  const below = alternatives.find((a) => a.below);
  const above = alternatives.find((a) => !a.below);
  return {
    share,
    looks: out,
    powerBelow: below ? Math.min(1, below.power) : null,
    powerAbove: above ? Math.min(1, above.power) : null,
    falseFailure: spentLow + spentHigh,
    tables,
  };
}

function classPower(design: ClassDesign): number {
  return Math.min(design.powerBelow ?? 1, design.powerAbove ?? 1);
}

/** Requests needed so that a shift of that size into a should-be-empty category is seen: (1 − shift)^n ≤ 1 − power. */
function certaintyRequests(shift: number, power: number): number {
  if (shift >= 1) return 1;
  return Math.max(1, Math.ceil(Math.log(1 - power) / Math.log(1 - shift) - 1e-9));
}

function looksFor(maxRequests: number, minFirst: number): number[] {
  const { looks: K, firstLookFraction: f1, granularity: g } = SEQUENTIAL_DESIGN;
  const looks: number[] = [];
  for (let j = 0; j < K; j++) {
    const t = f1 + ((1 - f1) * j) / (K - 1);
    let n = j === K - 1 ? maxRequests : Math.round((maxRequests * t) / g) * g;
    if (j === 0) n = Math.max(n, minFirst);
    if (n > (looks[looks.length - 1] ?? 0) && n <= maxRequests) looks.push(n);
  }
  if (looks[looks.length - 1] !== maxRequests) looks.push(maxRequests);
  return looks;
}

interface FullPlan extends SplitPlan {
  normalized: Normalized;
  full: Readonly<Record<string, FullClassDesign>>;
}

const plans = new Map<string, FullPlan>();

function buildPlan(norm: Normalized): FullPlan {
  const shift = norm.minShiftPoints / 100;
  const beta = 1 - norm.power;
  const testedClasses = norm.entries.filter(([, w]) => isTested(w)).map(([name]) => name);
  // A two-way split's two class tests are one test (one count determines the other), so it is counted once.
  const multiplicity = testedClasses.length === 2 ? 1 : testedClasses.length;
  const alphaPerClass = norm.alpha / Math.max(1, multiplicity);
  const shares = [...new Set(norm.entries.filter(([, w]) => isTested(w)).map(([, w]) => w / 100))];
  const minFirst = certaintyRequests(shift, norm.power);

  const designAll = (maxRequests: number) => {
    const looks = looksFor(maxRequests, minFirst);
    const byShare = new Map(shares.map((s) => [s, designClass(s, looks, alphaPerClass, beta, shift)]));
    // The certainties (failures, weight-0 traffic) must be caught by the first look too.
    const certainty = 1 - Math.pow(1 - shift, looks[0] ?? 0);
    const worst = Math.min(certainty, ...[...byShare.values()].map(classPower));
    return { looks, byShare, worst };
  };

  let chosen: ReturnType<typeof designAll>;
  if (shares.length === 0) {
    chosen = designAll(minFirst);
  } else {
    const g = SEQUENTIAL_DESIGN.granularity;
    let high = 10 * g;
    let highDesign = designAll(high);
    while (highDesign.worst < norm.power) {
      if (high > 2_000_000) {
        throw new RangeError(
          `no sample size up to 2,000,000 reaches power ${norm.power} against a ${norm.minShiftPoints}-point shift: raise minShiftPoints`,
        );
      }
      high *= 2;
      highDesign = designAll(high);
    }
    // Power is not perfectly monotone in n (the binomial is discrete), so this finds a small n that verifiably
    // meets the target rather than the very smallest; every candidate is checked exactly.
    let low = high / 2;
    while (high - low > g) {
      const mid = Math.round((low + high) / 2 / g) * g;
      const d = designAll(mid);
      if (d.worst >= norm.power) {
        high = mid;
        highDesign = d;
      } else {
        low = mid;
      }
    }
    chosen = highDesign;
  }

  const full: Record<string, FullClassDesign> = {};
  for (const name of testedClasses) {
    const design = chosen.byShare.get((norm.entries.find(([n]) => n === name)?.[1] ?? 0) / 100);
    if (design) full[name] = design;
  }
  const sizes = testedClasses.map((name) => full[name]?.falseFailure ?? 0);
  const falseFailureBound = multiplicity === 1 ? (sizes[0] ?? 0) : sizes.reduce((a, b) => a + b, 0);
  const classes: Record<string, ClassDesign> = {};
  for (const [name, d] of Object.entries(full)) {
    classes[name] = { share: d.share, looks: d.looks, powerBelow: d.powerBelow, powerAbove: d.powerAbove, falseFailure: d.falseFailure };
  }
  return {
    maxRequests: chosen.looks[chosen.looks.length - 1] ?? minFirst,
    looks: chosen.looks,
    alpha: norm.alpha,
    minShiftPoints: norm.minShiftPoints,
    power: norm.power,
    testedClasses,
    multiplicity,
    classes,
    achievedPower: chosen.worst,
    falseFailureBound,
    normalized: norm,
    full,
  };
}

function planFor(expectation: SplitExpectation): FullPlan {
  const norm = normalize(expectation);
  const key = JSON.stringify([norm.entries, norm.alpha, norm.minShiftPoints, norm.power]);
  let plan = plans.get(key);
  if (!plan) {
    plan = buildPlan(norm);
    plans.set(key, plan);
  }
  return plan;
}

/**
 * How many requests the split needs and when to look: send requests until the next look, call judgeSplit,
 * and stop at the first 'pass' or 'fail'. Deterministic in the expectation (and memoised).
 */
export function planSplitSampling(expectation: SplitExpectation): SplitPlan {
  const { normalized: _n, full: _f, ...plan } = planFor(expectation);
  return plan;
}

/**
 * Exact probability that one class's own sequential test (stopping at its first early-pass or rejection)
 * rejects when that class truly gets `trueSharePercent` of the traffic. At weight ± the minimum shift this is
 * the power figure the plan was sized on, and a lower bound on the whole split's probability of failing;
 * at the weight itself it is that class's false-failure rate.
 */
export function classRejectionProbability(expectation: SplitExpectation, className: string, trueSharePercent: number): number {
  const plan = planFor(expectation);
  const design = plan.full[className];
  if (!design) throw new RangeError(`${className} is not a class with a weight strictly between 0 and 100 in this split`);
  if (!(trueSharePercent >= 0 && trueSharePercent <= 100)) throw new RangeError(`trueSharePercent must be in [0, 100]`);
  const q = trueSharePercent / 100;
  let f: Float64Array = Float64Array.of(1);
  let previous = 0;
  let rejected = 0;
  design.looks.forEach((look, j) => {
    f = advance(f, look.n - previous, q, look.n);
    previous = look.n;
    const last = j === design.looks.length - 1;
    for (let x = 0; x <= look.n; x++) {
      const fx = f[x] ?? 0;
      if (x <= look.rejectAtOrBelow || x >= look.rejectAtOrAbove) {
        rejected += fx;
        f[x] = 0;
      } else if (last || (x >= look.acceptFrom && x <= look.acceptTo)) {
        f[x] = 0;
      }
    }
  });
  return Math.min(1, rejected);
}

/** Why a record cannot count for any class ("HTTP 503 UH", "connection reset …", "unclassified"), or null when it can. */
export function splitFailureReason(record: RequestRecord): string | null {
  if (record.error || record.status === 0 || record.status < 200 || record.status >= 400) {
    const outcome = describeOutcome(record);
    return outcome.length > 60 ? `${outcome.slice(0, 57)}…` : outcome;
  }
  if (!record.classification) return 'unclassified';
  return null;
}

function tally(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([what, count]) => `${count}× ${what}`)
    .join(', ');
}

function splitLabel(entries: readonly [string, number][]): string {
  return entries.map(([, w]) => String(w)).join('/');
}

/**
 * Judge a weighted split from the records so far (in the order they were sent).
 *
 * - 'fail' at once on any request that failed, was unclassified, or reached a class with weight 0 or outside
 *   the expectation; otherwise at the first look where some class's sequential test rejects.
 * - 'pass' when every class is in its early-pass region at a look, or at the last look when none rejects.
 * - 'continue' until then. With `final: true` (no more records will come) an undecided split fails: it was not
 *   shown to be the expected split.
 *
 * A look analyses exactly the first `looks[j]` records, so calling with extra records is harmless; the
 * certainties (failures, weight-0 traffic) are checked on every record given.
 */
export function judgeSplit(
  expectation: SplitExpectation,
  records: readonly RequestRecord[],
  options: { final: boolean },
): SplitJudgement {
  const plan = planFor(expectation);
  const { entries, alpha, minShiftPoints, power } = plan.normalized;
  const label = splitLabel(entries);
  const weights = new Map(entries);
  const K = plan.looks.length;

  const failures: string[] = [];
  const failedAt: number[] = [];
  const outside: string[] = [];
  const zeroHits: string[] = [];
  for (const [index, record] of records.entries()) {
    const reason = splitFailureReason(record);
    if (reason !== null) {
      failures.push(reason);
      failedAt.push(index);
    }
    else if (!weights.has(record.classification ?? '')) outside.push(record.classification ?? '');
    else if (weights.get(record.classification ?? '') === 0) zeroHits.push(record.classification ?? '');
  }
  const certain = failures.length + outside.length + zeroHits.length > 0;

  let lookIndex = -1;
  while (lookIndex + 1 < K && (plan.looks[lookIndex + 1] ?? Infinity) <= records.length) lookIndex++;
  const n = certain || lookIndex < 0 ? records.length : (plan.looks[lookIndex] ?? 0);

  const counts = new Map<string, number>(entries.map(([name]) => [name, 0]));
  for (let i = 0; i < n; i++) {
    const c = records[i]?.classification;
    if (c !== undefined && counts.has(c) && splitFailureReason(records[i] as RequestRecord) === null) {
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
  }

  const figures: Verdict['figures'] = {
    split: label,
    n,
    records: records.length,
    maxRequests: plan.maxRequests,
    looks: K,
    look: lookIndex + 1,
    alpha,
    power,
    minShiftPoints,
    failures: failures.length,
    outsideClasses: outside.length,
  };

  // Per-class description and sequential p.
  const parts: string[] = [];
  const rejecting: string[] = [];
  let allAccept = true;
  let smallestP = 1;
  for (const [name, weight] of entries) {
    const x = counts.get(name) ?? 0;
    const [low, high] = clopperPearson(x, n);
    const share = n === 0 ? 0 : x / n;
    parts.push(
      n === 0
        ? `${name} no requests yet, expected ${weight} %`
        : `${name} ${formatPercent(share)} (95 % CI ${formatPercent(low, false)}–${formatPercent(high)}) of ${n}, expected ${weight} %`,
    );
    figures[`${name}.count`] = x;
    figures[`${name}.share`] = n === 0 ? null : share;
    figures[`${name}.ciLow`] = n === 0 ? null : low;
    figures[`${name}.ciHigh`] = n === 0 ? null : high;
    figures[`${name}.expected`] = weight / 100;
    const design = plan.full[name];
    if (!design || certain || lookIndex < 0) continue;
    const look = design.looks[lookIndex];
    const tables = design.tables[lookIndex];
    if (!look || !tables) continue;
    const p = Math.min(1, 2 * Math.min(tables.lower[x] ?? 1, tables.upper[x] ?? 1));
    figures[`${name}.p`] = p;
    smallestP = Math.min(smallestP, p);
    if (x <= look.rejectAtOrBelow) rejecting.push(`${name} below ${weight} %`);
    else if (x >= look.rejectAtOrAbove) rejecting.push(`${name} above ${weight} %`);
    else if (x < look.acceptFrom || x > look.acceptTo) allAccept = false;
  }
  const p = Math.min(1, smallestP * Math.max(1, plan.multiplicity));

  let decision: SplitDecision;
  let tail: string;
  const shiftPhrase = `a ${minShiftPoints}-point shift would have been detected with power ≥ ${power}`;
  if (certain) {
    decision = 'fail';
    const extra: string[] = [];
    if (outside.length > 0) extra.push(`${outside.length} went to classes outside the split (${tally(outside)})`);
    if (zeroHits.length > 0) extra.push(`${zeroHits.length} went to weight-0 classes (${tally(zeroHits)})`);
    parts.push(...extra);
    figures.p = 0;
    if (failures.length > 0) {
      // Requests that failed are a different finding from a wrong split: said first, each named with what
      // became of it (status and Envoy's flag, or the transport failure), and the split is not called wrong.
      const shown = failedAt.slice(0, 3).map((i) => describeRecord(records[i] as RequestRecord, i));
      const more = failedAt.length > 3 ? `, and ${failedAt.length - 3} more` : '';
      parts.unshift(`${failures.length} of ${n} requests failed or were unclassified (${tally(failures)}): ${shown.join('; ')}${more}; of the others:`);
      tail =
        extra.length > 0
          ? `p = 0 < α = ${formatP(alpha)} (under ${label} every request reaches a weighted class): the split differs, and requests failed`
          : `requests failed, so the split is not shown (a failed request reaches no version of ${label}: p = 0 < α = ${formatP(alpha)})`;
    } else {
      tail = `p = 0 < α = ${formatP(alpha)} (under ${label} every request reaches a weighted class): the split differs`;
    }
  } else if (lookIndex < 0) {
    decision = options.final ? 'fail' : 'continue';
    tail = options.final
      ? `only ${n} of the planned ${plan.maxRequests} requests arrived, fewer than the first look at ${plan.looks[0]}: not shown to be ${label}`
      : `first look at ${plan.looks[0]} requests: continue`;
    figures.p = null;
  } else {
    figures.p = p;
    // Fail at look j ⇔ p ≤ α·spent(t_j): the α-spending boundary, restated on the adjusted-p scale.
    const failThreshold = alpha * spent(SEQUENTIAL_DESIGN.alphaSpendingGamma, (plan.looks[lookIndex] ?? 0) / plan.maxRequests);
    figures.failThreshold = failThreshold;
    const at = `look ${lookIndex + 1} of ${K}`;
    if (rejecting.length > 0) {
      decision = 'fail';
      tail = `${pIs(p)} < α = ${formatP(alpha)}: the split differs (${rejecting.join(', ')}; ${at})`;
    } else if (allAccept || lookIndex === K - 1) {
      decision = 'pass';
      tail = `${pIs(p)} ≥ α = ${formatP(alpha)}: consistent with ${label} (${shiftPhrase}; ${at})`;
    } else if (options.final) {
      decision = 'fail';
      tail = `${pIs(p)} at ${at}, not yet decisive, and only ${records.length} of the planned ${plan.maxRequests} requests arrived: not shown to be ${label}`;
    } else {
      decision = 'continue';
      tail =
        `${pIs(p)} at ${at}: not yet decisive (failing this early needs p ≤ ${formatP(failThreshold)}, α = ` +
        `${formatP(alpha)} at the last look; passing early needs every share near its weight), continue to ` +
        `${plan.looks[lookIndex + 1]} requests`;
    }
  }
  figures.decision = decision;
  return {
    decision,
    verdict: { pass: decision === 'pass', sentence: `${parts.join('; ').replace('of the others:; ', 'of the others: ')}; ${tail}`, judge: 'weighted-split', figures },
  };
}
