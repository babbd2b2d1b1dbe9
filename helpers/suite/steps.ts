import type { AppliedConfig } from '../apply/feature-config.ts';
import type { MeshproofConfig } from '../config/config.ts';
import type { FeatureName } from '../config/features.ts';
import { awaitConfigLive, probeAnswer, probeUserAgent } from '../gate/config-live.ts';
import { httpGet } from '../gate/http-probe.ts';
import { judgeExpectation } from '../judge/rejudge.ts';
import type { Verdict } from '../judge/verdict.ts';
import { reviewsApiBatch } from '../observe/bookinfo.ts';
import type { MetricSelector, PrometheusClient } from '../observe/prometheus.ts';
import { sampleSplit } from '../observe/sampling.ts';
import { recordingFormat, type Expectation, type Recording } from '../record/recording.ts';

/**
 * The steps feature suites are made of, as plain functions of what a run provides: they observe, judge
 * through the same pure judges `meshproof judge` uses, and return recordings. The suites add the Allure steps
 * and the assertions; the self-tests run these against the Bookinfo double and a real Prometheus.
 */
export interface StepEnv {
  config: MeshproofConfig;
  ingressUrl: string;
  prometheus: PrometheusClient;
  versions: { meshproof: string; istio?: string; kubernetes?: string };
}

export interface Observed {
  recordings: Recording[];
}

const reviewsApiPath = '/api/v1/products/0/reviews';

/** The config-live gate through the gateway: the probe crosses productpage's sidecar, where reviews is routed. */
export function proveLiveViaIngress(env: StepEnv, applied: AppliedConfig, what: string): Promise<void> {
  return awaitConfigLive({ what, timeoutMs: env.config.timeouts.configLive, intervalMs: env.config.timeouts.configLivePoll }, async () => {
    const { status } = await httpGet(`${env.ingressUrl}${reviewsApiPath}`, env.config.timeouts.request, { 'user-agent': probeUserAgent(applied.applyId) });
    return probeAnswer(status, `GET ${reviewsApiPath} through the gateway`);
  });
}

function recordingOf(env: StepEnv, feature: FeatureName, title: string, expectation: Expectation, requests: Recording['requests'], metrics: Recording['metrics']): Recording {
  const recording: Recording = {
    format: recordingFormat,
    feature,
    title,
    recordedAt: new Date().toISOString(),
    versions: env.versions,
    expectation,
    requests,
    metrics,
  };
  return { ...recording, verdict: judgeExpectation(expectation, requests, metrics) };
}

/** Requests a destination sidecar may count beyond the batch: a page productpage retried, a stray probe. */
const metricSlack = (count: number) => Math.max(2, Math.ceil(count * 0.01));

/**
 * A reviews split as the responses show it and as Prometheus counted it: the batch is sampled look by look
 * (helpers/observe/sampling.ts) through the gateway, then reviews' destination-side istio_requests_total must
 * have risen, per version, by the number of responses each version served.
 */
export async function observeReviewsSplit(env: StepEnv, feature: FeatureName, title: string, weights: Record<string, number>): Promise<Observed> {
  const { timeouts, alpha } = env.config;
  const selector: MetricSelector = {
    metric: 'istio_requests_total',
    labels: { reporter: 'destination', destination_service_name: 'reviews' },
    by: ['destination_version'],
  };
  const before = await env.prometheus.snapshotAfterScrape(selector, { timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll });
  const expectation: Expectation = { judge: 'weighted-split', description: title, weights, alpha };
  const send = reviewsApiBatch({ baseUrl: env.ingressUrl, concurrency: 8, deadlineMs: timeouts.trafficBatch, requestTimeoutMs: timeouts.request });
  const { records } = await sampleSplit({ weights, alpha }, send);

  const served = new Map<string, number>();
  for (const r of records) if (r.status === 200 && r.classification?.startsWith('reviews-v')) served.set(r.classification, (served.get(r.classification) ?? 0) + 1);
  const total = [...served.values()].reduce((a, b) => a + b, 0);
  // Wait for the scrape that holds the batch; if it never comes, the metric verdicts below say so.
  await env.prometheus.awaitMetricIncrease({ selector, atLeast: total, baseline: before, timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll }).catch(() => undefined);
  const after = await env.prometheus.snapshot(selector);
  const metrics: Recording['metrics'] = [{ name: 'requests at reviews by version', before, after }];

  const recordings = [recordingOf(env, feature, title, expectation, records, metrics)];
  for (const [version, count] of [...served.entries()].sort()) {
    const metricExpectation: Expectation = {
      judge: 'metric-increase',
      description: `Prometheus counted the ${count} requests ${version} served`,
      metric: 'requests at reviews by version',
      group: { destination_version: version.replace('reviews-', '') },
      atLeast: count,
      atMost: count + metricSlack(count),
    };
    recordings.push(recordingOf(env, feature, `${title}: ${version} in Prometheus`, metricExpectation, [], metrics));
  }
  return { recordings };
}

export function verdictsOf(observed: Observed): Verdict[] {
  return observed.recordings.map((r) => r.verdict!);
}
