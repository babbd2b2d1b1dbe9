/**
 * Makes the sample recordings shipped in docs/recordings/: one healthy and one broken recording for every
 * judge, each from real traffic over loopback (the Bookinfo double) or a real Prometheus (the harness), so
 * `meshproof judge` and its self-test read genuine observations. Run: npx tsx test/support/sample-recordings.ts
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { meshproofVersion } from '../../helpers/config/version.ts';
import { defaultTimeouts } from '../../helpers/config/timeouts.ts';
import { loginAs, reviewsApiBatch, type BookinfoSession } from '../../helpers/observe/bookinfo.ts';
import { PrometheusClient, type MetricSelector, type Snapshot } from '../../helpers/observe/prometheus.ts';
import type { RequestRecord } from '../../helpers/observe/records.ts';
import { sampleSplit } from '../../helpers/suite/sampling.ts';
import { planRateSampling } from '../../helpers/judge/rates.ts';
import { judgeExpectation } from '../../helpers/judge/rejudge.ts';
import { recordingFormat, type Expectation, type Recording } from '../../helpers/record/recording.ts';
import { startBookinfoDouble, type BookinfoDouble, type BookinfoDoubleOptions } from './bookinfo-double.ts';
import { startIstioExporter } from './istio-exporter.ts';
import { startPrometheus } from './prometheus-harness.ts';
import { pollUntil } from '../../helpers/wait/poll.ts';

const alpha = 1e-4;

function recording(feature: string, title: string, expectation: Expectation, requests: RequestRecord[], metrics: Recording['metrics'] = []): Recording {
  const base: Recording = { format: recordingFormat, feature, title, recordedAt: new Date().toISOString(), versions: { meshproof: meshproofVersion }, expectation, requests, metrics };
  return { ...base, verdict: judgeExpectation(expectation, requests, metrics) };
}

async function withDouble<T>(options: BookinfoDoubleOptions, body: (double: BookinfoDouble) => Promise<T>): Promise<T> {
  const double = await startBookinfoDouble(options);
  try {
    return await body(double);
  } finally {
    await double.stop();
  }
}

const reviewsApi = (double: BookinfoDouble, extra: { session?: BookinfoSession; concurrency?: number } = {}) =>
  reviewsApiBatch({ baseUrl: double.url, concurrency: 8, deadlineMs: defaultTimeouts.trafficBatch, requestTimeoutMs: defaultTimeouts.request, ...extra });

async function split(name: string, weights: { v1: number; v2: number; v3: number }): Promise<[string, Recording]> {
  const expectation: Expectation = {
    judge: 'weighted-split',
    description: '80 % of traffic to reviews v1, 10 % to v2, 10 % to v3',
    weights: { 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 },
    alpha,
  };
  const { records } = await withDouble({ weights, seed: 11 }, (double) => sampleSplit(expectation, reviewsApi(double)));
  return [name, recording('traffic-shifting', '80 % of traffic to reviews v1', expectation, records)];
}

async function routing(name: string, routed: boolean): Promise<[string, Recording]> {
  const expectation: Expectation = { judge: 'all-match', description: 'requests by jason served by reviews v2', matcher: { classification: 'reviews-v2', status: 200 } };
  const records = await withDouble({ weights: { v1: 1, v2: 0, v3: 0 }, ...(routed && { userRoutes: { jason: 'v2' } }), seed: 5 }, async (double) => {
    const session = await loginAs(double.url, 'jason', { timeoutMs: defaultTimeouts.request });
    return reviewsApi(double, { session })(50);
  });
  return [name, recording('request-routing', 'user jason is routed to reviews v2', expectation, records)];
}

async function abortRate(name: string, errorRate: number): Promise<[string, Recording]> {
  const expectation: Expectation = { judge: 'rate', description: 'about 10 % of requests answered HTTP 500', matcher: { status: 500 }, expectedRate: 0.1, alpha };
  const n = planRateSampling(0.1, { alpha });
  const records = await withDouble({ weights: { v1: 1 }, errorRate, seed: 3 }, (double) => reviewsApi(double)(n));
  return [name, recording('fault-abort', 'HTTP 500 for 10 % of requests', expectation, records)];
}

async function delay(name: string, delayMs: number): Promise<[string, Recording]> {
  const expectation: Expectation = { judge: 'latency', description: "jason's requests delayed by 7 s", atLeastMs: 7_000, atMostMs: 8_000, quantile: 0.95 };
  const records = await withDouble({ weights: { v1: 1 }, userRoutes: { jason: 'v2' }, userLatencyMs: { jason: delayMs }, seed: 9 }, async (double) => {
    const session = await loginAs(double.url, 'jason', { timeoutMs: defaultTimeouts.request });
    return reviewsApi(double, { session, concurrency: 10 })(10);
  });
  return [name, recording('fault-delay', 'a 7 s delay for user jason', expectation, records)];
}

async function metricIncreases(): Promise<[string, Recording][]> {
  const exporter = await startIstioExporter();
  const prometheus = await startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalMs: 1_000 });
  const client = new PrometheusClient({ url: prometheus.url, requestTimeoutMs: defaultTimeouts.request });
  const selector: MetricSelector = { metric: 'istio_requests_total', labels: { reporter: 'destination', destination_workload: 'reviews-v2', response_code: '200' } };
  const expectation: Expectation = { judge: 'metric-increase', description: 'reviews-v2 reported every request it served', metric: 'requests at reviews-v2', atLeast: 50 };
  try {
    const make = async (name: string, served: number): Promise<[string, Recording]> => {
      const before = await client.snapshot(selector);
      exporter.add(selector.labels!, served);
      // Wait until Prometheus has scraped the new value (or, for the broken case, one more scrape went by).
      const after = await pollUntil<Snapshot>({ what: 'a scrape after the batch', timeoutMs: 15_000, intervalMs: 200 }, async () => {
        const now = await client.snapshot(selector);
        const total = now.series.reduce((sum, s) => sum + s.value, 0) - before.series.reduce((sum, s) => sum + s.value, 0);
        return total >= served && now.time > before.time + 1.5 ? { done: true, value: now } : { done: false, seen: `increase ${total}` };
      });
      return [name, recording('prometheus', 'Istio metrics count the requests', expectation, [], [{ name: 'requests at reviews-v2', before, after }])];
    };
    exporter.add(selector.labels!, 0);
    return [await make('healthy-metric-increase', 50), await make('broken-metric-increase', 0)];
  } finally {
    await prometheus.stop();
    await exporter.stop();
  }
}

export async function makeSampleRecordings(): Promise<Record<string, Recording>> {
  const made = [
    await split('healthy-weighted-split', { v1: 80, v2: 10, v3: 10 }),
    await split('broken-weighted-split', { v1: 70, v2: 20, v3: 10 }),
    await routing('healthy-all-match', true),
    await routing('broken-all-match', false),
    await abortRate('healthy-rate', 0.1),
    await abortRate('broken-rate', 0.25),
    ...(await Promise.all([delay('healthy-latency', 7_100), delay('broken-latency', 2_000)])),
    ...(await metricIncreases()),
  ];
  return Object.fromEntries(made);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  for (const [name, rec] of Object.entries(await makeSampleRecordings())) {
    const file = fromRoot('docs', 'recordings', `${name}.json`);
    writeFileSync(file, `${JSON.stringify(rec, null, 2)}\n`);
    process.stdout.write(`${rec.verdict!.pass ? 'PASS' : 'FAIL'} ${file}\n     ${rec.verdict!.sentence}\n`);
  }
}
