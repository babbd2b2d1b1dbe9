/**
 * Monte Carlo check of the weighted-split judge: simulate healthy and broken meshes with a seeded PRNG, run the
 * full sequential procedure (judgeSplit at every planned look) and MEASURE what the design promises:
 *
 *  - false failures on healthy meshes ≤ α. At α = 1e-4 a few thousand runs can only show "no failures", so the
 *    same procedure also runs at α = 0.05 and 0.01, where the rate is measurable; the check is that the data do
 *    not show a rate above α (the exact one-sided 99.9 % lower confidence bound is ≤ α).
 *  - detection on meshes shifted by 10 points ≥ 0.999 at α = 1e-4. With R runs a procedure of power exactly
 *    0.999 misses Binomial(R, 0.001) times; the check is that the misses seen are not significantly more
 *    (upper-tail probability ≥ 1e-3), and, where the exact figure exists, that the simulation agrees with it.
 *
 * Seeds are fixed, so the figures below reproduce exactly; the statistical margins say they are not luck.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { binomialUpperTail, clopperPearsonLower, clopperPearsonUpper } from '../../helpers/judge/statistics.ts';
import { classRejectionProbability, type SplitExpectation } from '../../helpers/judge/split.ts';
import { mean, percentile, simulateSequential, type SimulatedMesh, type SimulationResult } from '../../bench/weighted-split.ts';

const RUNS = 5000;
const CANARY = { 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 };
const HALVES = { 'reviews-v1': 50, 'reviews-v3': 50 };
const ALL_V1 = { 'reviews-v1': 100, 'reviews-v2': 0 };

interface Row {
  scenario: string;
  alpha: number;
  result: SimulationResult;
  healthy: boolean;
  seconds: number;
}
const rows: Row[] = [];

let seed = 20_260_901;
function run(scenario: string, weights: Record<string, number>, mesh: SimulatedMesh, alpha: number, healthy: boolean): SimulationResult {
  const started = performance.now();
  const expectation: SplitExpectation = { weights, alpha };
  const result = simulateSequential(expectation, mesh, RUNS, seed++);
  rows.push({ scenario, alpha, result, healthy, seconds: (performance.now() - started) / 1000 });
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

describe('Monte Carlo: healthy meshes are not failed more often than α', () => {
  it('at α = 1e-4 (80/10/10, 50/50, 100/0): no false failures', () => {
    for (const [name, weights] of [
      ['80/10/10', CANARY],
      ['50/50', HALVES],
      ['100/0', ALL_V1],
    ] as const) {
      const result = run(`healthy ${name}`, weights, { shares: weights }, 1e-4, true);
      expectWithinBudget(result, 1e-4);
      expect(result.failed).toBeLessThanOrEqual(1); // P(≥ 2 | 5000 runs, rate 1e-4) = 0.09 even at the full budget
    }
  });

  it('at α = 0.05 and 0.01, where the rate is measurable: within budget, and 50/50 matches the exact size', () => {
    for (const alpha of [0.05, 0.01]) {
      const canary = run('healthy 80/10/10', CANARY, { shares: CANARY }, alpha, true);
      expectWithinBudget(canary, alpha);
      const halves = run('healthy 50/50', HALVES, { shares: HALVES }, alpha, true);
      expectWithinBudget(halves, alpha);
      // A two-way split is one sequential test, so its false-failure rate has an exact value to compare with.
      expectAgreement(halves, classRejectionProbability({ weights: HALVES, alpha }, 'reviews-v1', 50));
    }
  });
});

describe('Monte Carlo: meshes shifted by 10 points are failed with power ≥ 0.999 at α = 1e-4', () => {
  it('70/20/10 and 90/5/5 against 80/10/10', () => {
    expectPower(run('70/20/10 vs 80/10/10', CANARY, { shares: { 'reviews-v1': 70, 'reviews-v2': 20, 'reviews-v3': 10 } }, 1e-4, false));
    expectPower(run('90/5/5 vs 80/10/10', CANARY, { shares: { 'reviews-v1': 90, 'reviews-v2': 5, 'reviews-v3': 5 } }, 1e-4, false));
  });

  it('60/40 against 50/50, matching the exact power of the design', () => {
    const result = run('60/40 vs 50/50', HALVES, { shares: { 'reviews-v1': 60, 'reviews-v3': 40 } }, 1e-4, false);
    expectPower(result);
    expectAgreement(result, classRejectionProbability({ weights: HALVES }, 'reviews-v1', 60));
  });

  it('5 % of requests failing, and 10 % leaking to a weight-0 class', () => {
    const failing = run('80/10/10, 5 % fail', CANARY, { shares: CANARY, failureRate: 0.05 }, 1e-4, false);
    expect(failing.failed).toBe(failing.runs);
    const leaking = run('90/10 vs 100/0', ALL_V1, { shares: { 'reviews-v1': 90, 'reviews-v2': 10 } }, 1e-4, false);
    expectPower(leaking);
  });
});

afterAll(() => {
  const pad = (s: string, n: number) => s.padEnd(n);
  const lines = [
    `${pad('scenario', 24)}${pad('α', 8)}${pad('runs', 6)}${pad('failed', 8)}${pad('rate', 9)}${pad('99.9 % CI', 19)}${pad('mean n', 8)}${pad('p95 n', 7)}s`,
  ];
  for (const { scenario, alpha, result, seconds } of rows) {
    const rate = result.failed / result.runs;
    const ci = `${clopperPearsonLower(result.failed, result.runs, 0.999).toFixed(4)}–${clopperPearsonUpper(result.failed, result.runs, 0.999).toFixed(4)}`;
    lines.push(
      `${pad(scenario, 24)}${pad(String(alpha), 8)}${pad(String(result.runs), 6)}${pad(String(result.failed), 8)}` +
        `${pad(rate.toFixed(4), 9)}${pad(ci, 19)}${pad(mean(result.requests).toFixed(0), 8)}` +
        `${pad(String(percentile(result.requests, 0.95)), 7)}${seconds.toFixed(1)}`,
    );
  }
  console.log(`weighted-split Monte Carlo (failed = false failures on healthy rows, detections on the others)\n${lines.join('\n')}`);
});
