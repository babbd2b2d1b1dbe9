/**
 * Monte Carlo check of the weighted-split judge: simulate healthy and broken meshes with a seeded PRNG, run the
 * per-request procedure (the judge's own SplitProgress, fed one simulated request at a time) and MEASURE what
 * the design promises and what the exact computation says:
 *
 *  - false failures on healthy meshes ≤ α. At α = 1e-4 a few thousand runs can only show "hardly any failures",
 *    so the same procedure also runs at α = 0.05 and 0.01, where the rate is measurable; the check is that the
 *    data do not show a rate above α (the exact one-sided 99.9 % lower confidence bound is ≤ α).
 *  - detection on meshes shifted by 10 points ≥ 0.999 at α = 1e-4. With R runs a procedure of power exactly
 *    0.999 misses Binomial(R, 0.001) times; the check is that the misses seen are not significantly more
 *    (upper-tail probability ≥ 1e-3), and, where the exact figure exists, that the simulation agrees with it.
 *  - the mean number of requests on a healthy mesh: 80/10/10 at most 320 (the 99.9 % upper confidence bound of
 *    the simulated mean), and 50/50 agreeing with its exact figure.
 *  - that judgeSplit on request records, sent in the batches it asks for, decides exactly as the procedure does.
 *
 * Seeds are fixed, so the figures below reproduce exactly; the statistical margins say they are not luck.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { binomialUpperTail, clopperPearsonLower, clopperPearsonUpper } from '../../helpers/judge/statistics.ts';
import { classExpectedRequests, classRejectionProbability, type SplitExpectation } from '../../helpers/judge/split-design.ts';
import {
  mean,
  percentile,
  simulateSequential,
  simulateThroughJudge,
  standardError,
  type SimulatedMesh,
  type SimulationResult,
} from '../../bench/weighted-split.ts';

const RUNS = 4000;
const CANARY = { 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 };
const HALVES = { 'reviews-v1': 50, 'reviews-v3': 50 };
const ALL_V1 = { 'reviews-v1': 100, 'reviews-v2': 0 };
/** One-sided 99.9 % normal quantile, for the confidence bound of a simulated mean. */
const Z_999 = 3.09;

interface Row {
  scenario: string;
  alpha: number;
  result: SimulationResult;
  seconds: number;
}
const rows: Row[] = [];

let seed = 20_260_901;
function run(scenario: string, weights: Record<string, number>, mesh: SimulatedMesh, alpha: number, runs = RUNS): SimulationResult {
  const started = performance.now();
  const expectation: SplitExpectation = { weights, alpha };
  const result = simulateSequential(expectation, mesh, runs, seed++);
  rows.push({ scenario, alpha, result, seconds: (performance.now() - started) / 1000 });
  return result;
}

/** The data do not show a false-failure rate above α: the 99.9 % lower confidence bound is ≤ α. */
function expectWithinBudget(result: SimulationResult, alpha: number): void {
  expect(clopperPearsonLower(result.failed, result.runs, 0.999)).toBeLessThanOrEqual(alpha);
}

/** The misses are what a power-0.999 procedure could produce: P(Binomial(R, 0.001) ≥ misses) ≥ 1e-3. */
function expectPower(result: SimulationResult, power = 0.999): void {
  const misses = result.runs - result.failed;
  expect(binomialUpperTail(misses, result.runs, 1 - power)).toBeGreaterThanOrEqual(1e-3);
}

/** Simulation and exact computation agree within 4 standard errors. */
function expectAgreement(result: SimulationResult, exact: number): void {
  const measured = result.failed / result.runs;
  const se = Math.sqrt(Math.max(exact * (1 - exact), 1 / result.runs) / result.runs);
  expect(Math.abs(measured - exact)).toBeLessThanOrEqual(4 * se);
}

describe('Monte Carlo: healthy meshes are not failed more often than α, and need few requests', () => {
  it('at α = 1e-4: 80/10/10 averages at most 320 requests, 50/50 its exact 455, 100/0 exactly 66', () => {
    const canary = run('healthy 80/10/10', CANARY, { shares: CANARY }, 1e-4, 3 * RUNS);
    expectWithinBudget(canary, 1e-4);
    expect(canary.failed).toBeLessThanOrEqual(3); // P(≥ 4 | 12,000 runs, rate 1e-4) = 0.034 even at the full budget
    expect(mean(canary.requests) + Z_999 * standardError(canary.requests)).toBeLessThanOrEqual(320);

    const halves = run('healthy 50/50', HALVES, { shares: HALVES }, 1e-4);
    expectWithinBudget(halves, 1e-4);
    const exactMean = classExpectedRequests({ weights: HALVES }, 'reviews-v1', 50);
    expect(Math.abs(mean(halves.requests) - exactMean)).toBeLessThanOrEqual(4 * standardError(halves.requests));

    const certain = run('healthy 100/0', ALL_V1, { shares: ALL_V1 }, 1e-4);
    expect(certain.failed).toBe(0);
    expect(new Set(certain.requests)).toEqual(new Set([66]));
  });

  it('at α = 0.05 and 0.01, where the rate is measurable: within budget, and 50/50 matches the exact size', () => {
    for (const alpha of [0.05, 0.01]) {
      const canary = run('healthy 80/10/10', CANARY, { shares: CANARY }, alpha);
      expectWithinBudget(canary, alpha);
      const halves = run('healthy 50/50', HALVES, { shares: HALVES }, alpha);
      expectWithinBudget(halves, alpha);
      // A two-way split is one sequential test, so its false-failure rate has an exact value to compare with.
      expectAgreement(halves, classRejectionProbability({ weights: HALVES, alpha }, 'reviews-v1', 50));
    }
  });
});

describe('Monte Carlo: meshes shifted by 10 points are failed with power ≥ 0.999 at α = 1e-4', () => {
  it('70/15/15 (the hardest), 70/20/10 and 90/5/5 against 80/10/10', () => {
    expectPower(run('70/15/15 vs 80/10/10', CANARY, { shares: { 'reviews-v1': 70, 'reviews-v2': 15, 'reviews-v3': 15 } }, 1e-4));
    expectPower(run('70/20/10 vs 80/10/10', CANARY, { shares: { 'reviews-v1': 70, 'reviews-v2': 20, 'reviews-v3': 10 } }, 1e-4));
    expectPower(run('90/5/5 vs 80/10/10', CANARY, { shares: { 'reviews-v1': 90, 'reviews-v2': 5, 'reviews-v3': 5 } }, 1e-4));
  });

  it('60/40 against 50/50, matching the exact power of the design', () => {
    const result = run('60/40 vs 50/50', HALVES, { shares: { 'reviews-v1': 60, 'reviews-v3': 40 } }, 1e-4);
    expectPower(result);
    expectAgreement(result, classRejectionProbability({ weights: HALVES }, 'reviews-v1', 60));
  });

  it('5 % of requests failing, and 10 % leaking to a weight-0 class', () => {
    const failing = run('80/10/10, 5 % fail', CANARY, { shares: CANARY, failureRate: 0.05 }, 1e-4);
    expect(failing.failed).toBe(failing.runs);
    const leaking = run('90/10 vs 100/0', ALL_V1, { shares: { 'reviews-v1': 90, 'reviews-v2': 10 } }, 1e-4);
    expectPower(leaking);
  });
});

describe('judgeSplit on records decides as the procedure does', () => {
  it('run for run, on the same simulated requests sent in the batches the judge asks for', () => {
    for (const [weights, shares] of [
      [CANARY, CANARY],
      [CANARY, { 'reviews-v1': 72, 'reviews-v2': 18, 'reviews-v3': 10 }],
      [HALVES, { 'reviews-v1': 55, 'reviews-v3': 45 }],
    ] as const) {
      const direct = simulateSequential({ weights }, { shares }, 20, 77);
      const judged = simulateThroughJudge({ weights }, { shares }, 20, 77);
      // Batches never overshoot the decision, so both see the same stream and stop at the same request.
      expect(judged).toEqual(direct);
    }
  });
});

afterAll(() => {
  const pad = (s: string, n: number) => s.padEnd(n);
  const lines = [
    `${pad('scenario', 24)}${pad('α', 8)}${pad('runs', 7)}${pad('failed', 8)}${pad('rate', 9)}${pad('99.9 % CI', 19)}${pad('mean n ± s.e.', 15)}${pad('p95 n', 7)}s`,
  ];
  for (const { scenario, alpha, result, seconds } of rows) {
    const rate = result.failed / result.runs;
    const ci = `${clopperPearsonLower(result.failed, result.runs, 0.999).toFixed(4)}–${clopperPearsonUpper(result.failed, result.runs, 0.999).toFixed(4)}`;
    lines.push(
      `${pad(scenario, 24)}${pad(String(alpha), 8)}${pad(String(result.runs), 7)}${pad(String(result.failed), 8)}` +
        `${pad(rate.toFixed(4), 9)}${pad(ci, 19)}${pad(`${mean(result.requests).toFixed(0)} ± ${standardError(result.requests).toFixed(1)}`, 15)}` +
        `${pad(String(percentile(result.requests, 0.95)), 7)}${seconds.toFixed(1)}`,
    );
  }
  console.log(`weighted-split Monte Carlo (failed = false failures on healthy rows, detections on the others)\n${lines.join('\n')}`);
});
