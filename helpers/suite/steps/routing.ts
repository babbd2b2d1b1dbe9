import type { FeatureName } from '../../config/features.ts';
import type { Expectation } from '../../judge/expectation.ts';
import { loginAs, reviewsApiBatch, type BookinfoSession } from '../../observe/bookinfo.ts';
import type { MetricObservation, Snapshot } from '../../observe/prometheus.ts';
import type { RequestRecord } from '../../observe/records.ts';
import { sampleSplit } from '../sampling.ts';
import type { Recording } from '../../record/recording.ts';
import { afterIncrease, baselineOf, checkOf, countedRecording, plannedRequests, recordingOf, requestExpectation, reviewsByVersion, type Observed, type StepEnv } from '../step-env.ts';

/**
 * Routing of reviews as a visitor sees it through the gateway: the canary split, routing by user, mirroring.
 * Every batch is also counted where it landed, by reviews' destination sidecars, per version.
 */

const countedAtReviews = 'requests at reviews by version';

function reviewsApi(env: StepEnv, concurrency: number, session?: BookinfoSession, headers?: Record<string, string>) {
  const { timeouts } = env.config;
  return reviewsApiBatch({
    baseUrl: env.ingressUrl,
    concurrency,
    deadlineMs: timeouts.trafficBatch,
    requestTimeoutMs: timeouts.request,
    ...(session && { session }),
    ...(headers && { headers }),
  });
}

/**
 * Prometheus' side of a batch: reviews' destination sidecars must have counted, per version, the responses each
 * version served (the feature's `counted` check, one recording per version).
 */
async function countedPerVersion(env: StepEnv, feature: 'traffic-shifting' | 'ab-testing' | 'request-routing', before: Snapshot, records: RequestRecord[]) {
  const served = new Map<string, number>();
  for (const r of records) if (r.status === 200 && r.classification?.startsWith('reviews-v')) served.set(r.classification, (served.get(r.classification) ?? 0) + 1);
  const total = [...served.values()].reduce((a, b) => a + b, 0);
  const metrics: MetricObservation[] = [{ name: countedAtReviews, before, after: await afterIncrease(env, reviewsByVersion, before, total) }];
  const check = checkOf(feature, 'counted', 'metric-increase');
  const recordings = [...served.entries()]
    .sort()
    .map(([version, count]) =>
      countedRecording(env, feature, check, metrics, count, `Prometheus counted the ${count} requests ${version} served`, {
        destination_version: version.replace('reviews-', ''),
      }),
    );
  return { metrics, recordings };
}

/**
 * A weighted split as the responses show it and as Prometheus counted it: sampled request by request through the
 * gateway (helpers/suite/sampling.ts), then per version in reviews' destination-side istio_requests_total.
 */
async function observeWeightedSplit(env: StepEnv, feature: 'traffic-shifting' | 'ab-testing'): Promise<Observed> {
  const { alpha } = env.config;
  const check = checkOf(feature, 'split', 'weighted-split');
  const before = await baselineOf(env, reviewsByVersion);
  const weights: Record<string, number> = { ...check.weights };
  const expectation: Expectation = { judge: 'weighted-split', description: check.title, weights, alpha };
  const { records } = await sampleSplit({ weights, alpha }, reviewsApi(env, check.concurrency));
  const counted = await countedPerVersion(env, feature, before, records);
  return { recordings: [recordingOf(env, feature, check.id, check.title, expectation, records, counted.metrics), ...counted.recordings] };
}

/** The canary: 80/10/10 over v1, v2, v3. */
export const observeCanarySplit = (env: StepEnv) => observeWeightedSplit(env, 'traffic-shifting');

/** The A/B test: 50/50 over v1 and v3, judged by the same sequential test as the canary. */
export const observeAbSplit = (env: StepEnv) => observeWeightedSplit(env, 'ab-testing');

/** Who sends, for a routing check: a user who logs in, an anonymous visitor, or one who only sets the header. */
type Sender = { user: string } | { anonymous: true } | { endUserHeader: string };

const routingSenders: Record<'jason' | 'anonymous' | 'header-only', Sender> = {
  jason: { user: 'jason' },
  anonymous: { anonymous: true },
  'header-only': { endUserHeader: 'jason' },
};

/**
 * Deterministic routing by user: every request of each sender is served by its version (jason → v2, everyone
 * else → v1, including a bare end-user header, which productpage never forwards: productpage.py).
 */
export async function observeUserRouting(env: StepEnv): Promise<Observed> {
  const recordings: Recording[] = [];
  for (const id of ['jason', 'anonymous', 'header-only'] as const) {
    const check = checkOf('request-routing', id, 'all-match');
    const sender = routingSenders[id];
    const before = await baselineOf(env, reviewsByVersion);
    const session = 'user' in sender ? await loginAs(env.ingressUrl, sender.user, { timeoutMs: env.config.timeouts.request }) : undefined;
    const headers = 'endUserHeader' in sender ? { 'end-user': sender.endUserHeader } : undefined;
    const records = await reviewsApi(env, check.concurrency, session, headers)(plannedRequests(check.requests, env.config.alpha));
    const counted = await countedPerVersion(env, 'request-routing', before, records);
    recordings.push(recordingOf(env, 'request-routing', check.id, check.title, requestExpectation(check, env.config.alpha), records, counted.metrics), ...counted.recordings);
  }
  return { recordings };
}

/**
 * Mirroring: every request through the gateway is answered by v1, and v3's own sidecar counts a copy of each
 * (reporter="destination"; copies have no source-side series, istio/istio#23496).
 */
export async function observeMirroring(env: StepEnv): Promise<Observed> {
  const feature = 'mirroring' satisfies FeatureName;
  const primary = checkOf(feature, 'primary', 'all-match');
  const before = await baselineOf(env, reviewsByVersion);
  const records = await reviewsApi(env, primary.concurrency)(plannedRequests(primary.requests, env.config.alpha));
  const answered = records.filter((r) => r.status === 200 && r.classification === 'reviews-v1').length;
  const metrics: MetricObservation[] = [{ name: countedAtReviews, before, after: await afterIncrease(env, reviewsByVersion, before, 2 * answered) }];
  const counted = checkOf(feature, 'counted', 'metric-increase');
  const copies = checkOf(feature, 'copies', 'metric-increase');
  return {
    recordings: [
      recordingOf(env, feature, primary.id, primary.title, requestExpectation(primary, env.config.alpha), records, metrics),
      countedRecording(env, feature, counted, metrics, answered, `reviews-v1 counted the ${answered} requests it answered`, { destination_version: 'v1' }),
      countedRecording(env, feature, copies, metrics, answered, `reviews-v3 received a copy of each of the ${answered} requests`, { destination_version: 'v3' }),
    ],
  };
}
