import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../helpers/observe/records.ts';
import { formatP, pIs } from '../../helpers/judge/statistics.ts';
import {
  classRejectionProbability,
  judgeSplit,
  planSplitSampling,
  splitFailureReason,
  type SplitExpectation,
} from '../../helpers/judge/split.ts';

const CANARY: SplitExpectation = { weights: { 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 } };
const HALVES: SplitExpectation = { weights: { 'reviews-v1': 50, 'reviews-v3': 50 } };
const ALL_V1: SplitExpectation = { weights: { 'reviews-v1': 100, 'reviews-v2': 0 } };

const ok = (classification: string): RequestRecord => ({ startedAt: 0, latencyMs: 20, status: 200, classification });

/** Records with exactly these class counts, interleaved so that every prefix is as close to proportional as possible. */
function interleaved(counts: Record<string, number>): RequestRecord[] {
  const entries = Object.entries(counts);
  const total = entries.reduce((a, [, c]) => a + c, 0);
  const used = new Map(entries.map(([name]) => [name, 0]));
  const out: RequestRecord[] = [];
  for (let i = 1; i <= total; i++) {
    let best = '';
    let deficit = -Infinity;
    for (const [name, c] of entries) {
      const d = (c * i) / total - (used.get(name) ?? 0);
      if (d > deficit && (used.get(name) ?? 0) < c) {
        best = name;
        deficit = d;
      }
    }
    used.set(best, (used.get(best) ?? 0) + 1);
    out.push(ok(best));
  }
  return out;
}

describe('planSplitSampling', () => {
  it('sizes 80/10/10 at α = 1e-4 for a 10-point shift at power ≥ 0.999, with five looks', () => {
    const plan = planSplitSampling(CANARY);
    // Regression anchor: these follow from the design constants; a change here changes every canary run's cost.
    expect(plan.looks).toEqual([320, 510, 700, 880, 1070]);
    expect(plan.maxRequests).toBe(1070);
    expect(plan.multiplicity).toBe(3);
    expect(plan.achievedPower).toBeGreaterThanOrEqual(0.999);
    expect(plan.falseFailureBound).toBeLessThanOrEqual(1e-4);
    expect(plan.falseFailureBound).toBeGreaterThan(0.5e-4); // the budget is used, not wasted
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

  it('counts a two-way split once (its two class tests are one test) and a 100/0 split needs 66 requests', () => {
    const halves = planSplitSampling(HALVES);
    expect(halves.multiplicity).toBe(1);
    expect(classRejectionProbability(HALVES, 'reviews-v1', 40)).toBeGreaterThanOrEqual(0.999);
    expect(classRejectionProbability(HALVES, 'reviews-v1', 60)).toBeGreaterThanOrEqual(0.999);
    expect(halves.falseFailureBound).toBeLessThanOrEqual(1e-4);

    const certain = planSplitSampling(ALL_V1);
    // 0.9^66 = 9.6e-4 ≤ 0.001 < 0.9^65: the fewest requests that see a 10-point leak with probability ≥ 0.999.
    expect(certain.looks).toEqual([66]);
    expect(certain.achievedPower).toBeCloseTo(1 - Math.pow(0.9, 66), 12);
    expect(certain.falseFailureBound).toBe(0);
  });

  it('needs fewer requests for a looser α or a bigger shift, more for a smaller one', () => {
    const base = planSplitSampling(CANARY).maxRequests;
    expect(planSplitSampling({ ...CANARY, alpha: 0.05 }).maxRequests).toBeLessThan(base);
    expect(planSplitSampling({ ...CANARY, minShiftPoints: 20 }).maxRequests).toBeLessThan(base / 2);
    expect(planSplitSampling({ ...CANARY, minShiftPoints: 5 }).maxRequests).toBeGreaterThan(base * 3);
  });

  it('refuses weights that are not a split, saying what is wrong', () => {
    expect(() => planSplitSampling({ weights: { a: 80, b: 10 } })).toThrow(/sum to 100/);
    expect(() => planSplitSampling({ weights: { a: 110, b: -10 } })).toThrow(/between 0 and 100/);
    expect(() => planSplitSampling({ weights: {} })).toThrow(/at least one class/);
    expect(() => planSplitSampling({ ...CANARY, alpha: 0 })).toThrow(/alpha/);
  });
});

describe('judgeSplit on hand-built record sets', () => {
  it('passes a healthy 80/10/10 at the first look and says what "consistent" means', () => {
    const records = interleaved({ 'reviews-v1': 256, 'reviews-v2': 32, 'reviews-v3': 32 });
    const { decision, verdict } = judgeSplit(CANARY, records, { final: false });
    expect(decision).toBe('pass');
    expect(verdict.pass).toBe(true);
    expect(verdict.judge).toBe('weighted-split');
    expect(verdict.sentence).toBe(
      'reviews-v1 80.0 % (95 % CI 75.2–84.2 %) of 320, expected 80 %; ' +
        'reviews-v2 10.0 % (95 % CI 6.9–13.8 %) of 320, expected 10 %; ' +
        'reviews-v3 10.0 % (95 % CI 6.9–13.8 %) of 320, expected 10 %; ' +
        'p = 1 ≥ α = 1e-4: consistent with 80/10/10 ' +
        '(a 10-point shift would have been detected with power ≥ 0.999; look 1 of 5)',
    );
    expect(verdict.figures).toMatchObject({ n: 320, look: 1, decision: 'pass', 'reviews-v1.count': 256 });
  });

  it('fails a 70/20/10 mesh at the first look, naming the class that moved', () => {
    const records = interleaved({ 'reviews-v1': 224, 'reviews-v2': 64, 'reviews-v3': 32 });
    const { decision, verdict } = judgeSplit(CANARY, records, { final: false });
    expect(decision).toBe('fail');
    expect(verdict.pass).toBe(false);
    // CIs cross-checked with scipy.stats.binomtest(...).proportion_ci(method='exact').
    expect(verdict.sentence).toBe(
      'reviews-v1 70.0 % (95 % CI 64.7–75.0 %) of 320, expected 80 %; ' +
        'reviews-v2 20.0 % (95 % CI 15.8–24.8 %) of 320, expected 10 %; ' +
        'reviews-v3 10.0 % (95 % CI 6.9–13.8 %) of 320, expected 10 %; ' +
        'p = 4e-7 < α = 1e-4: the split differs (reviews-v2 above 10 %; look 1 of 5)',
    );
  });

  it('fails a milder 72/18/10 mesh at the second look, after an undecided first one', () => {
    const records = interleaved({ 'reviews-v1': 367, 'reviews-v2': 92, 'reviews-v3': 51 });
    expect(judgeSplit(CANARY, records.slice(0, 320), { final: false }).decision).toBe('continue');
    const { decision, verdict } = judgeSplit(CANARY, records, { final: false });
    expect(decision).toBe('fail');
    expect(verdict.sentence).toBe(
      'reviews-v1 72.0 % (95 % CI 67.8–75.8 %) of 510, expected 80 %; ' +
        'reviews-v2 18.0 % (95 % CI 14.8–21.7 %) of 510, expected 10 %; ' +
        'reviews-v3 10.0 % (95 % CI 7.5–12.9 %) of 510, expected 10 %; ' +
        'p = 2.1e-6 < α = 1e-4: the split differs (reviews-v2 above 10 %; look 2 of 5)',
    );
    expect(Number(verdict.figures.p)).toBeLessThan(1e-4);
  });

  it('explains an undecided look, including why a small p does not fail yet', () => {
    const records = interleaved({ 'reviews-v1': 232, 'reviews-v2': 56, 'reviews-v3': 32 });
    const { decision, verdict } = judgeSplit(CANARY, records, { final: false });
    expect(decision).toBe('continue');
    expect(verdict.sentence).toMatch(/at look 1 of 5: not yet decisive \(failing this early needs p ≤ [0-9.e-]+, α = 1e-4 at the last look; passing early needs every share near its weight\), continue to 510 requests$/);
  });

  it('waits for the first look, and fails when the traffic ran out before the plan did', () => {
    const few = interleaved({ 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 });
    expect(judgeSplit(CANARY, few, { final: false })).toMatchObject({ decision: 'continue' });
    expect(judgeSplit(CANARY, few, { final: false }).verdict.sentence).toMatch(/first look at 320 requests: continue$/);
    const cut = judgeSplit(CANARY, few, { final: true });
    expect(cut.decision).toBe('fail');
    expect(cut.verdict.sentence).toMatch(/only 100 of the planned 1070 requests arrived, fewer than the first look at 320: not shown to be 80\/10\/10$/);
    const midway = interleaved({ 'reviews-v1': 232, 'reviews-v2': 56, 'reviews-v3': 32 });
    expect(judgeSplit(CANARY, midway, { final: true }).verdict.sentence).toMatch(/only 320 of the planned 1070 requests arrived: not shown to be 80\/10\/10$/);
  });

  it('judges exactly the planned prefix when more records arrived than the look needs', () => {
    const records = interleaved({ 'reviews-v1': 320, 'reviews-v2': 40, 'reviews-v3': 40 });
    const { verdict } = judgeSplit(CANARY, records, { final: false });
    expect(verdict.figures).toMatchObject({ n: 320, records: 400, look: 1 });
  });

  it('fails at once when requests fail, and says that requests failed rather than that the split differs', () => {
    const records = interleaved({ 'reviews-v1': 76, 'reviews-v2': 10, 'reviews-v3': 9 });
    records.push({ startedAt: 0, latencyMs: 3, status: 503, body: 'no healthy upstream' }, { startedAt: 0, latencyMs: 3, status: 503 });
    records.push({ startedAt: 0, latencyMs: 3, status: 503, classification: 'reviews-v1' });
    records.push({ startedAt: 0, latencyMs: 30000, status: 0, error: 'ECONNRESET' }, { startedAt: 0, latencyMs: 3, status: 200 });
    const { decision, verdict } = judgeSplit(CANARY, records, { final: false });
    expect(decision).toBe('fail');
    expect(verdict.sentence).toMatch(
      /^5 of 100 requests failed or were unclassified \(2× HTTP 503, 1× HTTP 503 UH, 1× connection reset after it was accepted \(ECONNRESET\), 1× unclassified\): #96 HTTP 503 UH in 3 ms; #97 HTTP 503 in 3 ms; #98 HTTP 503 reviews-v1 in 3 ms, and 2 more; of the others: reviews-v1 76\.0 % \(95 % CI/,
    );
    expect(verdict.sentence).toMatch(/requests failed, so the split is not shown \(a failed request reaches no version of 80\/10\/10: p = 0 < α = 1e-4\)$/);
    expect(verdict.sentence).not.toContain('the split differs');
    expect(verdict.figures.p).toBe(0);
  });

  it('fails on traffic to a weight-0 class or a class outside the split, even on a 100/0 split', () => {
    const leak = [...Array.from({ length: 65 }, () => ok('reviews-v1')), ok('reviews-v2')];
    const leaked = judgeSplit(ALL_V1, leak, { final: false });
    expect(leaked.decision).toBe('fail');
    expect(leaked.verdict.sentence).toContain('1 went to weight-0 classes (1× reviews-v2)');

    const stray = [...interleaved({ 'reviews-v1': 50, 'reviews-v3': 49 }), ok('reviews-v4')];
    const strayed = judgeSplit(HALVES, stray, { final: false });
    expect(strayed.decision).toBe('fail');
    expect(strayed.verdict.sentence).toContain('1 went to classes outside the split (1× reviews-v4)');

    const clean = judgeSplit(ALL_V1, leak.slice(0, 65).concat(ok('reviews-v1')), { final: false });
    expect(clean.decision).toBe('pass');
    expect(clean.verdict.sentence).toMatch(
      /^reviews-v1 100\.0 % \(95 % CI 94\.6–100\.0 %\) of 66, expected 100 %; reviews-v2 0\.0 % \(95 % CI 0\.0–5\.4 %\) of 66, expected 0 %; p = 1 ≥ α = 1e-4: consistent with 100\/0/,
    );
  });

  it('names what made a record fail the split', () => {
    expect(splitFailureReason({ startedAt: 0, latencyMs: 1, status: 200, classification: 'x' })).toBeNull();
    expect(splitFailureReason({ startedAt: 0, latencyMs: 1, status: 0, error: 'timeout after 30 s' })).toBe('timeout after 30 s');
    expect(splitFailureReason({ startedAt: 0, latencyMs: 1, status: 0 })).toBe('no response');
    expect(splitFailureReason({ startedAt: 0, latencyMs: 1, status: 404, classification: 'x' })).toBe('HTTP 404');
    expect(splitFailureReason({ startedAt: 0, latencyMs: 1, status: 200, classification: '' })).toBe('unclassified');
  });
});

describe('the sentence never contradicts the decision', () => {
  it('for every possible count of a 50/50 split at every look: fail ⇔ p below the look threshold, and a decision reads p against α', () => {
    const plan = planSplitSampling(HALVES);
    let decided = 0;
    for (const n of plan.looks) {
      const records = Array.from({ length: n }, () => ok('reviews-v3'));
      for (let x = 0; x <= n; x++) {
        if (x > 0) records[x - 1] = ok('reviews-v1');
        const { decision, verdict } = judgeSplit(HALVES, records, { final: false });
        const p = Number(verdict.figures.p);
        const threshold = Number(verdict.figures.failThreshold);
        expect(decision === 'fail', `n = ${n}, x = ${x}`).toBe(p <= threshold);
        if (decision === 'fail') {
          expect(p).toBeLessThan(1e-4);
          expect(verdict.sentence).toContain(`${pIs(p)} < α = 1e-4: the split differs`);
        }
        if (decision === 'pass') {
          expect(p).toBeGreaterThan(1e-4);
          expect(verdict.sentence).toContain(`${pIs(p)} ≥ α = 1e-4: consistent with 50/50`);
        }
        if (decision !== 'continue') decided++;
      }
    }
    expect(decided).toBeGreaterThan(plan.maxRequests); // every count at the last look is decided
  });
});
