import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../helpers/observe/records.ts';
import { designShareTest, stagewiseP } from '../../helpers/judge/sequential.ts';
import { planSplitSampling, type SplitExpectation } from '../../helpers/judge/split-design.ts';
import { judgeSplit, splitFailureReason } from '../../helpers/judge/split.ts';

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

describe('judgeSplit on hand-built record sets', () => {
  it('passes a healthy 80/10/10 as soon as every class has passed, and says what "consistent" rests on', () => {
    const records = interleaved({ 'reviews-v1': 800, 'reviews-v2': 100, 'reviews-v3': 100 });
    const { decision, verdict, moreRequests } = judgeSplit(CANARY, records, { final: false });
    expect(decision).toBe('pass');
    expect(moreRequests).toBeUndefined();
    expect(verdict.pass).toBe(true);
    expect(verdict.judge).toBe('weighted-split');
    expect(verdict.sentence).toBe(
      'reviews-v1 80.2 % (95 % CI 74.7–84.9 %) of 252, expected 80 %; ' +
        'reviews-v2 9.9 % (95 % CI 6.5–14.3 %) of 252, expected 10 %; ' +
        'reviews-v3 9.9 % (95 % CI 6.5–14.3 %) of 252, expected 10 %; ' +
        'consistent with 80/10/10 (a 10-point shift would have been detected with power ≥ 0.999; decided after 252 of at most 1470 requests)',
    );
    expect(verdict.figures).toMatchObject({ n: 252, records: 1000, decision: 'pass', 'reviews-v1.count': 202, 'reviews-v1.test': 'pass', 'reviews-v1.decidedAt': 252 });
  });

  it('fails a 70/20/10 mesh, naming the class that moved, with p ≤ α', () => {
    const records = interleaved({ 'reviews-v1': 700, 'reviews-v2': 200, 'reviews-v3': 100 });
    const { decision, verdict } = judgeSplit(CANARY, records, { final: false });
    expect(decision).toBe('fail');
    expect(verdict.pass).toBe(false);
    // CIs cross-checked with scipy.stats.binomtest(...).proportion_ci(method='exact').
    expect(verdict.sentence).toBe(
      'reviews-v1 70.0 % (95 % CI 63.5–75.9 %) of 223, expected 80 %; ' +
        'reviews-v2 20.2 % (95 % CI 15.1–26.1 %) of 223, expected 10 %; ' +
        'reviews-v3 9.9 % (95 % CI 6.3–14.6 %) of 223, expected 10 %; ' +
        'p = 5.5e-5 < α = 1e-4: the split differs (reviews-v2 above 10 %; decided after 223 of at most 1470 requests)',
    );
    expect(Number(verdict.figures.p)).toBeLessThanOrEqual(1e-4);
  });

  it('says what it waits for and how many more requests can change the verdict', () => {
    const records = interleaved({ 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 });
    const judgement = judgeSplit(CANARY, records, { final: false });
    expect(judgement.decision).toBe('continue');
    expect(judgement.moreRequests).toBe(20);
    expect(judgement.verdict.sentence).toMatch(/; reviews-v1, reviews-v2, reviews-v3 not yet decided after 100 requests: continue for at least 20 more \(at most 1470 in all\)$/);
    // Nothing can change in between: 19 more requests of any kind leave it undecided.
    for (const extra of ['reviews-v1', 'reviews-v2', 'reviews-v3']) {
      const more = [...records, ...Array.from({ length: 19 }, () => ok(extra))];
      expect(judgeSplit(CANARY, more, { final: false }).decision).toBe('continue');
    }
  });

  it('fails when the traffic ran out before the test decided', () => {
    const few = interleaved({ 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 });
    const cut = judgeSplit(CANARY, few, { final: true });
    expect(cut.decision).toBe('fail');
    expect(cut.verdict.sentence).toMatch(/not yet decided when the requests ran out \(100 of at most 1470\): not shown to be 80\/10\/10$/);
  });

  it('judges exactly the requests up to its decision when more records arrived', () => {
    const records = interleaved({ 'reviews-v1': 800, 'reviews-v2': 100, 'reviews-v3': 100 });
    const first = judgeSplit(CANARY, records.slice(0, 252), { final: false });
    const all = judgeSplit(CANARY, records, { final: true });
    expect(all.verdict).toEqual({ ...first.verdict, figures: { ...first.verdict.figures, records: 1000 } });
  });

  it('ends every test by maxRequests: a split that is off by 4 points is decided at the horizon at the latest', () => {
    const plan = planSplitSampling(CANARY);
    const records = interleaved({ 'reviews-v1': 1140, 'reviews-v2': 210, 'reviews-v3': 150 });
    const { decision, verdict } = judgeSplit(CANARY, records, { final: false });
    expect(decision).not.toBe('continue');
    expect(Number(verdict.figures.n)).toBeLessThanOrEqual(plan.maxRequests);
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
      /^reviews-v1 100\.0 % \(95 % CI 94\.6–100\.0 %\) of 66, expected 100 %; reviews-v2 0\.0 % \(95 % CI 0\.0–5\.4 %\) of 66, expected 0 %; consistent with 100\/0 \(a 10-point shift would have been detected with power ≥ 0\.999; decided after 66 of at most 66 requests\)$/,
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
  it('every failing count of the 50/50 test has a stagewise p within its side\'s exact false-failure rate, so a failure reads p ≤ α', () => {
    const test = designShareTest({ share: 0.5, alternatives: [0.4, 0.6], alpha: 1e-4, beta: 1e-3, maxRequests: planSplitSampling(HALVES).maxRequests, fewestToPass: 66 });
    let checked = 0;
    for (let n = 1; n <= test.spec.maxRequests; n += 7) {
      // The least extreme failing count on each side has the largest p of that side at n.
      const low = test.rejectAtOrBelow[n]!;
      const high = test.rejectAtOrAbove[n]!;
      if (low >= 0) {
        expect(stagewiseP(test, n, low, 'below'), `n = ${n}`).toBeLessThanOrEqual(test.healthy.failBelow * (1 + 1e-9));
        checked++;
      }
      if (high <= n) {
        expect(stagewiseP(test, n, high, 'above'), `n = ${n}`).toBeLessThanOrEqual(test.healthy.failAbove * (1 + 1e-9));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
  });
});
