/**
 * The statistics meshproof's judges stand on: thin, typed wrappers over stdlib (`@stdlib/*`), so the numbers in
 * a verdict come from a library with its own test-suite rather than from arithmetic written here. Pure
 * functions, no I/O, no randomness.
 *
 * What lives here: the exact binomial test and Clopper–Pearson interval for one share, a goodness-of-fit test
 * for a whole multinomial split, and Bonferroni/Holm for testing several shares at once. The group-sequential
 * design the weighted-split judge uses is in `split.ts`; it reuses `binomialPmf` from here.
 */
import binomialTestImpl from '@stdlib/stats-binomial-test';
import binomialPmfImpl from '@stdlib/stats-base-dists-binomial-pmf';
import binomialCdfImpl from '@stdlib/stats-base-dists-binomial-cdf';
import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import chi2gof from '@stdlib/stats-chi2gof';
import factorialln from '@stdlib/math-base-special-factorialln';

export type Alternative = 'two-sided' | 'less' | 'greater';

/** P(X = k) for X ~ Binomial(n, p). */
export function binomialPmf(k: number, n: number, p: number): number {
  return binomialPmfImpl(k, n, p);
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  return binomialCdfImpl(k, n, p);
}

/**
 * P(X ≥ k), computed as the lower tail of the complementary count so that tiny upper tails keep their
 * precision (1 − cdf would round anything below ~1e-16 to 0).
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  return binomialCdfImpl(n - k, n, 1 - p);
}

function checkCount(successes: number, trials: number): void {
  if (!Number.isInteger(trials) || trials < 0) throw new RangeError(`trials must be a whole number ≥ 0, got ${trials}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > trials) {
    throw new RangeError(`successes must be a whole number between 0 and trials (${trials}), got ${successes}`);
  }
}

function checkProbability(name: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must be a probability in [0, 1], got ${p}`);
}

/**
 * Exact (Clopper–Pearson) confidence interval for a proportion: the set of p not rejected by the two one-sided
 * exact tests at (1 − confidence)/2 each. Guaranteed coverage ≥ confidence for every p, at the price of being a
 * little wide. Beta quantiles, as in R's binom.test.
 */
export function clopperPearson(successes: number, trials: number, confidence = 0.95): [number, number] {
  checkCount(successes, trials);
  if (trials === 0) return [0, 1];
  const tail = (1 - confidence) / 2;
  const low = successes === 0 ? 0 : betaQuantile(tail, successes, trials - successes + 1);
  const high = successes === trials ? 1 : betaQuantile(1 - tail, successes + 1, trials - successes);
  return [low, high];
}

/**
 * One-sided exact upper confidence bound: the largest p for which seeing `successes` or fewer is still
 * plausible at 1 − confidence. Used to say "the false-failure rate is at most …".
 */
export function clopperPearsonUpper(successes: number, trials: number, confidence = 0.95): number {
  checkCount(successes, trials);
  if (successes === trials) return 1;
  return betaQuantile(confidence, successes + 1, trials - successes);
}

/** One-sided exact lower confidence bound; 0 when nothing was seen. */
export function clopperPearsonLower(successes: number, trials: number, confidence = 0.95): number {
  checkCount(successes, trials);
  if (successes === 0) return 0;
  return betaQuantile(1 - confidence, successes, trials - successes + 1);
}

export interface BinomialTestResult {
  successes: number;
  trials: number;
  /** The proportion under the null hypothesis. */
  nullProportion: number;
  /** successes / trials (NaN when trials is 0). */
  estimate: number;
  pValue: number;
  /** Clopper–Pearson interval at `confidence` (two-sided even for a one-sided test, for reporting). */
  ci: [number, number];
  confidence: number;
  alternative: Alternative;
}

/**
 * Exact binomial test of H0: p = nullProportion. The two-sided p-value sums the probabilities of every count
 * no more likely than the observed one (the "minimum likelihood" rule of R's binom.test, which stdlib follows,
 * relative tolerance 1e-7), so it matches R to the last digit. When nullProportion is 0 or 1 the test is a
 * certainty: any count off the only possible value has p = 0.
 */
export function exactBinomialTest(
  successes: number,
  trials: number,
  nullProportion: number,
  options: { alternative?: Alternative; confidence?: number } = {},
): BinomialTestResult {
  checkCount(successes, trials);
  checkProbability('nullProportion', nullProportion);
  const alternative = options.alternative ?? 'two-sided';
  const confidence = options.confidence ?? 0.95;
  const ci = clopperPearson(successes, trials, confidence);
  if (trials === 0) {
    return { successes, trials, nullProportion, estimate: Number.NaN, pValue: 1, ci, confidence, alternative };
  }
  let pValue: number;
  if (alternative === 'less') pValue = binomialCdfImpl(successes, trials, nullProportion);
  else if (alternative === 'greater') pValue = binomialUpperTail(successes, trials, nullProportion);
  else pValue = binomialTestImpl(successes, trials, { p: nullProportion }).pValue;
  return {
    successes,
    trials,
    nullProportion,
    estimate: successes / trials,
    pValue: Math.min(1, Math.max(0, pValue)),
    ci,
    confidence,
    alternative,
  };
}

export interface GoodnessOfFitResult {
  method: 'chi-square' | 'exact multinomial';
  pValue: number;
  /** Pearson's X² for chi-square; the probability of the observed table for the exact test. */
  statistic: number;
  /** Degrees of freedom of the chi-square reference (categories with probability > 0, minus one). */
  df: number;
  /** Why this method was chosen, for the report. */
  why: string;
}

/** Above this many possible tables the exact test is too slow to enumerate (≈ 0.5 s). */
const MAX_EXACT_TABLES = 2_000_000;

function numberOfTables(n: number, k: number): number {
  // C(n + k − 1, k − 1), computed in floating point: only compared with a limit.
  let count = 1;
  for (let i = 1; i < k; i++) count = (count * (n + i)) / i;
  return count;
}

/**
 * Goodness of fit of a whole split: are these counts a sample from these category probabilities?
 *
 * Pearson's chi-square (stdlib's chi2gof) when every expected count is at least 5, Cochran's classical rule
 * for the chi-square approximation to be adequate. Below that the approximation overstates significance in the
 * tails, so the exact multinomial test is used instead: enumerate every table with the same total and add the
 * probabilities of those no more likely than the observed one (the multinomial analogue of binom.test), as long
 * as there are at most 2 million tables; past that chi-square is used and `why` says so.
 *
 * A category with probability 0 is a certainty, not a statistic: any count there gives p = 0, and otherwise the
 * category is dropped.
 */
export function multinomialGoodnessOfFit(counts: readonly number[], probabilities: readonly number[]): GoodnessOfFitResult {
  if (counts.length !== probabilities.length || counts.length === 0) {
    throw new RangeError('counts and probabilities must be non-empty and of the same length');
  }
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`counts must be whole numbers ≥ 0, got ${c}`);
  }
  const total = probabilities.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-9) throw new RangeError(`probabilities must sum to 1, got ${total}`);
  probabilities.forEach((p) => checkProbability('probability', p));

  const impossible = counts.some((c, i) => c > 0 && probabilities[i] === 0);
  const kept = counts.map((c, i) => ({ c, p: probabilities[i] ?? 0 })).filter(({ p }) => p > 0);
  const df = kept.length - 1;
  if (impossible) {
    return { method: 'exact multinomial', pValue: 0, statistic: 0, df, why: 'a category with probability 0 has observations' };
  }
  const n = kept.reduce((a, { c }) => a + c, 0);
  if (kept.length <= 1 || n === 0) {
    return { method: 'exact multinomial', pValue: 1, statistic: 1, df, why: 'only one possible table' };
  }
  const minExpected = Math.min(...kept.map(({ p }) => n * p));
  const chiSquare = (why: string): GoodnessOfFitResult => {
    const result = chi2gof(
      kept.map(({ c }) => c),
      kept.map(({ p }) => p),
    );
    return { method: 'chi-square', pValue: result.pValue, statistic: result.statistic, df, why };
  };
  if (minExpected >= 5) {
    return chiSquare(`every expected count is ≥ 5 (smallest ${minExpected.toFixed(1)}), where the chi-square approximation holds`);
  }
  if (numberOfTables(n, kept.length) > MAX_EXACT_TABLES) {
    return chiSquare(
      `an expected count is below 5 (${minExpected.toFixed(1)}) but there are too many tables to enumerate; chi-square is approximate here`,
    );
  }
  const exact = exactMultinomialTest(
    kept.map(({ c }) => c),
    kept.map(({ p }) => p),
  );
  return {
    method: 'exact multinomial',
    pValue: exact.pValue,
    statistic: exact.observedProbability,
    df,
    why: `an expected count is below 5 (${minExpected.toFixed(1)}), where chi-square is unreliable; all tables enumerated`,
  };
}

/**
 * Exact multinomial test: p = the total probability of every table (same n) that is no more likely than the
 * observed one, with the 1e-7 relative tolerance R uses for ties. Exponential in the number of categories:
 * callers check the table count first.
 */
export function exactMultinomialTest(
  counts: readonly number[],
  probabilities: readonly number[],
): { pValue: number; observedProbability: number; tables: number } {
  const k = counts.length;
  const n = counts.reduce((a, b) => a + b, 0);
  const logP = probabilities.map((p) => Math.log(p));
  const logFactN = factorialln(n);
  const logProb = (table: readonly number[]): number => {
    let s = logFactN;
    for (let i = 0; i < k; i++) {
      const c = table[i] ?? 0;
      if (c > 0) s += c * (logP[i] ?? 0) - factorialln(c);
    }
    return s;
  };
  const observed = logProb(counts);
  const threshold = observed + Math.log1p(1e-7);
  let pValue = 0;
  let tables = 0;
  const table = new Array<number>(k).fill(0);
  const walk = (index: number, remaining: number): void => {
    if (index === k - 1) {
      table[index] = remaining;
      tables++;
      const lp = logProb(table);
      if (lp <= threshold) pValue += Math.exp(lp);
      return;
    }
    for (let c = 0; c <= remaining; c++) {
      table[index] = c;
      walk(index + 1, remaining - c);
    }
  };
  walk(0, n);
  return { pValue: Math.min(1, pValue), observedProbability: Math.exp(observed), tables };
}

/** Bonferroni-adjusted p-values: each multiplied by the number of tests, capped at 1. */
export function bonferroni(pValues: readonly number[]): number[] {
  return pValues.map((p) => Math.min(1, p * pValues.length));
}

/**
 * Holm's step-down adjusted p-values (same order as the input). Rejects the same global null as Bonferroni
 * (the smallest p times m) but is uniformly more powerful at saying *which* shares differ.
 */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(m).fill(1);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/**
 * A p-value or α as a sentence shows it: two significant digits down to 0.001 ("0.41", "0.0017"), then
 * scientific with an honest precision ("3.2e-6", "1e-4"), and "< 1e-15" below what double precision resolves.
 */
export function formatP(p: number): string {
  if (p === 0) return '0';
  if (p < 1e-15) return '< 1e-15';
  if (p >= 0.001) return String(Number(p.toPrecision(2)));
  const [mantissa = '', exponent = ''] = p.toExponential(1).split('e');
  return `${mantissa.replace(/\.0$/, '')}e${exponent.replace('+', '')}`;
}

/** "p = 0.49", or "p < 1e-15" below what the arithmetic can say. */
export function pIs(p: number): string {
  const text = formatP(p);
  return text.startsWith('<') ? `p ${text}` : `p = ${text}`;
}

/** A proportion as a percentage with one decimal, "71.2 %"; `unit: false` leaves the " %" off. */
export function formatPercent(share: number, unit = true): string {
  const text = (share * 100).toFixed(1);
  return unit ? `${text} %` : text;
}
