import { describe, expect, it } from 'vitest';
import type { Answered } from '../../../helpers/observe/addons/answer.ts';
import {
  errorRatios,
  parsePromVector,
  prometheusApi,
  readErrorRatioPerService,
  readFinitePerService,
  readPositivePerService,
  readSeriesPresence,
  serviceOf,
} from '../../../helpers/observe/addons/prometheus.ts';

/** The Prometheus readers on answers written from the HTTP API's documented envelope, healthy and broken. */
const ok = (body: unknown): Answered => ({ status: 200, body: JSON.stringify(body) });
const bookinfo = { namespace: 'bookinfo', services: ['productpage', 'details', 'reviews', 'ratings'] };

describe('prometheusApi', () => {
  it('asks the query API at its documented path', () => {
    expect(prometheusApi.query('http://p:9090', 'rate(x{a="b"}[5m])')).toBe('http://p:9090/api/v1/query?query=rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29');
  });
});

/** A series as the sample Prometheus stores a sidecar's metric: Istio's labels plus kubernetes-pods' own. */
function istioSeries(service: string, extra: Record<string, string>, value: string, namespace = 'bookinfo') {
  const workload = service === 'reviews' ? 'reviews-v2' : `${service}-v1`;
  return {
    metric: {
      app: service,
      connection_security_policy: 'mutual_tls',
      destination_app: service,
      destination_canonical_revision: 'v1',
      destination_canonical_service: service,
      destination_cluster: 'Kubernetes',
      destination_principal: `spiffe://cluster.local/ns/${namespace}/sa/bookinfo-${service}`,
      destination_service: `${service}.${namespace}.svc.cluster.local`,
      destination_service_name: service,
      destination_service_namespace: namespace,
      destination_version: 'v1',
      destination_workload: workload,
      destination_workload_namespace: namespace,
      instance: '10.244.0.17:15020',
      job: 'kubernetes-pods',
      namespace,
      pod: `${workload}-6c7d9f8b5d-x2x7k`,
      reporter: 'destination',
      request_protocol: 'http',
      response_code: '200',
      response_flags: '-',
      source_app: 'productpage',
      source_canonical_revision: 'v1',
      source_canonical_service: 'productpage',
      source_cluster: 'Kubernetes',
      source_principal: `spiffe://cluster.local/ns/${namespace}/sa/bookinfo-productpage`,
      source_version: 'v1',
      source_workload: 'productpage-v1',
      source_workload_namespace: namespace,
      ...extra,
    },
    value: [1767261660.321, value],
  };
}
const vector = (result: unknown[]) => ok({ status: 'success', data: { resultType: 'vector', result } });
const byService = (service: string, value: string) => ({ metric: { destination_service: `${service}.bookinfo.svc.cluster.local` }, value: [1767261660.321, value] });

describe('the Prometheus readers', () => {
  it('read an error envelope as its errorType, and say what else an answer was', () => {
    const error = { status: 400, body: '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:6: parse error: unexpected \\"{\\""}' };
    expect(parsePromVector(error)).toEqual({ ok: false, classification: 'Prometheus error bad_data: invalid parameter "query": 1:6: parse error: unexpected "{"' });
    expect(parsePromVector({ status: 503, body: 'Service Unavailable' })).toEqual({ ok: false, classification: 'HTTP 503: Service Unavailable' });
    expect(parsePromVector({ status: 0, body: '', error: 'connect ECONNREFUSED 127.0.0.1:9090' })).toEqual({ ok: false, classification: 'no answer: connect ECONNREFUSED 127.0.0.1:9090' });
    expect(parsePromVector(ok({ status: 'success', data: { resultType: 'matrix', result: [] } }))).toEqual({ ok: false, classification: 'not an instant vector from Prometheus: data.resultType: matrix, not vector' });
    expect(parsePromVector({ status: 200, body: '<html>Grafana</html>' })).toEqual({ ok: false, classification: 'not JSON: <html>Grafana</html>' });
    expect(parsePromVector(ok({ data: [] }))).toMatchObject({ ok: false, classification: /^not an instant vector from Prometheus: status: / });
    expect(parsePromVector(vector([byService('ratings', '+Inf')]))).toEqual({ ok: true, value: [{ labels: { destination_service: 'ratings.bookinfo.svc.cluster.local' }, value: Infinity }] });
  });

  it('know a Bookinfo service by destination_service, and no other namespace', () => {
    expect(serviceOf({ destination_service: 'reviews.bookinfo.svc.cluster.local' }, 'bookinfo')).toBe('reviews');
    expect(serviceOf({ destination_service: 'reviews.bookinfo.svc.mesh.example' }, 'bookinfo')).toBe('reviews');
    expect(serviceOf({ destination_service: 'reviews.other.svc.cluster.local' }, 'bookinfo')).toBeUndefined();
    expect(serviceOf({ destination_service: 'unknown' }, 'bookinfo')).toBeUndefined();
  });

  it('pass the request rate when every service has a rate above 0, summed over its series', () => {
    const answer = vector([
      istioSeries('productpage', { source_workload: 'istio-ingressgateway' }, '0.6666666666666666'),
      istioSeries('details', {}, '0.6666666666666666'),
      istioSeries('reviews', { destination_version: 'v1', destination_workload: 'reviews-v1' }, '0'),
      istioSeries('reviews', { destination_version: 'v3', destination_workload: 'reviews-v3' }, '0.2'),
      istioSeries('ratings', { source_workload: 'reviews-v2' }, '0.43333333333333335'),
      istioSeries('httpbin', {}, '1', 'other'),
    ]);
    const reading = readPositivePerService(answer, bookinfo, 'a rate above 0');
    expect(reading).toEqual({ pass: true, classification: 'a rate above 0 for details, productpage, ratings, reviews', expected: 'a rate above 0 for details, productpage, ratings, reviews', withData: ['productpage', 'details', 'reviews', 'ratings'] });
  });

  it('fail it naming the services without a rate, and what they had', () => {
    const answer = vector([istioSeries('productpage', {}, '0.6'), istioSeries('details', {}, '0'), istioSeries('reviews', {}, '0.6')]);
    const reading = readPositivePerService(answer, bookinfo, 'a rate above 0');
    expect(reading.pass).toBe(false);
    expect(reading.classification).toBe('details: 0; ratings: no series — a rate above 0 only for productpage, reviews');
    expect(reading.withData).toEqual(['productpage', 'reviews']);
  });

  it('pass a P99 per service only when every one is a number, and name the NaN of a service without requests', () => {
    const all = vector([byService('productpage', '48.5'), byService('details', '4.95'), byService('reviews', '24.75'), byService('ratings', '4.9')]);
    expect(readFinitePerService(all, bookinfo, 'a P99')).toMatchObject({ pass: true, classification: 'a P99 for details, productpage, ratings, reviews' });
    const idle = vector([byService('productpage', '48.5'), byService('details', '4.95'), byService('reviews', '24.75'), byService('ratings', 'NaN')]);
    expect(readFinitePerService(idle, bookinfo, 'a P99')).toMatchObject({ pass: false, classification: 'ratings: NaN — a P99 only for details, productpage, reviews' });
  });

  it('count a service without 5xx as answered by the error rate when it had traffic: the healthy answer is empty', () => {
    const empty = vector([]);
    const traffic = ['productpage', 'details', 'reviews', 'ratings'];
    expect(readErrorRatioPerService(empty, bookinfo, traffic, 'an error rate')).toMatchObject({ pass: true, classification: 'an error rate for details, productpage, ratings, reviews' });
    expect(errorRatios(empty, 'bookinfo')).toEqual({});
    const someErrors = vector([byService('ratings', '0.1'), byService('productpage', '0')]);
    expect(readErrorRatioPerService(someErrors, bookinfo, traffic, 'an error rate').pass).toBe(true);
    expect(errorRatios(someErrors, 'bookinfo')).toEqual({ ratings: 0.1, productpage: 0 });
    expect(errorRatios({ status: 0, body: '', error: 'timeout' }, 'bookinfo')).toBeUndefined();
  });

  it('fail the error rate of a service that had no traffic (0/0), or whose ratio is not a number', () => {
    const reading = readErrorRatioPerService(vector([byService('details', 'NaN')]), bookinfo, ['productpage', 'details', 'reviews'], 'an error rate');
    expect(reading).toMatchObject({ pass: false, classification: 'details: NaN; ratings: no series and no traffic counted' });
  });

  it('say which series an answer expected to be empty held, and treat only a missing vector as no answer', () => {
    expect(readSeriesPresence(vector([]))).toEqual({ answered: true, classification: 'no series', series: 0 });
    const mongo = { metric: { destination_service: 'mongodb.bookinfo.svc.cluster.local' }, value: [1767261660.3, '512.4'] };
    expect(readSeriesPresence(vector([mongo]))).toEqual({ answered: true, classification: '1 series: mongodb.bookinfo.svc.cluster.local', series: 1 });
    expect(readSeriesPresence({ status: 0, body: '', error: 'timeout' })).toEqual({ answered: false, classification: 'no answer: timeout', series: 0 });
  });
});
