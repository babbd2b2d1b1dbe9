import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTimeouts } from '../../helpers/config/timeouts.ts';
import { planSplitSampling, type SplitExpectation } from '../../helpers/judge/split-design.ts';
import { reviewsApiBatch } from '../../helpers/observe/bookinfo.ts';
import { sampleSplit } from '../../helpers/suite/sampling.ts';
import { startBookinfoDouble, type BookinfoDouble } from '../support/bookinfo-double.ts';

const canary: SplitExpectation = { weights: { 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 }, alpha: 1e-4 };

describe('sampleSplit over real sockets', () => {
  let double: BookinfoDouble;
  const asked: number[] = [];
  const send = (count: number) => {
    asked.push(count);
    return reviewsApiBatch({ baseUrl: double.url, concurrency: 8, deadlineMs: defaultTimeouts.trafficBatch, requestTimeoutMs: defaultTimeouts.request })(count);
  };
  beforeAll(async () => {
    double = await startBookinfoDouble({ seed: 21 });
  });
  afterAll(() => double.stop());

  it('sends only what the judge can use and stops at the request that decided', async () => {
    asked.length = 0;
    double.setOptions({ weights: { v1: 80, v2: 10, v3: 10 } });
    const { records, judgement } = await sampleSplit(canary, send);
    const plan = planSplitSampling(canary);
    expect(judgement.decision).toBe('pass');
    // Every batch is the fewest requests after which the verdict could change, so none is sent past the decision.
    expect(judgement.verdict.figures.n).toBe(records.length);
    expect(asked[0]).toBe(plan.firstDecision);
    expect(asked.reduce((a, b) => a + b, 0)).toBe(records.length);
    expect(records.length).toBeLessThanOrEqual(plan.maxRequests);
  });

  it('fails a shifted split, naming the class that moved', async () => {
    double.setOptions({ weights: { v1: 60, v2: 30, v3: 10 } });
    const { judgement } = await sampleSplit(canary, send);
    expect(judgement.decision).toBe('fail');
    expect(judgement.verdict.sentence).toContain('reviews-v2 above 10 %');
  });
});
