import { describe, expect, it } from 'vitest';
import { judgeExpectation } from '../../helpers/judge/rejudge.ts';
import { snapshotOf, type MetricObservation, type MetricSelector } from '../../helpers/observe/prometheus.ts';

const source: MetricSelector = { metric: 'istio_requests_total', labels: { reporter: 'source', destination_service_name: 'httpbin', response_code: '503' } };
const destination: MetricSelector = { metric: 'istio_requests_total', labels: { reporter: 'destination', destination_service_name: 'httpbin', response_code: '503' } };

function counter(name: string, selector: MetricSelector, from: number, to: number): MetricObservation {
  const labels = selector.labels!;
  return { name, before: snapshotOf(selector, 100, [{ labels, value: from }]), after: snapshotOf(selector, 130, [{ labels, value: to }]) };
}

const retries = {
  judge: 'counter-ratio' as const,
  description: 'each request to httpbin is tried 1 + 2 times',
  numerator: { metric: 'attempts at httpbin' },
  denominator: { metric: 'requests from the client' },
  atLeast: 3,
  atMost: 3,
  minDenominator: 88,
};

describe('the counter-ratio judge', () => {
  it('passes three attempts per request, with both counts in the sentence', () => {
    const verdict = judgeExpectation(retries, [], [counter('attempts at httpbin', destination, 12, 12 + 264), counter('requests from the client', source, 4, 4 + 88)]);
    expect(verdict.pass, verdict.sentence).toBe(true);
    expect(verdict.figures.ratio).toBe(3);
    expect(verdict.sentence).toMatch(/rose by 264, .* by 88, a ratio of 3; exactly 3 expected$/);
  });

  it('fails one attempt per request: the retries did not happen', () => {
    const verdict = judgeExpectation(retries, [], [counter('attempts at httpbin', destination, 0, 88), counter('requests from the client', source, 0, 88)]);
    expect(verdict.pass).toBe(false);
    expect(verdict.sentence).toMatch(/a ratio of 1; exactly 3 expected: not met$/);
  });

  it('shows no ratio when too few requests were counted below the line', () => {
    const verdict = judgeExpectation(retries, [], [counter('attempts at httpbin', destination, 0, 3), counter('requests from the client', source, 0, 1)]);
    expect(verdict.pass).toBe(false);
    expect(verdict.sentence).toContain('at least 88 expected below the line');
  });

  it('fails when a counter was not recorded', () => {
    const verdict = judgeExpectation(retries, [], [counter('requests from the client', source, 0, 88)]);
    expect(verdict.pass).toBe(false);
    expect(verdict.sentence).toContain('no metric named "attempts at httpbin"');
  });
});
