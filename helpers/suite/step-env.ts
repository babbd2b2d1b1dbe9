import type { MeshproofConfig } from '../config/config.ts';
import { featureCatalog, type CheckSpec, type FeatureName } from '../config/features.ts';
import { metricSlack, type Expectation } from '../judge/expectation.ts';
import type { RequestMatcher } from '../judge/matchers.ts';
import { plannedRequests } from '../judge/rates.ts';
import { judgeExpectation, type AddonObservations } from '../judge/rejudge.ts';
import type { Verdict } from '../judge/verdict.ts';
import type { PodExec } from '../observe/mesh-client.ts';
import type { MetricObservation, MetricSelector, PrometheusClient, Snapshot } from '../observe/prometheus.ts';
import type { RequestRecord } from '../observe/records.ts';
import type { AddonUrls } from '../provision/readiness.ts';
import { recordingFormat, type Recording } from '../record/recording.ts';

/**
 * What every step of a feature suite works with, as plain data and functions: the steps observe, judge through
 * the same pure judges `meshproof judge` uses, and return recordings. The suites add the Allure steps and the
 * assertions; the self-tests run the same steps against the simulated mesh and a real Prometheus.
 */
export interface StepEnv {
  config: MeshproofConfig;
  /** This conformance run: every recording carries it, and the summary counts only its own. */
  runId: string;
  ingressUrl: string;
  prometheus: PrometheusClient;
  /** The addons' APIs on this machine (port-forwards held by the run): Prometheus, Grafana, Jaeger, Kiali. */
  addons: AddonUrls;
  versions: { meshproof: string; istio?: string; kubernetes?: string };
  /** Runs a command in the in-mesh client pod (meshproof/mesh-client), for east-west traffic. */
  meshClient: PodExec;
  /** The same in the client pod without a sidecar (meshproof-legacy/legacy-client): plaintext, outside the mesh. */
  legacyClient: PodExec;
  /** Service URLs as the clients in the cluster reach them. */
  meshUrls: typeof bookinfoMeshUrls;
  /** The headers that make an in-mesh request come from a Bookinfo user (reviews forwards end-user to ratings). */
  asUser: (user: string) => Promise<Record<string, string>>;
  /**
   * `pilot-agent request GET <path>` in a workload's istio-proxy container: Envoy's admin API, for reading
   * which configuration that proxy really has.
   */
  proxyAdmin: (proxy: { namespace: string; workload: string }, path: string) => Promise<string>;
}

/** The in-mesh targets, by the names Kubernetes DNS gives their Services. */
export const bookinfoMeshUrls = {
  reviews: 'http://reviews.bookinfo.svc.cluster.local:9080/reviews/0',
  ratings: 'http://ratings.bookinfo.svc.cluster.local:9080/ratings/0',
  productpage: 'http://productpage.bookinfo.svc.cluster.local:9080/productpage',
  details: 'http://details.bookinfo.svc.cluster.local:9080/details/0',
  httpbin: 'http://httpbin.meshproof.svc.cluster.local:8000',
};

/** Requests served by reviews, counted by its own sidecars per version: where a batch landed, whoever sent it. */
export const reviewsByVersion: MetricSelector = {
  metric: 'istio_requests_total',
  labels: { reporter: 'destination', destination_service_name: 'reviews' },
  by: ['destination_version'],
};

/** In the mesh, a user is who end-user says: reviews and its sidecar read the header (reviews forwards it). */
export const endUserHeader = async (user: string): Promise<Record<string, string>> => ({ 'end-user': user });

export interface Observed {
  recordings: Recording[];
}

/** A check of the catalogue with its id, of a known judge. */
export type Check<J extends CheckSpec['judge'] = CheckSpec['judge']> = Extract<CheckSpec, { judge: J }> & { id: string };

/** One check of a feature from the catalogue (helpers/config/features.ts), of the judge the step makes it with. */
export function checkOf<F extends FeatureName, J extends CheckSpec['judge']>(feature: F, id: keyof (typeof featureCatalog)[F]['checks'] & string, judge: J): Check<J> {
  const spec = (featureCatalog[feature].checks as Record<string, CheckSpec>)[id];
  if (!spec) throw new Error(`the catalogue has no check ${feature}/${id}`);
  if (spec.judge !== judge) throw new Error(`${feature}/${id} is a ${spec.judge} check, not ${judge}`);
  return { ...(spec as Extract<CheckSpec, { judge: J }>), id };
}

export function recordingOf(
  env: StepEnv,
  feature: FeatureName,
  check: string,
  title: string,
  expectation: Expectation,
  requests: RequestRecord[],
  metrics: MetricObservation[],
  /** What a trace, Kiali or analysis verdict reads beside requests and metrics: Jaeger's traces, Kiali's answers, istioctl's messages. */
  observed: AddonObservations = {},
): Recording {
  const recording: Recording = {
    format: recordingFormat,
    runId: env.runId,
    feature,
    check: `${feature}/${check}`,
    title,
    recordedAt: new Date().toISOString(),
    versions: env.versions,
    expectation,
    requests,
    metrics,
    ...(observed.traces && { traces: [...observed.traces] }),
    ...(observed.answers && { answers: [...observed.answers] }),
    ...(observed.analysis && { analysis: [...observed.analysis] }),
  };
  return { ...recording, verdict: judgeExpectation(expectation, requests, metrics, observed) };
}

/** A baseline of the selected counters, after Prometheus has caught up with earlier traffic. */
export function baselineOf(env: StepEnv, selector: MetricSelector): Promise<Snapshot> {
  return env.prometheus.snapshotAfterScrape(selector, { timeoutMs: env.config.timeouts.metricPropagation, intervalMs: env.config.timeouts.metricPoll });
}

/** Waits (bounded) until the selected counters rose by `atLeast` since `before`, then snapshots them. */
export async function afterIncrease(env: StepEnv, selector: MetricSelector, before: Snapshot, atLeast: number): Promise<Snapshot> {
  const { timeouts } = env.config;
  // If the scrape never comes, the metric verdict made from this snapshot says so; waiting more cannot help.
  await env.prometheus
    .awaitMetricIncrease({ selector, atLeast, baseline: before, timeoutMs: timeouts.metricPropagation, intervalMs: timeouts.metricPoll })
    .catch(() => undefined);
  return env.prometheus.snapshot(selector);
}

/**
 * A metric-increase recording for a catalogue check: `count` events expected in the counter (or one group of
 * it), a little slack above; never fewer than the check's own minimum (at least one overflow, say).
 */
export function countedRecording(
  env: StepEnv,
  feature: FeatureName,
  check: Check<'metric-increase'>,
  metrics: MetricObservation[],
  count: number,
  description: string,
  group?: Record<string, string>,
): Recording {
  const expectation: Expectation = {
    judge: 'metric-increase',
    description,
    metric: check.metric,
    ...(group && { group }),
    atLeast: Math.max(check.atLeast, count),
    atMost: Math.max(check.atLeast, count) + metricSlack(count),
  };
  return recordingOf(env, feature, check.id, check.title, expectation, [], metrics);
}

/** A counter-ratio recording for a catalogue check, over at least `minDenominator` requests. */
export function ratioRecording(env: StepEnv, feature: FeatureName, check: Check<'counter-ratio'>, metrics: MetricObservation[], minDenominator: number): Recording {
  const expectation: Expectation = {
    judge: 'counter-ratio',
    description: check.title,
    numerator: { metric: check.numerator },
    denominator: { metric: check.denominator },
    atLeast: check.atLeast,
    atMost: check.atMost,
    minDenominator,
  };
  return recordingOf(env, feature, check.id, check.title, expectation, [], metrics);
}

/** The expectation of an all-match, rate or latency check, as the catalogue states it. */
export function requestExpectation(check: CheckSpec, alpha: number): Expectation {
  switch (check.judge) {
    case 'all-match':
      return { judge: 'all-match', description: check.title, matcher: check.matcher as RequestMatcher, alpha };
    case 'rate':
      return { judge: 'rate', description: check.title, matcher: check.matcher as RequestMatcher, expectedRate: check.expectedRate, alpha };
    case 'latency':
      return {
        judge: 'latency',
        description: check.title,
        ...(check.atLeastMs !== undefined && { atLeastMs: check.atLeastMs }),
        ...(check.atMostMs !== undefined && { atMostMs: check.atMostMs }),
        quantile: check.quantile,
      };
    default:
      throw new Error(`${check.title}: a ${check.judge} check is not judged on requests alone`);
  }
}

export { plannedRequests };

/** Several observations of one test as one, so every verdict is reported before the test fails. */
export function allOf(...observed: Observed[]): Observed {
  return { recordings: observed.flatMap((o) => o.recordings) };
}

export function verdictsOf(observed: Observed): Verdict[] {
  return observed.recordings.map((r) => r.verdict!);
}
