/**
 * Weighted-split bench: how many requests a verdict costs with meshproof's per-request sequential judge, next to
 * the figures it should be read against, all at stated error rates (α = 1e-4, power 0.999 against a 10-point
 * shift unless said otherwise):
 *
 *  - meshproof's mean on a healthy 80/10/10 and 50/50 and on the hardest 10-point alternative (70/15/15):
 *    exact where one count decides (50/50, per class), simulated with its standard error otherwise;
 *  - the fixed-sample exact test's size (the same α/k and power, one batch);
 *  - Wald's lower bound on the mean of any sequential test against the hardest alternative;
 *  - Gateway API conformance's method (kubernetes-sigs/gateway-api `conformance/utils/weight/weight.go`,
 *    `TestWeightedDistribution`: 500 requests, pass when every share is within ±0.05 of its weight, the whole
 *    batch tried up to `MaxTestRetries` = 10 times), computed exactly, with its own false-failure rate and power
 *    beside its mean — and meshproof's mean when it is held to those same error rates, the fair comparison.
 *
 * `npm run bench` (bench/run.ts) calls benchWeightedSplit() and prints the lines; `tsx bench/weighted-split.ts`
 * prints them too. The simulators are exported for test/judge/monte-carlo.test.ts.
 */
import { pathToFileURL } from 'node:url';
import mt19937 from '@stdlib/random-base-mt19937';
import type { RequestRecord } from '../helpers/observe/records.ts';
import { binomialPmf, clopperPearsonUpper } from '../helpers/judge/statistics.ts';
import { designShareTest } from '../helpers/judge/sequential.ts';
import { classExpectedRequests, planSplitSampling, type SplitExpectation } from '../helpers/judge/split-design.ts';
import { judgeSplit, SplitProgress } from '../helpers/judge/split.ts';

/** A uniform [0, 1) generator from a seeded 32-bit Mersenne Twister (stdlib), so every figure reproduces. */
export function seededUniform(seed: number): () => number {
  const next = mt19937.factory({ seed });
  return () => next() / 4294967296;
}

/** The mesh being simulated: true shares per class in percent (classes may differ from the expectation). */
export interface SimulatedMesh {
  shares: Readonly<Record<string, number>>;
  /** Fraction of requests that fail with HTTP 503 before reaching any class; default 0. */
  failureRate?: number;
}

function classSampler(mesh: SimulatedMesh, uniform: () => number): () => string | null {
  const entries = Object.entries(mesh.shares).filter(([, w]) => w > 0);
  const total = entries.reduce((a, [, w]) => a + w, 0);
  const cumulative: number[] = [];
  let sum = 0;
  for (const [, w] of entries) cumulative.push((sum += w / total));
  const names = entries.map(([name]) => name);
  const failureRate = mesh.failureRate ?? 0;
  return () => {
    if (failureRate > 0 && uniform() < failureRate) return null;
    const u = uniform();
    let i = 0;
    while (i < cumulative.length - 1 && u >= (cumulative[i] ?? 1)) i++;
    return names[i] ?? null;
  };
}

export interface SimulationResult {
  runs: number;
  /** Verdicts that failed the split. */
  failed: number;
  /** Requests each verdict used, one entry per run. */
  requests: number[];
}

/**
 * Run meshproof's per-request procedure `runs` times on simulated requests, each fed to the judge's own
 * SplitProgress (what judgeSplit runs on records) until it decides. A request that fails (the mesh's
 * failureRate) or reaches a class outside the expectation or of weight 0 fails the verdict at once, as in
 * judgeSplit.
 */
export function simulateSequential(expectation: SplitExpectation, mesh: SimulatedMesh, runs: number, seed: number): SimulationResult {
  const sample = classSampler(mesh, seededUniform(seed));
  const weighted = new Set(Object.entries(expectation.weights).filter(([, w]) => w > 0).map(([name]) => name));
  const requests: number[] = [];
  let failed = 0;
  for (let run = 0; run < runs; run++) {
    const progress = SplitProgress.of(expectation);
    let decision = progress.decision;
    while (decision === 'continue') {
      const cls = sample();
      if (cls === null || !weighted.has(cls)) {
        progress.n++;
        decision = 'fail';
        break;
      }
      decision = progress.add(cls);
    }
    if (decision === 'fail') failed++;
    requests.push(progress.n);
  }
  return { runs, failed, requests };
}

/**
 * The same procedure through judgeSplit on request records, sent in the batches the judge asks for
 * (helpers/suite/sampling.ts does this with real requests): slower, used to show the two agree.
 */
export function simulateThroughJudge(expectation: SplitExpectation, mesh: SimulatedMesh, runs: number, seed: number): SimulationResult {
  const plan = planSplitSampling(expectation);
  const sample = classSampler(mesh, seededUniform(seed));
  const requests: number[] = [];
  let failed = 0;
  for (let run = 0; run < runs; run++) {
    const records: RequestRecord[] = [];
    let wanted = plan.firstDecision;
    for (;;) {
      for (let i = 0; i < wanted; i++) {
        const cls = sample();
        records.push(
          cls === null
            ? { startedAt: records.length, latencyMs: 1, status: 503 }
            : { startedAt: records.length, latencyMs: 1, status: 200, classification: cls },
        );
      }
      const judgement = judgeSplit(expectation, records, { final: records.length >= plan.maxRequests });
      if (judgement.decision === 'continue') {
        wanted = judgement.moreRequests ?? 1;
        continue;
      }
      if (judgement.decision === 'fail') failed++;
      requests.push(Number(judgement.verdict.figures.n));
      break;
    }
  }
  return { runs, failed, requests };
}

/** Gateway API conformance's method, simulated from its source (`conformance/utils/weight/weight.go`). */
export function simulateGatewayApi(
  weights: Readonly<Record<string, number>>,
  mesh: SimulatedMesh,
  runs: number,
  seed: number,
  { batch = 500, tolerance = 0.05, attempts = 10 } = {},
): SimulationResult {
  const uniform = seededUniform(seed);
  const sample = classSampler(mesh, uniform);
  const expected = Object.entries(weights).map(([name, w]) => [name, w / 100] as const);
  const active = expected.filter(([, w]) => w > 0).length;
  const requests: number[] = [];
  let failed = 0;
  for (let run = 0; run < runs; run++) {
    let passed = false;
    let used = 0;
    for (let attempt = 0; attempt < attempts && !passed; attempt++) {
      const seen = new Map<string, number>();
      let broken = false;
      for (let i = 0; i < batch; i++) {
        const cls = sample();
        // A request error or an unexpected backend aborts the batch in weight.go; the requests were still sent.
        if (cls === null || !(cls in weights)) broken = true;
        else seen.set(cls, (seen.get(cls) ?? 0) + 1);
      }
      used += batch;
      if (broken || seen.size !== active) continue;
      passed = expected.every(([name, w]) => {
        const got = seen.get(name);
        if (got === undefined) return w === 0;
        return Math.abs(got / batch - w) <= tolerance;
      });
    }
    if (!passed) failed++;
    requests.push(used);
  }
  return { runs, failed, requests };
}

/** Gateway API's method computed exactly: the probability that it fails the split, and its mean number of requests. */
export interface ExactGatewayApi {
  /** Probability that one 500-request batch passes. */
  batchPasses: number;
  /** Probability that all 10 attempts fail: the verdict fails. */
  fails: number;
  meanRequests: number;
}

/**
 * Exactly, for a mesh whose requests all reach one of the expected classes: one batch passes when every count
 * x has |x/500 − w| ≤ 0.05 in the same floating-point arithmetic as weight.go (so 375 of 500 against 0.8 is
 * out: 0.75 − 0.8 is a hair over 0.05 in doubles), and every weight > 0 class was seen (implied by the band
 * when w ≥ 0.05 … checked anyway). The multinomial is summed as a chain of conditional binomials.
 */
export function exactGatewayApi(
  weights: Readonly<Record<string, number>>,
  trueShares: Readonly<Record<string, number>>,
  { batch = 500, tolerance = 0.05, attempts = 10 } = {},
): ExactGatewayApi {
  const names = Object.keys(weights);
  const expected = names.map((name) => (weights[name] ?? 0) / 100);
  const truth = names.map((name) => (trueShares[name] ?? 0) / 100);
  const inBand = (i: number, x: number) => (x === 0 ? expected[i] === 0 : Math.abs(x / batch - (expected[i] ?? 0)) <= tolerance);
  // P(classes i.. all in band | `left` requests among them, with the remaining true mass `mass`).
  const passFrom = (i: number, left: number, mass: number): number => {
    if (i === names.length - 1) return inBand(i, left) ? 1 : 0;
    const p = mass > 0 ? Math.min(1, (truth[i] ?? 0) / mass) : 0;
    let total = 0;
    for (let x = 0; x <= left; x++) {
      if (!inBand(i, x)) continue;
      const pmf = binomialPmf(x, left, p);
      if (pmf < 1e-300) continue;
      total += pmf * passFrom(i + 1, left - x, mass - (truth[i] ?? 0));
    }
    return total;
  };
  const batchPasses = passFrom(0, batch, 1);
  const fails = Math.pow(1 - batchPasses, attempts);
  // Attempt k (0-based) is made when the k before it failed.
  let meanRequests = 0;
  for (let k = 0; k < attempts; k++) meanRequests += batch * Math.pow(1 - batchPasses, k);
  return { batchPasses, fails, meanRequests };
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

/** Standard error of the mean. */
export function standardError(values: readonly number[]): number {
  const m = mean(values);
  const variance = values.reduce((a, v) => a + (v - m) * (v - m), 0) / Math.max(1, values.length - 1);
  return Math.sqrt(variance / Math.max(1, values.length));
}

/** Nearest-rank percentile: the smallest value with at least q of the values at or below it. */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * Wald's lower bound on E₀[N] for any sequential test of P₀ against P₁ with error rates α and β:
 * [(1 − α) ln((1 − α)/β) + α ln(α/(1 − β))] / KL(P₀‖P₁). For a split the hardest 10-point alternative is the
 * one nearest in KL: one class moved by the shift, the others rescaled (70/15/15 for 80/10/10), whose KL is
 * the binomial KL of that class alone.
 */
export function waldLowerBound(weights: Readonly<Record<string, number>>, shiftPoints: number, alpha: number, power: number): { bound: number; hardest: string } {
  const beta = 1 - power;
  const entries = Object.entries(weights);
  const shares = entries.map(([, w]) => w / 100);
  const kl = (w: number, q: number) => (w === 0 ? 0 : w * Math.log(w / q)) + (w === 1 ? 0 : (1 - w) * Math.log((1 - w) / (1 - q)));
  let best = { divergence: Number.POSITIVE_INFINITY, hardest: '' };
  shares.forEach((w, i) => {
    if (w <= 0 || w >= 1) return;
    for (const q of [w - shiftPoints / 100, w + shiftPoints / 100]) {
      if (q <= 0 || q >= 1) continue;
      const divergence = kl(w, q);
      if (divergence < best.divergence) {
        const rest = (1 - q) / (1 - w);
        const split = shares.map((s, j) => (j === i ? q : s * rest) * 100);
        best = { divergence, hardest: split.map((s) => String(Math.round(s * 10) / 10)).join('/') };
      }
    }
  });
  const numerator = (1 - alpha) * Math.log((1 - alpha) / beta) + alpha * Math.log(alpha / (1 - beta));
  return { bound: numerator / best.divergence, hardest: best.hardest };
}

const CANARY = { 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 };
const HALVES = { 'reviews-v1': 50, 'reviews-v3': 50 };
const HARDEST = { 'reviews-v1': 70, 'reviews-v2': 15, 'reviews-v3': 15 };
const RUNS = 100_000;

/** The bench's printed lines; the fair ratio (at Gateway API's own error rates) is last. */
export async function benchWeightedSplit(): Promise<string[]> {
  const started = performance.now();
  const canary: SplitExpectation = { weights: CANARY };
  const halves: SplitExpectation = { weights: HALVES };
  const plan = planSplitSampling(canary);
  const halvesPlan = planSplitSampling(halves);
  const healthy = simulateSequential(canary, { shares: CANARY }, RUNS, 1);
  const hardest = simulateSequential(canary, { shares: HARDEST }, RUNS, 2);
  const halvesExact = classExpectedRequests(halves, 'reviews-v1', 50);
  // One count decides 50/50, so the optimal test of that count over twice the horizon is the limit for any test.
  const halvesLimit = designShareTest({ share: 0.5, alternatives: [0.4, 0.6], alpha: 1e-4, beta: 1e-3, maxRequests: 2 * halvesPlan.maxRequests, fewestToPass: 66 })
    .healthy.expectedRequests;
  const wald = waldLowerBound(CANARY, 10, 1e-4, 0.999);
  const waldHalves = waldLowerBound(HALVES, 10, 1e-4, 0.999);
  const gatewayHealthy = exactGatewayApi(CANARY, CANARY);
  const gatewayHardest = exactGatewayApi(CANARY, HARDEST);
  const gatewayPower = gatewayHardest.fails;
  // meshproof held to Gateway API's own error rates: its false-failure rate as α, its power against 70/15/15.
  const atGatewayRates: SplitExpectation = { weights: CANARY, alpha: gatewayHealthy.fails, power: gatewayPower };
  const fair = simulateSequential(atGatewayRates, { shares: CANARY }, RUNS / 4, 3);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);

  const simulated = (r: SimulationResult) => `${mean(r.requests).toFixed(1)} ± ${standardError(r.requests).toFixed(1)} (simulated, ${r.runs.toLocaleString('en')} runs, ± 1 s.e.; p95 ${percentile(r.requests, 0.95)})`;
  const failures = (r: SimulationResult) =>
    `${r.failed} of ${r.runs.toLocaleString('en')} failed (99.9 % upper bound ${clopperPearsonUpper(r.failed, r.runs, 0.999).toExponential(1)})`;
  const fairRatio = mean(fair.requests) / gatewayHealthy.meanRequests;
  return [
    `α = 1e-4 (a healthy split fails at most this often), power ≥ 0.999 against every 10-point shift in any class; ${seconds} s`,
    `meshproof, healthy 80/10/10: mean ${simulated(healthy)} requests; ${failures(healthy)}, exact bound ${plan.falseFailureBound.toExponential(2)}; at most ${plan.maxRequests}`,
    `meshproof, healthy 50/50: mean ${halvesExact.toFixed(1)} requests (exact); no test of 50/50 averages less than about ${halvesLimit.toFixed(0)} at these rates (the exact optimum of its one count over ${2 * halvesPlan.maxRequests} requests is ${halvesLimit.toFixed(1)}; the discrete budgets leave under a request)`,
    `meshproof, hardest alternative ${wald.hardest} against 80/10/10: mean ${simulated(hardest)} requests; detected ${(hardest.failed / hardest.runs).toFixed(4)} (design: ≥ ${plan.achievedPower.toFixed(4)} exactly)`,
    `fixed-sample exact test (one batch, same α/k and power): ${plan.fixedSampleSize} requests for 80/10/10, ${halvesPlan.fixedSampleSize} for 50/50`,
    `Wald's lower bound on any sequential test's healthy mean (hardest alternative): ${wald.bound.toFixed(1)} for 80/10/10 (against ${wald.hardest}), ${waldHalves.bound.toFixed(1)} for 50/50 (against ${waldHalves.hardest}, one side only)`,
    `Gateway API 500 × ±5 points × ≤ 10 tries (exact): healthy 80/10/10 mean ${gatewayHealthy.meanRequests.toFixed(1)} requests, false failures ${gatewayHealthy.fails.toExponential(2)}; ` +
      `against ${wald.hardest} mean ${gatewayHardest.meanRequests.toFixed(0)} requests, power ${gatewayPower.toFixed(3)}`,
    `meshproof held to Gateway API's error rates (α = ${atGatewayRates.alpha!.toExponential(1)}, power ${gatewayPower.toFixed(3)}): healthy 80/10/10 mean ${simulated(fair)} requests`,
    `ratio meshproof / Gateway API mean requests on a healthy 80/10/10 at equal error rates: ${fairRatio.toFixed(2)} ` +
      `(at meshproof's stricter α = 1e-4 and power 0.999: ${(mean(healthy.requests) / gatewayHealthy.meanRequests).toFixed(2)})`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void benchWeightedSplit().then((lines) => {
    for (const line of lines) console.log(line);
  });
}
