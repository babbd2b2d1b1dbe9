import type { KialiReadingSpec } from '../../config/features.ts';
import { formatDuration } from '../../config/timeouts.ts';
import { PollTimeoutError, pollUntil } from '../../wait/poll.ts';
import { fetchAnswer, type ApiAnswer } from '../../observe/addons/answer.ts';
import { kialiApi } from '../../observe/addons/kiali.ts';
import { sendFromPod } from '../../observe/mesh-client.ts';
import type { MetricSelector } from '../../observe/prometheus.ts';
import type { RequestRecord } from '../../observe/records.ts';
import type { Expectation, KialiReading } from '../../judge/expectation.ts';
import { kialiFindings } from '../../judge/kiali.ts';
import type { Recording } from '../../record/recording.ts';
import { afterIncrease, baselineOf, checkOf, recordingOf, type Observed, type StepEnv } from '../step-env.ts';

/**
 * Kiali as a second witness, asked while the feature is applied: the lab says "observe in Kiali", and these steps
 * make that a verdict. Each asks Kiali once its data can be there (after the feature's own steps waited for
 * Prometheus to count their traffic), keeps the answer whole in the recording, and lets helpers/judge/kiali.ts
 * judge it, so the verdict is made again offline from the same answer.
 *
 * The graph is asked over the feature's own traffic: a window that ends now (queryTime) and starts when the step
 * whose verdicts it witnesses began, so the baseline before the apply, and earlier suites, stay out of it.
 */

type WithKialiChecks = 'traffic-shifting' | 'fault-abort' | 'mtls-strict';

/**
 * The graph of `namespace` from `since`, rounded down to Kiali's whole seconds, to now, rounded up. `since` is when
 * the step whose traffic is judged began: each step takes a Prometheus baseline first, which waits until every
 * target has been scraped after it began, so the window's first sample of each series is one taken after `since`
 * and before the traffic, and rate() sees the whole of the step's traffic and nothing before it (the control
 * before the apply, a previous suite), give or take the second before `since`.
 */
function graphUrl(env: StepEnv, namespace: string, since: number): string {
  const start = Math.floor(since / 1000);
  const queryTimeSeconds = Math.ceil(Date.now() / 1000);
  return kialiApi.graph(env.addons.kiali, { namespace, graphType: 'versionedApp', durationSeconds: Math.max(1, queryTimeSeconds - start), queryTimeSeconds });
}

/**
 * Asks until Kiali's answer holds what the verdict reads (the edges it judges have traffic; the namespace is
 * summarised; the workloads are listed): Kiali caches Prometheus' answers (prometheus cache_duration, seconds:
 * kiali/kiali@v2.26.0 config/config.go), so a first answer may predate the last scrape. Whether it then passes is the verdict's business, never a reason to ask again. A
 * deadline passed returns the last answer, which the verdict reads as it is.
 */
async function askKiali(env: StepEnv, what: string, url: string, reading: KialiReading): Promise<ApiAnswer> {
  const { timeouts } = env.config;
  const startedAt = Date.now();
  let last: ApiAnswer | undefined;
  try {
    return await pollUntil<ApiAnswer>({ what, timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll }, async (signal) => {
      const answer = await fetchAnswer(url, timeouts.request, signal);
      last = answer;
      const found = kialiFindings(reading, [answer]);
      return found.items.length > 0 ? { done: true, value: answer } : { done: false, seen: found.said };
    });
  } catch (error) {
    if (!(error instanceof PollTimeoutError)) throw error;
    return last ?? { url, startedAt, latencyMs: Date.now() - startedAt, status: 0, body: '', error: `no answer within ${formatDuration(timeouts.metricPropagation)}` };
  }
}

/** A Kiali check's reading as the catalogue fixes it, of the kind the step reads. */
function readingOf<O extends KialiReadingSpec['of']>(feature: WithKialiChecks, id: string, of: O): Extract<KialiReadingSpec, { of: O }> {
  const reading = checkOf(feature, id as never, 'kiali').reading;
  if (reading.of !== of) throw new Error(`${feature}/${id} reads Kiali's ${reading.of}, not ${of}`);
  return reading as Extract<KialiReadingSpec, { of: O }>;
}

async function kialiRecording(env: StepEnv, feature: WithKialiChecks, id: string, reading: KialiReading, url: string): Promise<Recording> {
  const check = checkOf(feature, id as never, 'kiali');
  const answer = await askKiali(env, `Kiali to show ${check.title}`, url, reading);
  const expectation: Expectation = { judge: 'kiali', description: check.title, reading };
  return recordingOf(env, feature, check.id, check.title, expectation, [], [], { answers: [answer] });
}

/**
 * The canary in Kiali: productpage → reviews-v1/v2/v3 at the shares the split's responses showed, each within the
 * split's own exact interval at 1 − α; `since` is when the split's step began.
 */
export async function observeKialiShares(env: StepEnv, split: Observed, since: number): Promise<Observed> {
  const feature = 'traffic-shifting';
  const spec = readingOf(feature, 'kiali-shares', 'edge-shares');
  const weighted = split.recordings.find((r) => r.check === `${feature}/split`);
  const figures = weighted?.verdict?.figures ?? {};
  const classes = Object.keys(checkOf(feature, 'split', 'weighted-split').weights);
  const counts = Object.fromEntries(classes.map((name) => [name, Number(figures[`${name}.count`] ?? 0)]));
  const reading: KialiReading = { ...spec, counts, confidence: 1 - env.config.alpha };
  return { recordings: [await kialiRecording(env, feature, 'kiali-shares', reading, graphUrl(env, spec.namespace, since))] };
}

/** Calls to ratings from the in-mesh client, as everyone else's: the fault aborts 10 % of them. */
const callsToRatings: MetricSelector = {
  metric: 'istio_requests_total',
  labels: { reporter: 'source', source_workload: 'mesh-client', destination_service_name: 'ratings' },
};
/** Calls per batch while a window of them is sent; the fewest the window must hold (0 % or 100 % errors show at once). */
const windowBatch = 50;
const windowCallsAtLeast = 200;

/**
 * The abort in Kiali: the share of calls to ratings that failed is consistent with the file's 10 %. Kiali's rates
 * come from Prometheus' rate(), which counts a series only from its first scrape: the feature's own batches each
 * create series (the first FI abort, jason's first DI,FI wave of 300 at once), and what they counted before their
 * first scrape never shows in a rate. So Kiali is read over calls of its own, sent after the abort step (whose
 * waits saw every one of those series scraped): everyone else's calls, batch after batch for a whole kialiWindow,
 * into series that already exist. The window is exactly those calls, once Prometheus has counted them.
 */
export async function observeKialiErrorRate(env: StepEnv): Promise<Observed> {
  const { timeouts, alpha } = env.config;
  const spec = readingOf('fault-abort', 'kiali-errors', 'error-rate');
  const since = Date.now();
  const before = await baselineOf(env, callsToRatings);
  const sending = Date.now();
  const records: RequestRecord[] = [];
  while ((Date.now() - sending < timeouts.kialiWindow || records.length < windowCallsAtLeast) && Date.now() - sending < timeouts.trafficBatch) {
    records.push(...(await sendFromPod(env.meshClient, { url: env.meshUrls.ratings, count: windowBatch, concurrency: 2, timeoutMs: timeouts.request })));
  }
  await afterIncrease(env, callsToRatings, before, records.length);
  // Two scrapes make the kialiWindow, so a scrape interval is half of it.
  const reading: KialiReading = { ...spec, alpha, scrapeSeconds: timeouts.kialiWindow / 2000 };
  const check = checkOf('fault-abort', 'kiali-errors', 'kiali');
  const answer = await askKiali(env, `Kiali to show ${check.title}`, graphUrl(env, spec.namespace, since), reading);
  const expectation: Expectation = { judge: 'kiali', description: check.title, reading };
  return { recordings: [recordingOf(env, 'fault-abort', check.id, check.title, expectation, records, [], { answers: [answer] })] };
}

/** STRICT in Kiali: every edge with traffic into bookinfo since the STRICT step began (`since`) is mutual TLS. */
export async function observeKialiMtls(env: StepEnv, since: number): Promise<Observed> {
  const reading = readingOf('mtls-strict', 'kiali-mtls', 'mtls');
  return { recordings: [await kialiRecording(env, 'mtls-strict', 'kiali-mtls', reading, graphUrl(env, reading.namespace, since))] };
}

/** Kiali's validations of bookinfo's Istio objects with the feature applied: no error (warnings listed). */
export async function observeKialiValidations(env: StepEnv, feature: WithKialiChecks): Promise<Observed> {
  const reading = readingOf(feature, 'kiali-validations', 'validations');
  return { recordings: [await kialiRecording(env, feature, 'kiali-validations', reading, kialiApi.validations(env.addons.kiali, reading.namespace))] };
}

/** Kiali's workloads list: every Bookinfo workload has pods, each with an Envoy sidecar. */
export async function observeKialiSidecars(env: StepEnv): Promise<Observed> {
  const reading = readingOf('mtls-strict', 'kiali-sidecars', 'sidecars');
  const spec: KialiReading = { ...reading, workloads: [...reading.workloads] };
  return { recordings: [await kialiRecording(env, 'mtls-strict', 'kiali-sidecars', spec, kialiApi.workloads(env.addons.kiali, reading.namespace))] };
}
