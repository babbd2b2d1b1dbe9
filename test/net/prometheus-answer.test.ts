import { describe, expect, it } from 'vitest';
import { readPrometheusAnswer, sampleValue } from '../../helpers/net/prometheus-answer.ts';

/** Answers written from Prometheus' HTTP API docs (https://prometheus.io/docs/prometheus/latest/querying/api/). */
const answer = (body: unknown) => readPrometheusAnswer(JSON.stringify(body));
const at = 1767261660.321;

describe('readPrometheusAnswer', () => {
  it('reads every result type, with sample values as numbers and times in unix seconds', () => {
    expect(answer({ status: 'success', data: { resultType: 'vector', result: [{ metric: { job: 'istio' }, value: [at, '2.5'] }] } })).toEqual({
      kind: 'result',
      result: { resultType: 'vector', result: [{ metric: { job: 'istio' }, value: { time: at, value: 2.5 } }] },
    });
    expect(answer({ status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[at, '1'], [at + 15, '+Inf']] }] } })).toEqual({
      kind: 'result',
      result: { resultType: 'matrix', result: [{ metric: {}, values: [{ time: at, value: 1 }, { time: at + 15, value: Infinity }] }] },
    });
    expect(answer({ status: 'success', data: { resultType: 'scalar', result: [at, '-Inf'] } })).toEqual({ kind: 'result', result: { resultType: 'scalar', result: { time: at, value: -Infinity } } });
    expect(answer({ status: 'success', data: { resultType: 'string', result: [at, 'hello'] } })).toEqual({ kind: 'result', result: { resultType: 'string', result: { time: at, value: 'hello' } } });
  });

  it("reads Prometheus' error envelope, whatever the HTTP status was", () => {
    expect(answer({ status: 'error', errorType: 'bad_data', error: 'invalid parameter "query"' })).toEqual({ kind: 'error', errorType: 'bad_data', error: 'invalid parameter "query"' });
    expect(answer({ status: 'error' })).toEqual({ kind: 'error', errorType: undefined, error: undefined });
  });

  it('tells a body that is not JSON, not the envelope, or data of an unknown shape apart, saying where', () => {
    expect(readPrometheusAnswer('404 page not found')).toEqual({ kind: 'not-json' });
    expect(answer({ message: 'Unauthorized' })).toMatchObject({ kind: 'not-an-envelope', why: expect.stringMatching(/^status: /) });
    expect(answer({ status: 'success', data: { resultType: 'histogram', result: [] } })).toMatchObject({ kind: 'unexpected-data', why: expect.stringMatching(/^data\.resultType: /) });
    expect(answer({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [at, 2] }] } })).toMatchObject({
      kind: 'unexpected-data',
      why: expect.stringMatching(/^data\.result\.0\.value\.1: /),
    });
  });
});

describe('sampleValue', () => {
  it('reads the strings Go prints for ±Inf and NaN (Number("+Inf") would be NaN)', () => {
    expect([sampleValue('+Inf'), sampleValue('-Inf'), sampleValue('0.25'), sampleValue('1e-3')]).toEqual([Infinity, -Infinity, 0.25, 0.001]);
    expect(sampleValue('NaN')).toBeNaN();
  });
});
