import { describe, expect, it } from 'vitest';
import {
  binomialUpperTail,
  clopperPearson,
  clopperPearsonLower,
  clopperPearsonUpper,
  exactBinomialTest,
  formatP,
  formatPercent,
} from '../../helpers/judge/statistics.ts';
import type { RequestRecord } from '../../helpers/observe/records.ts';
import {
  judgeAllMatch,
  judgeLatency,
  judgeRate,
  nearestRank,
  planRateSampling,
  rateTestPower,
} from '../../helpers/judge/rates.ts';

describe('exact binomial test', () => {
  it("matches R's binom.test on Mendel's peas (682 of 925 against 3/4, the example in R's ?binom.test)", () => {
    // R: binom.test(c(682, 243), p = 3/4) → p-value = 0.3825, 95 % CI 0.7076683 0.7654066
    const r = exactBinomialTest(682, 925, 0.75);
    expect(r.pValue).toBeCloseTo(0.3825, 4);
    expect(r.ci[0]).toBeCloseTo(0.7076683, 6);
    expect(r.ci[1]).toBeCloseTo(0.7654066, 6);
    expect(r.estimate).toBeCloseTo(682 / 925, 12);
  });

  it('gives p = 0.0017305 for 550 of 1000 against 1/2, the exact tail sum', () => {
    // 2·Σ_{k≥550} C(1000,k)/2^1000 = 0.00173053608497632 (summed in exact rational arithmetic); R's
    // binom.test(550, 1000) prints the same p-value = 0.001731 and 95 % CI 0.5185565 0.5811483. (The figure
    // 0.001617 sometimes quoted for this case is not what binom.test returns.)
    const r = exactBinomialTest(550, 1000, 0.5);
    expect(r.pValue).toBeCloseTo(0.00173053608497632, 10);
    expect(r.ci[0]).toBeCloseTo(0.5185565, 6);
    expect(r.ci[1]).toBeCloseTo(0.5811483, 6);
  });

  it('is a certainty at p0 = 0 or 1: any deviation is p = 0, none is p = 1', () => {
    expect(exactBinomialTest(0, 50, 0).pValue).toBe(1);
    expect(exactBinomialTest(1, 50, 0).pValue).toBe(0);
    expect(exactBinomialTest(50, 50, 1).pValue).toBe(1);
    expect(exactBinomialTest(49, 50, 1).pValue).toBe(0);
  });

  it('supports one-sided alternatives with precise tiny tails', () => {
    // P(X ≤ 2 | n = 10, p = 0.5) = 56/1024; P(X ≥ 8) = 56/1024
    expect(exactBinomialTest(2, 10, 0.5, { alternative: 'less' }).pValue).toBeCloseTo(56 / 1024, 12);
    expect(exactBinomialTest(8, 10, 0.5, { alternative: 'greater' }).pValue).toBeCloseTo(56 / 1024, 12);
    // P(X ≥ 100 | n = 100, p = 0.5) = 2^-100 ≈ 7.9e-31: survives, where 1 − cdf would round to 0.
    expect(binomialUpperTail(100, 100, 0.5)).toBeCloseTo(Math.pow(2, -100), 40);
    expect(binomialUpperTail(100, 100, 0.5)).toBeGreaterThan(0);
  });

  it('rejects impossible inputs with a message', () => {
    expect(() => exactBinomialTest(11, 10, 0.5)).toThrow(/successes/);
    expect(() => exactBinomialTest(1, 10, 1.5)).toThrow(/probability/);
  });
});

describe('Clopper–Pearson', () => {
  it('has the closed forms at the edges: 0 of n → [0, 1 − (α/2)^(1/n)], n of n → [(α/2)^(1/n), 1]', () => {
    expect(clopperPearson(0, 10)).toEqual([0, expect.closeTo(1 - Math.pow(0.025, 1 / 10), 12)]);
    expect(clopperPearson(10, 10)[0]).toBeCloseTo(Math.pow(0.025, 1 / 10), 12);
    expect(clopperPearson(10, 10)[1]).toBe(1);
    expect(clopperPearson(0, 0)).toEqual([0, 1]);
  });

  it('one-sided bounds: 0 failures in 3000 runs → rate ≤ 1 − 0.001^(1/3000) at 99.9 %', () => {
    expect(clopperPearsonUpper(0, 3000, 0.999)).toBeCloseTo(1 - Math.pow(0.001, 1 / 3000), 12);
    expect(clopperPearsonLower(0, 3000, 0.999)).toBe(0);
    expect(clopperPearsonLower(3000, 3000, 0.999)).toBeCloseTo(Math.pow(0.001, 1 / 3000), 12);
  });
});

describe('formatting', () => {
  it('writes p and α the way sentences quote them', () => {
    expect(formatP(0.41)).toBe('0.41');
    expect(formatP(0.0017305)).toBe('0.0017');
    expect(formatP(1e-4)).toBe('1e-4');
    expect(formatP(3.04e-6)).toBe('3e-6');
    expect(formatP(3.24e-6)).toBe('3.2e-6');
    expect(formatP(0.05)).toBe('0.05');
    expect(formatP(1)).toBe('1');
    expect(formatP(0)).toBe('0');
    expect(formatP(1e-20)).toBe('< 1e-15');
    expect(formatPercent(0.712)).toBe('71.2 %');
    expect(formatPercent(0.6662, false)).toBe('66.6');
  });
});

// The rate judges are thin layers over the tests above, so their self-tests live here.
const rec = (status: number, classification?: string, latencyMs = 20): RequestRecord => ({
  startedAt: 0,
  latencyMs,
  status,
  ...(classification === undefined ? {} : { classification }),
});

describe('judgeAllMatch', () => {
  const servedByV2 = (r: RequestRecord) => r.classification === 'reviews-v2';

  it('passes when every request matches', () => {
    const v = judgeAllMatch(Array.from({ length: 50 }, () => rec(200, 'reviews-v2')), servedByV2, 'requests by jason served by reviews-v2');
    expect(v).toMatchObject({ pass: true, judge: 'all-match', figures: { n: 50, exceptions: 0 } });
    expect(v.sentence).toBe('requests by jason served by reviews-v2: all 50 of 50 requests');
  });

  it('counts the exceptions and shows the first three', () => {
    const records = Array.from({ length: 50 }, () => rec(200, 'reviews-v2'));
    records[3] = rec(200, 'reviews-v1', 12);
    records[16] = rec(200, 'reviews-v3', 1500);
    records[30] = { startedAt: 0, latencyMs: 30000, status: 0, error: 'timeout after 30 s' };
    records[40] = rec(503, undefined, 4);
    const v = judgeAllMatch(records, servedByV2, 'requests by jason served by reviews-v2');
    expect(v.pass).toBe(false);
    expect(v.sentence).toBe(
      'requests by jason served by reviews-v2: 46 of 50 requests; 4 exceptions: #4 HTTP 200 reviews-v1 in 12 ms; ' +
        '#17 HTTP 200 reviews-v3 in 1.5 s; #31 timeout after 30 s in 30 s, and 1 more',
    );
  });

  it('fails when nothing was observed', () => {
    expect(judgeAllMatch([], servedByV2, 'requests by jason served by reviews-v2')).toMatchObject({ pass: false });
  });
});

describe('judgeRate', () => {
  const is500 = (r: RequestRecord) => r.status === 500;
  const withAborts = (aborted: number, n: number) => Array.from({ length: n }, (_, i) => rec(i < aborted ? 500 : 200));

  it('passes 96 aborts in 1000 against 10 % (scipy binomtest: p = 0.7123, CI 7.8–11.6 %)', () => {
    const v = judgeRate(withAborts(96, 1000), is500, 0.1, { description: 'HTTP 500' });
    expect(v.pass).toBe(true);
    expect(Number(v.figures.p)).toBeCloseTo(0.7122547, 6);
    expect(v.sentence).toBe(
      'HTTP 500: 9.6 % (95 % CI 7.8–11.6 %) of 1000, expected 10 %; p = 0.71 ≥ α = 1e-4: consistent with 10 % ' +
        '(a 10-point shift would have been detected with power ≥ 0.999)',
    );
  });

  it('fails 150 aborts in 1000 against 10 % (p = 6.5e-7)', () => {
    const v = judgeRate(withAborts(150, 1000), is500, 0.1, { description: 'HTTP 500' });
    expect(v.pass).toBe(false);
    expect(v.sentence).toBe('HTTP 500: 15.0 % (95 % CI 12.8–17.4 %) of 1000, expected 10 %; p = 6.5e-7 < α = 1e-4: the rate differs');
  });

  it('says how weak a pass on few requests is', () => {
    const v = judgeRate(withAborts(0, 20), is500, 0.1, { description: 'HTTP 500' });
    expect(v.pass).toBe(true);
    expect(v.sentence).toMatch(/consistent with 10 % \(a 10-point shift would have been detected with power 0\.\d{3}\)$/);
    expect(Number(v.figures.power)).toBeLessThan(0.5);
  });

  it('plans n for the same guarantees as the split judge', () => {
    const n = planRateSampling(0.1);
    expect(rateTestPower(n, 0.1, 0, 1e-4)).toBeGreaterThanOrEqual(0.999);
    expect(rateTestPower(n, 0.1, 0.2, 1e-4)).toBeGreaterThanOrEqual(0.999);
    expect(rateTestPower(n, 0.1, 0.1, 1e-4)).toBeLessThanOrEqual(1e-4); // the size of the test itself
    expect(n).toBeLessThan(1000);
  });

  it('wants a fraction, and says so', () => {
    expect(() => judgeRate([], is500, 10)).toThrow(/fraction between 0 and 1 \(pass 0\.1 for 10 %\)/);
  });
});

describe('judgeLatency', () => {
  const delayed = (ms: number[]) => ms.map((m) => rec(200, 'reviews-v2', m));
  const sevenSeconds = Array.from({ length: 20 }, (_, i) => 7010 + i * 10); // 7.01 s … 7.20 s

  it('passes when every request waited the delay and p95 stays under the margin', () => {
    const v = judgeLatency(delayed(sevenSeconds), { atLeastMs: 7000, atMostMs: 7500, description: '7 s delay for jason' });
    expect(v.pass).toBe(true);
    expect(v.sentence).toBe(
      '7 s delay for jason: 20 requests took min 7.01 s, median 7.1 s, p95 7.19 s, max 7.2 s; ' +
        'expected every request ≥ 7 s and p95 ≤ 7.5 s: met',
    );
    expect(v.figures).toMatchObject({ minMs: 7010, medianMs: 7100, quantileMs: 7190, maxMs: 7200 });
  });

  it('fails a request that did not wait, and a slow tail', () => {
    const fast = judgeLatency(delayed([...sevenSeconds.slice(1), 35]), { atLeastMs: 7000, atMostMs: 7500 });
    expect(fast.pass).toBe(false);
    expect(fast.sentence).toMatch(/: not met, 1 took less than 7 s \(35 ms\)$/);
    const slow = judgeLatency(delayed([...sevenSeconds.slice(2), 9000, 9100]), { atLeastMs: 7000, atMostMs: 7500 });
    expect(slow.sentence).toMatch(/not met, p95 9 s is above 7\.5 s$/);
  });

  it('fails requests without a response unless told to time them anyway', () => {
    const records = [...delayed(sevenSeconds), { startedAt: 0, latencyMs: 30000, status: 0, error: 'timeout after 30 s' }];
    const v = judgeLatency(records, { atLeastMs: 7000 });
    expect(v.pass).toBe(false);
    expect(v.sentence).toContain('1 failed without a response (#21 timeout after 30 s in 30 s)');
    expect(judgeLatency(records, { atLeastMs: 7000, allowErrors: true }).pass).toBe(true);
  });

  it('uses nearest-rank quantiles: a value that was measured', () => {
    expect(nearestRank([1, 2, 3, 4], 0.5)).toBe(2);
    expect(nearestRank([1, 2, 3, 4], 0.95)).toBe(4);
    expect(nearestRank([5], 0.95)).toBe(5);
  });
});

describe('planAllMatchSampling', () => {
  it('needs the fewest requests that show a 10 % misroute with probability 1 − α', async () => {
    const { planAllMatchSampling } = await import('../../helpers/judge/rates.ts');
    expect(planAllMatchSampling({ alpha: 1e-4 })).toBe(88);
    expect(0.9 ** 88).toBeLessThanOrEqual(1e-4);
    expect(0.9 ** 87).toBeGreaterThan(1e-4);
    expect(planAllMatchSampling({ alpha: 0.01, minShiftPoints: 50 })).toBe(7);
  });
});
