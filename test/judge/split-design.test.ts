import { describe, expect, it } from 'vitest';
import { designShareTest } from '../../helpers/judge/sequential.ts';
import { classExpectedRequests, classRejectionProbability, fixedSampleRequests, planSplitSampling, type SplitExpectation } from '../../helpers/judge/split-design.ts';

const CANARY: SplitExpectation = { weights: { 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 } };
const HALVES: SplitExpectation = { weights: { 'reviews-v1': 50, 'reviews-v3': 50 } };
const ALL_V1: SplitExpectation = { weights: { 'reviews-v1': 100, 'reviews-v2': 0 } };

describe('planSplitSampling', () => {
  it('plans 80/10/10 at α = 1e-4 for a 10-point shift at power ≥ 0.999, with exact figures per class', () => {
    const plan = planSplitSampling(CANARY);
    // Regression anchors: these follow from the design; a change here changes every canary run's cost.
    expect(plan.fixedSampleSize).toBe(978);
    expect(plan.maxRequests).toBe(1470); // 1.5 × 978, rounded up to 10
    expect(plan.fewestToPass).toBeGreaterThanOrEqual(66);
    expect(plan.multiplicity).toBe(3);
    expect(plan.achievedPower).toBeGreaterThanOrEqual(0.999);
    expect(plan.falseFailureBound).toBeLessThanOrEqual(1e-4);
    expect(plan.falseFailureBound).toBeGreaterThan(0.5e-4); // the budget is used, not wasted
    // Each class's test alone is near the one-count limit (297 for 80 % against 70 % and 90 %).
    expect(plan.classes['reviews-v1']!.expectedRequests).toBeLessThan(300);
    expect(plan.classes['reviews-v2']!.expectedRequests).toBeLessThan(190);
  });

  it('gives every class exact power ≥ 0.999 against ±10 points and a false-failure rate ≤ α/3', () => {
    const cases: [string, number, number][] = [
      ['reviews-v1', 70, 90],
      ['reviews-v2', 0, 20],
      ['reviews-v3', 0, 20],
    ];
    for (const [name, below, above] of cases) {
      expect(classRejectionProbability(CANARY, name, below)).toBeGreaterThanOrEqual(0.999);
      expect(classRejectionProbability(CANARY, name, above)).toBeGreaterThanOrEqual(0.999);
      const healthy = classRejectionProbability(CANARY, name, name === 'reviews-v1' ? 80 : 10);
      expect(healthy).toBeLessThanOrEqual(1e-4 / 3);
    }
  });

  it('detects bigger shifts at least as often as the minimum one (power is monotone in the shift)', () => {
    const v1 = [55, 60, 65, 70].map((s) => classRejectionProbability(CANARY, 'reviews-v1', s));
    const v1up = [90, 93, 96, 100].map((s) => classRejectionProbability(CANARY, 'reviews-v1', s));
    expect([...v1].reverse()).toEqual([...v1].sort((a, b) => a - b));
    expect(v1up).toEqual([...v1up].sort((a, b) => a - b));
    const small = [75, 78, 80].map((s) => classRejectionProbability(CANARY, 'reviews-v1', s));
    expect(small[0]).toBeGreaterThan(small[1] ?? 1); // a 5-point shift is caught more often than 2 …
    expect(small[1]).toBeGreaterThan(small[2] ?? 1); // … and 2 more often than none
  });

  it('counts a two-way split once, and states its exact mean: 455 requests, within a request of the one-count limit', () => {
    const halves = planSplitSampling(HALVES);
    expect(halves.multiplicity).toBe(1);
    expect(halves.fixedSampleSize).toBe(1215);
    expect(classRejectionProbability(HALVES, 'reviews-v1', 40)).toBeGreaterThanOrEqual(0.999);
    expect(classRejectionProbability(HALVES, 'reviews-v1', 60)).toBeGreaterThanOrEqual(0.999);
    expect(classRejectionProbability(HALVES, 'reviews-v3', 60)).toBeCloseTo(classRejectionProbability(HALVES, 'reviews-v1', 40), 12);
    expect(halves.falseFailureBound).toBeLessThanOrEqual(1e-4);
    const mean = classExpectedRequests(HALVES, 'reviews-v1', 50);
    expect(mean).toBeGreaterThan(450);
    expect(mean).toBeLessThan(456);
    // Twice the horizon buys less than a request: the truncation is not what keeps 50/50 above 430.
    const longer = designShareTest({ share: 0.5, alternatives: [0.4, 0.6], alpha: 1e-4, beta: 1e-3, maxRequests: 2 * halves.maxRequests, fewestToPass: 66 });
    expect(mean - longer.healthy.expectedRequests).toBeLessThan(1);
    expect(longer.healthy.expectedRequests).toBeGreaterThan(450);
  });

  it('judges a 100/0 split on the 66 requests that see a 10-point leak with probability ≥ 0.999', () => {
    const certain = planSplitSampling(ALL_V1);
    // 0.9^66 = 9.6e-4 ≤ 0.001 < 0.9^65: the fewest requests that see a 10-point leak with probability ≥ 0.999.
    expect(certain.maxRequests).toBe(66);
    expect(certain.fewestToPass).toBe(66);
    expect(certain.achievedPower).toBeCloseTo(1 - Math.pow(0.9, 66), 12);
    expect(certain.falseFailureBound).toBe(0);
  });

  it('needs fewer requests for a looser α or a bigger shift, more for a smaller one', () => {
    const base = planSplitSampling(CANARY).fixedSampleSize;
    expect(planSplitSampling({ ...CANARY, alpha: 0.05 }).fixedSampleSize).toBeLessThan(base);
    expect(planSplitSampling({ ...CANARY, minShiftPoints: 20 }).fixedSampleSize).toBeLessThan(base / 2);
    expect(fixedSampleRequests(0.8, [0.75, 0.85], 1e-4 / 3, 0.999)).toBeGreaterThan(base * 3);
  });

  it('refuses weights that are not a split, saying what is wrong', () => {
    expect(() => planSplitSampling({ weights: { a: 80, b: 10 } })).toThrow(/sum to 100/);
    expect(() => planSplitSampling({ weights: { a: 110, b: -10 } })).toThrow(/between 0 and 100/);
    expect(() => planSplitSampling({ weights: {} })).toThrow(/at least one class/);
    expect(() => planSplitSampling({ ...CANARY, alpha: 0 })).toThrow(/alpha/);
  });
});
