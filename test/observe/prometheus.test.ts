import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTimeouts } from '../../helpers/config/timeouts.ts';
import { promDiff } from '../../helpers/observe/prom-diff.ts';
import {
  delta,
  emptySnapshot,
  increaseOf,
  MetricIncreaseError,
  PrometheusClient,
  PrometheusQueryError,
  snapshotOf,
  toPromQL,
  type MetricSelector,
  type Snapshot,
} from '../../helpers/observe/prometheus.ts';
import { startIstioExporter, type IstioExporter } from '../support/istio-exporter.ts';
import { prometheusAvailability, startPrometheus, type PrometheusHarness } from '../support/prometheus-harness.ts';

// The harness scrapes every second, so the self-tests poll at a matching scale; requests keep the real bound.
const t = { ...defaultTimeouts, metricPropagation: 15_000, metricPoll: 200, shortDeadline: 1_500 };
const requests = (labels: Record<string, string>, by?: string[]): MetricSelector => ({
  metric: 'istio_requests_total',
  labels,
  by,
});

describe('toPromQL', () => {
  it('builds exact matchers, sums by the chosen labels and escapes values', () => {
    const odd = requests({ reporter: 'destination', destination_workload: 'say "hi"\\\n' }, [
      'response_code',
      'response_flags',
    ]);
    expect(toPromQL(odd)).toBe(
      'sum by (response_code, response_flags) ' +
        '(istio_requests_total{reporter="destination",destination_workload="say \\"hi\\"\\\\\\n"})',
    );
    expect(toPromQL({ metric: 'istio_requests_total' })).toBe('sum(istio_requests_total)');
  });
  it('refuses names PromQL cannot hold', () => {
    expect(() => toPromQL(requests({ 'response-code': '200' }))).toThrow(/invalid Prometheus label name "response-cod/);
    expect(() => toPromQL({ metric: 'istio requests' })).toThrow(/invalid Prometheus metric name/);
  });
});

describe('delta', () => {
  const sel = requests({ reporter: 'destination' }, ['response_code']);
  const s = (pod: string, code: string, value: number) => ({ labels: { pod, response_code: code }, value });

  it('counts per series, new series from 0, a reset as a restart, and sums by group', () => {
    const before = snapshotOf(sel, 100, [s('a', '200', 5), s('b', '503', 3), s('gone', '200', 9)]);
    const after = snapshotOf(sel, 110, [s('a', '200', 8), s('b', '503', 1), s('new', '200', 2)]);
    const d = delta(before, after);
    expect(d).toMatchObject({ from: 100, to: 110, total: 6, resets: 1, seriesMatched: 3 });
    expect(increaseOf(d, { response_code: '200' })).toBe(5);
    expect(increaseOf(d, { response_code: '503' })).toBe(1);
    expect(after.groups).toEqual([
      { labels: { response_code: '200' }, value: 10 },
      { labels: { response_code: '503' }, value: 1 },
    ]);
  });
  it('treats an empty baseline as zero and refuses snapshots of different selectors', () => {
    expect(delta(emptySnapshot(sel), snapshotOf(sel, 1, [s('a', '200', 4)])).total).toBe(4);
    const other = emptySnapshot(requests({ reporter: 'source' }));
    expect(() => delta(emptySnapshot(sel), other)).toThrow(/different selectors/);
  });
});

describe('promDiff', () => {
  const wanted = {
    metric: 'istio_requests_total',
    labels: { destination_workload: 'reviews-v2', response_code: '503', response_flags: 'UO' },
  };

  it('names the labels in which the closest series differs', () => {
    const candidates = [
      { destination_workload: 'ratings-v1', response_code: '200', response_flags: '-' },
      { destination_workload: 'reviews-v2', response_code: '200', response_flags: '-' },
    ];
    expect(promDiff(wanted, candidates)).toBe(
      'none of the 2 istio_requests_total series has every wanted label; closest series differs in ' +
        'response_code: wanted "503", found "200"; response_flags: wanted "UO", found "-"',
    );
  });
  it('says when a label is missing, when nothing exists and when a series matches', () => {
    expect(promDiff(wanted, [{ destination_workload: 'reviews-v2', response_code: '503' }])).toMatch(
      /response_flags: wanted "UO", found no such label$/,
    );
    expect(promDiff(wanted, [])).toBe('no series named istio_requests_total at all');
    expect(promDiff(wanted, [wanted.labels])).toMatch(/^1 istio_requests_total series exist and one has every wanted/);
  });
});

describe('PrometheusClient without a server', () => {
  it('says which Prometheus it could not reach and for which query', async () => {
    const client = new PrometheusClient({ url: 'http://127.0.0.1:1', requestTimeoutMs: t.request });
    await expect(client.instantQuery('up')).rejects.toThrow(
      /^Prometheus could not run up: unreachable: http:\/\/127\.0\.0\.1:1\/api\/v1\/query: .*ECONNREFUSED/,
    );
  });
});

const availability = prometheusAvailability();

describe.skipIf(!availability.available)('PrometheusClient against a real Prometheus', () => {
  let exporter: IstioExporter;
  let harness: PrometheusHarness;
  let prom: PrometheusClient;
  const await_ = (selector: MetricSelector, atLeast: number, baseline?: Snapshot) =>
    prom.awaitMetricIncrease({ selector, atLeast, baseline, timeoutMs: t.metricPropagation, intervalMs: t.metricPoll });

  // One Prometheus for the file: its scrape target takes about 5.5 s to come up.
  beforeAll(async () => {
    exporter = await startIstioExporter();
    harness = await startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalMs: 1_000 });
    prom = new PrometheusClient({ url: harness.url, requestTimeoutMs: t.request });
  });
  afterAll(async () => {
    await harness?.stop();
    await exporter?.stop();
  });

  it('runs instant queries (vector, scalar) and range queries (matrix)', async () => {
    const sel = requests({ destination_workload: 'q-instant' });
    exporter.add({ destination_workload: 'q-instant' }, 4);
    await await_(sel, 4);

    const vector = await prom.instantQuery(toPromQL(sel));
    expect(vector).toMatchObject({ resultType: 'vector', result: [{ metric: {}, value: { value: 4 } }] });
    const scalar = await prom.instantQuery('1 + 1', { time: new Date() });
    expect(scalar).toMatchObject({ resultType: 'scalar', result: { value: 2 } });

    const end = Date.now() / 1000;
    const [series, ...more] = await prom.rangeQuery(toPromQL(sel), { start: end - 10, end, stepSeconds: 1 });
    expect(more).toEqual([]);
    expect(series!.values.at(-1)?.value).toBe(4);
    expect(series!.values.every((v, i, all) => i === 0 || v.time - all[i - 1]!.time === 1)).toBe(true);
  });

  it('keeps two tests’ traffic apart by their labels, subtracting what was there before', async () => {
    const a = requests({ destination_workload: 'reviews-v1', meshproof_run: 'run-a' }, ['response_code']);
    const b = requests({ destination_workload: 'reviews-v1', meshproof_run: 'run-b' }, ['response_code']);
    exporter.add({ destination_workload: 'reviews-v1', meshproof_run: 'run-a' }, 2);
    exporter.add({ destination_workload: 'reviews-v1', meshproof_run: 'run-b' }, 1);
    await Promise.all([await_(a, 2), await_(b, 1)]);
    const [beforeA, beforeB] = await Promise.all([prom.snapshot(a), prom.snapshot(b)]);
    expect(beforeA.groups).toEqual([{ labels: { response_code: '200' }, value: 2 }]);

    exporter.add({ destination_workload: 'reviews-v1', meshproof_run: 'run-a' }, 5);
    exporter.add({ destination_workload: 'reviews-v1', meshproof_run: 'run-a', response_code: '503' }, 1);
    exporter.add({ destination_workload: 'reviews-v1', meshproof_run: 'run-b' }, 3);
    const [da, db] = await Promise.all([await_(a, 6, beforeA), await_(b, 3, beforeB)]);
    expect(da.groups).toEqual([
      { labels: { response_code: '200' }, value: 5 },
      { labels: { response_code: '503' }, value: 1 },
    ]);
    expect(db).toMatchObject({ total: 3, groups: [{ labels: { response_code: '200' }, value: 3 }] });
    expect(delta(beforeA, await prom.snapshot(a)).total).toBe(6);
  });

  it('awaitMetricIncrease times out with the last increase it saw', async () => {
    const sel = requests({ destination_workload: 'slow-v1' });
    const baseline = await prom.snapshot(sel);
    exporter.add({ destination_workload: 'slow-v1' }, 2);
    await await_(sel, 2, baseline);
    const error = await prom
      .awaitMetricIncrease({
        selector: sel,
        atLeast: 5,
        baseline,
        timeoutMs: t.shortDeadline,
        intervalMs: t.metricPoll,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MetricIncreaseError);
    expect((error as MetricIncreaseError).message).toMatch(
      new RegExp(
        '^timed out after 1\\.5 s waiting for sum\\(istio_requests_total\\{destination_workload="slow-v1"\\}\\) ' +
          'to increase by at least 5; last seen: increase 2 of the 5 wanted, over 1 series since \\S+ ' +
          '\\(\\d+ probes\\)$',
      ),
    );
    expect((error as MetricIncreaseError).diff).toBeUndefined();
  });

  it('explains a selector that matches nothing with PromDiff', async () => {
    exporter.add({ destination_workload: 'diff-me', response_code: '200' }, 1);
    await await_(requests({ destination_workload: 'diff-me' }), 1);
    const error = await prom
      .awaitMetricIncrease({
        selector: requests({ destination_workload: 'diff-me', response_code: '503', response_flags: 'UO' }),
        atLeast: 1,
        timeoutMs: t.shortDeadline,
        intervalMs: t.metricPoll,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MetricIncreaseError);
    expect((error as Error).message).toContain(
      'last seen: no series matched ' +
        'istio_requests_total{destination_workload="diff-me",response_code="503",response_flags="UO"}',
    );
    expect((error as Error).message).toMatch(
      new RegExp(
        '; none of the \\d+ istio_requests_total series has every wanted label; closest series differs in ' +
          'response_code: wanted "503", found "200"; response_flags: wanted "UO", found "-"$',
      ),
    );
    expect(await prom.explain({ metric: 'istio_tcp_connections_opened_total', labels: { reporter: 'source' } })).toBe(
      'no series named istio_tcp_connections_opened_total at all',
    );
  });

  it('turns the API error envelope into an error that quotes the PromQL', async () => {
    const error = await prom.instantQuery('sum(istio_requests_total').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusQueryError);
    expect(error).toMatchObject({ errorType: 'bad_data', promql: 'sum(istio_requests_total' });
    expect((error as Error).message).toMatch(
      /^Prometheus could not run sum\(istio_requests_total: bad_data: .*parse error: unclosed left parenthesis/,
    );
  });

  // Last: restarting the exporter drops every series the earlier tests used.
  it('counts a counter reset (sidecar restart) as a fresh start', async () => {
    const sel = requests({ destination_workload: 'restart-me' });
    exporter.add({ destination_workload: 'restart-me' }, 5);
    await await_(sel, 5);
    const baseline = await prom.snapshot(sel);
    exporter.restart();
    exporter.add({ destination_workload: 'restart-me' }, 2);
    expect(await await_(sel, 2, baseline)).toMatchObject({ total: 2, resets: 1 });
  });
});
