import type { AppliedConfig } from '../../apply/feature-config.ts';
import { istioDurationMs } from '../../config/manifests.ts';
import { formatDuration } from '../../config/timeouts.ts';
import { awaitConfigLive } from '../../gate/config-live.ts';
import { pollUntil } from '../../wait/poll.ts';
import type { Expectation } from '../../judge/expectation.ts';
import { matches, type RequestMatcher } from '../../judge/matchers.ts';
import { sendFromPod } from '../../observe/mesh-client.ts';
import type { MetricObservation, MetricSelector } from '../../observe/prometheus.ts';
import type { RequestRecord } from '../../observe/records.ts';
import { afterIncrease, baselineOf, checkOf, plannedRequests, recordingOf, requestExpectation, type Check, type Observed, type StepEnv } from '../step-env.ts';

/**
 * The local rate limit on productpage (fixtures/features/08-rate-limiting.yaml): a token bucket in productpage's
 * own sidecar. Envoy's bucket starts full, refills continuously at tokens_per_fill per fill_interval and never
 * holds more than max_tokens; a request takes one whole token or is answered 429 "local_rate_limited" by the
 * sidecar (envoyproxy/envoy source/common/common/token_bucket_impl.cc AtomicTokenBucketImpl, the only bucket since
 * changelogs/1.34.0.yaml; source/extensions/filters/http/local_ratelimit/local_ratelimit.cc). What is exactly
 * predictable follows from that alone: a burst of N requests into a full bucket, all arriving within W, is served
 * at least min(N, max_tokens) times and at most max_tokens + W × rate times; requests that each arrive a refill
 * period after the previous one was answered always find a token.
 */

/** The token bucket of the applied EnvoyFilter, and the header the limiter adds to its 429s. */
export interface LocalRateLimit {
  maxTokens: number;
  tokensPerFill: number;
  fillIntervalMs: number;
  /** response_headers_to_add, lower-case names. */
  headers: Record<string, string>;
}

interface LocalRateLimitValue {
  token_bucket?: { max_tokens?: number; tokens_per_fill?: number; fill_interval?: string };
  response_headers_to_add?: { header?: { key?: string; value?: string } }[];
}

/**
 * The local rate limit the applied configuration puts on productpage: the value of the HTTP_FILTER patch that adds
 * envoy.filters.http.local_ratelimit, as a TypedStruct (`typed_config.value`, as istio.io writes it) or typed in
 * place. tokens_per_fill defaults to 1 (local_rate_limit.proto via local_ratelimit.cc PROTOBUF_GET_WRAPPED_OR_DEFAULT).
 */
export function localRateLimitOf(applied: Pick<AppliedConfig, 'objects'>): LocalRateLimit {
  for (const { object } of applied.objects) {
    if (object.kind !== 'EnvoyFilter') continue;
    const patches = (object.spec as { configPatches?: { applyTo?: string; patch?: { value?: { name?: string; typed_config?: LocalRateLimitValue & { value?: LocalRateLimitValue } } } }[] }).configPatches ?? [];
    for (const patch of patches) {
      const filter = patch.patch?.value;
      if (patch.applyTo !== 'HTTP_FILTER' || filter?.name !== 'envoy.filters.http.local_ratelimit') continue;
      const config = filter.typed_config?.value ?? filter.typed_config;
      const bucket = config?.token_bucket;
      if (!bucket?.max_tokens || !bucket.fill_interval) continue;
      const headers: Record<string, string> = {};
      for (const { header } of config?.response_headers_to_add ?? []) if (header?.key) headers[header.key.toLowerCase()] = header.value ?? '';
      return { maxTokens: bucket.max_tokens, tokensPerFill: bucket.tokens_per_fill ?? 1, fillIntervalMs: istioDurationMs(bucket.fill_interval), headers };
    }
  }
  throw new Error('the applied configuration has no EnvoyFilter adding envoy.filters.http.local_ratelimit with a token bucket');
}

/** One token comes back every this many ms. */
export const refillPeriodMs = (limit: LocalRateLimit) => limit.fillIntervalMs / limit.tokensPerFill;

/**
 * Each wait for a refill lasts this much longer than the refill takes (the burst's, for a full bucket; each paced
 * request's, for one token): the bucket counts in floating point, and a token due at exactly its time may be
 * 0.9999 of one.
 */
const refillHeadroom = 1.1;

/** Requests productpage's own sidecar answered 200 to the in-mesh client: what got a token. */
const servedByProductpage: MetricSelector = {
  metric: 'istio_requests_total',
  labels: { reporter: 'destination', destination_workload: 'productpage-v1', source_workload: 'mesh-client', response_code: '200' },
};

function toProductpage(env: StepEnv, count: number, concurrency: number, keepHeaders: string[]): Promise<RequestRecord[]> {
  return sendFromPod(env.meshClient, { url: env.meshUrls.productpage, count, concurrency, timeoutMs: env.config.timeouts.request, keepHeaders });
}

/** The headers a check's matcher reads, so the in-mesh client keeps them. */
function headersRead(check: Check<'all-match'>): string[] {
  const matcher = check.matcher as RequestMatcher;
  return [matcher, ...(matcher.anyOf ?? [])].flatMap((m) => (m.header ? [m.header.name] : []));
}

/**
 * Waits by the clock until an empty bucket holds `tokens` again (at most max_tokens). The bucket cannot be asked
 * how many it holds: every request would spend the token it asks about. Nothing else calls productpage during a run
 * (the traffic generator is suspended), so after this long it holds them.
 */
async function awaitRefill(env: StepEnv, limit: LocalRateLimit, tokens: number): Promise<number> {
  const waitMs = tokens * refillPeriodMs(limit) * refillHeadroom;
  const refilledAt = Date.now() + waitMs;
  const { configLivePoll } = env.config.timeouts;
  await pollUntil(
    { what: `productpage's bucket to refill ${tokens} of its ${limit.maxTokens} tokens`, timeoutMs: waitMs + 2 * configLivePoll, intervalMs: configLivePoll },
    async () => (Date.now() >= refilledAt ? { done: true, value: undefined } : { done: false, seen: `${formatDuration(refilledAt - Date.now())} to go` }),
  );
  return waitMs;
}

/**
 * The burst into a full bucket: every request is served or refused by the limiter itself (429, its body, its
 * header), and productpage's sidecar counted exactly as many served as the bucket allows: at least the bucket's
 * size, at most that plus what refilled during the burst (its whole duration as the client measured it, kubectl
 * exec included, so the bound only widens). The count is awaited up to what the client saw served, so Prometheus
 * is read after every served request was scraped.
 */
async function observeBurst(env: StepEnv, limit: LocalRateLimit) {
  const { alpha } = env.config;
  const burst = checkOf('rate-limiting', 'burst', 'all-match');
  const counted = checkOf('rate-limiting', 'burst-served', 'metric-increase');
  const waitedMs = await awaitRefill(env, limit, limit.maxTokens);
  const before = await baselineOf(env, servedByProductpage);
  const count = plannedRequests(burst.requests, alpha);
  const started = Date.now();
  const records = await toProductpage(env, count, burst.concurrency, headersRead(burst));
  const durationMs = Date.now() - started;
  const served = records.filter((r) => r.status === 200).length;
  const metrics: MetricObservation[] = [{ name: counted.metric, before, after: await afterIncrease(env, servedByProductpage, before, served) }];
  const atLeast = Math.min(count, limit.maxTokens);
  const atMost = Math.min(count, Math.floor(limit.maxTokens + (durationMs * limit.tokensPerFill) / limit.fillIntervalMs));
  const refusedByLimiter = records.filter((r) => r.status === 429 && matches(burst.matcher as RequestMatcher, r)).length;
  const expectation: Expectation = {
    judge: 'metric-increase',
    description:
      `${counted.title}: after ${formatDuration(waitedMs)} untouched the bucket holds ${limit.maxTokens}, and ${limit.tokensPerFill} more come ` +
      `every ${formatDuration(limit.fillIntervalMs)}; ${count} requests, ${burst.concurrency} at a time, over ${formatDuration(durationMs)}; ` +
      `the client saw ${served} served and ${refusedByLimiter} refused by the limiter`,
    metric: counted.metric,
    atLeast: Math.max(counted.atLeast, atLeast),
    atMost,
  };
  return [
    recordingOf(env, 'rate-limiting', burst.id, burst.title, requestExpectation(burst, alpha), records, metrics),
    recordingOf(env, 'rate-limiting', counted.id, counted.title, expectation, [], metrics),
  ];
}

/**
 * The control under the limit: requests one at a time, the first a refill period (and a tenth) after the burst, each
 * next one as long after the previous one was answered, so each arrives at least a period after the previous arrival
 * and finds the token that came back meanwhile. One more than the bucket holds, so at least one needs a refilled
 * token whatever the bucket held; after the burst emptied it, every one of them does.
 */
async function observePaced(env: StepEnv, limit: LocalRateLimit) {
  const check = checkOf('rate-limiting', 'paced', 'all-match');
  const count = plannedRequests(check.requests, env.config.alpha);
  const spacingMs = await awaitRefill(env, limit, 1);
  const records: RequestRecord[] = [];
  // pollUntil pauses intervalMs after each answer: the pacing, bounded by the time the requests need.
  await pollUntil(
    { what: `${count} requests to productpage one per ${formatDuration(spacingMs)}`, timeoutMs: count * (spacingMs + env.config.timeouts.request), intervalMs: spacingMs },
    async () => {
      records.push(...(await toProductpage(env, 1, 1, [])));
      return records.length >= count ? { done: true, value: undefined } : { done: false, seen: `${records.length} of ${count} sent` };
    },
  ).catch(() => undefined); // fewer records than planned is the verdict's to say
  const expectation = { ...requestExpectation(check, env.config.alpha), description: `${check.title} (one per ${formatDuration(spacingMs)}, the bucket refilling one every ${formatDuration(refillPeriodMs(limit))})` };
  return [recordingOf(env, 'rate-limiting', check.id, check.title, expectation, records, [])];
}

/** Under the local rate limit: the burst into a full bucket, then the paced control. */
export async function observeRateLimit(env: StepEnv, applied: AppliedConfig): Promise<Observed> {
  const limit = localRateLimitOf(applied);
  return { recordings: [...(await observeBurst(env, limit)), ...(await observePaced(env, limit))] };
}

/**
 * The control after the baseline is restored: once a whole burst is served (bounded; the removal takes a moment to
 * reach productpage's sidecar), the same burst that met the limit is served in full.
 */
export async function observeBurstServedAfter(env: StepEnv): Promise<Observed> {
  const { timeouts, alpha } = env.config;
  const check = checkOf('rate-limiting', 'burst-after', 'all-match');
  const count = plannedRequests(check.requests, alpha);
  await awaitConfigLive({ what: 'the baseline (no rate limit) to serve a whole burst again', timeoutMs: timeouts.configLive, intervalMs: timeouts.configLivePoll }, async () => {
    const burst = await toProductpage(env, count, check.concurrency, []);
    const refused = burst.filter((r) => r.status !== 200).length;
    return refused === 0 ? { done: true, value: undefined } : { done: false, seen: `${refused} of ${count} not served (first: HTTP ${burst.find((r) => r.status !== 200)?.status})` };
  }).catch(() => undefined); // the batch below shows what the client got, as the verdict
  const records = await toProductpage(env, count, check.concurrency, []);
  return { recordings: [recordingOf(env, 'rate-limiting', check.id, check.title, requestExpectation(check, alpha), records, [])] };
}
