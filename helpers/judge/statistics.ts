/**
 * The statistics meshproof's judges stand on: thin, typed wrappers over stdlib (`@stdlib/*`), so the numbers in
 * a verdict come from a library with its own test-suite rather than from arithmetic written here. Pure
 * functions, no I/O, no randomness.
 *
 * What lives here: the exact binomial test and Clopper–Pearson interval for one share. The sequential test the
 * weighted-split judge runs after every request is in `sequential.ts` (its Bonferroni split of α is stated in
 * `split-design.ts`); the fixed-sample size it is compared with uses `binomialCdf` and `binomialUpperTail` from here.
 */
import { createRequire } from 'node:module';

export type Alternative = 'two-sided' | 'less' | 'greater';

// stdlib's functions are hundreds of tiny CommonJS modules each (the three distributions and the binomial test
// are about 560, 0.1 s to load): each is loaded on its first call, so the commands that never compute a
// probability (`meshproof features`, `env`, `--help`) and the workers that never judge do not pay for them.
// stdlib packages are CommonJS, so require is synchronous.
const require = createRequire(import.meta.url);
function loadedOnFirstCall<F extends (...args: never[]) => unknown>(stdlibPackage: string): F {
  let loaded: F | undefined;
  return ((...args: Parameters<F>) => (loaded ??= require(stdlibPackage) as F)(...args)) as F;
}
const binomialPmfImpl = loadedOnFirstCall<typeof import('@stdlib/stats-base-dists-binomial-pmf')>('@stdlib/stats-base-dists-binomial-pmf');
const binomialCdfImpl = loadedOnFirstCall<typeof import('@stdlib/stats-base-dists-binomial-cdf')>('@stdlib/stats-base-dists-binomial-cdf');
const betaQuantile = loadedOnFirstCall<typeof import('@stdlib/stats-base-dists-beta-quantile')>('@stdlib/stats-base-dists-beta-quantile');
const binomialTestImpl = loadedOnFirstCall<typeof import('@stdlib/stats-binomial-test')>('@stdlib/stats-binomial-test');

/** P(X = k) for X ~ Binomial(n, p). */
export function binomialPmf(k: number, n: number, p: number): number {
  return binomialPmfImpl(k, n, p);
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
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
