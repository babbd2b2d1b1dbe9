import type { KubeObject } from '../../../helpers/config/manifests.ts';
import { durationMs, type IstioConfig } from './istio-config.ts';
import type { SimResponse } from './sidecar.ts';
import type { Workload } from './workloads.ts';

/**
 * Envoy's HTTP local rate limit filter as an inbound sidecar runs it, read from the EnvoyFilters that select the
 * workload (istio/api networking/v1alpha3/envoy_filter.proto at 1.30.3; envoyproxy/envoy
 * source/extensions/filters/http/local_ratelimit/local_ratelimit.cc and source/common/common/token_bucket_impl.cc):
 *
 *  - an EnvoyFilter applies to the workloads its workloadSelector picks in its own namespace, or in every namespace
 *    when it lives in the root namespace (istio-system); only HTTP_FILTER patches that add
 *    envoy.filters.http.local_ratelimit on the inbound side (context SIDECAR_INBOUND, ANY or unset) limit here;
 *  - without filter_enabled the filter checks nothing, without filter_enforced it refuses nothing
 *    (FilterConfig::enabled and ::enforced); each is a fraction rolled per request;
 *  - the bucket starts full and refills continuously at tokens_per_fill per fill_interval up to max_tokens; a
 *    request takes one whole token or is refused (AtomicTokenBucketImpl: Envoy keeps a moving timestamp, here the
 *    tokens and the time they were counted, the same arithmetic);
 *  - the filter, and so its bucket, is made anew when its configuration changes (Envoy replaces a listener whose
 *    configuration changed); a push that leaves it unchanged keeps the bucket;
 *  - a refusal is the sidecar's local reply: 429, body "local_rate_limited", response_headers_to_add, flag RL.
 */

export interface LocalRateLimitFilter {
  maxTokens: number;
  tokensPerFill: number;
  fillIntervalMs: number;
  /** filter_enabled and filter_enforced as fractions; 0 when absent. */
  enabled: number;
  enforced: number;
  responseHeaders: Record<string, string>;
}

/** What the simulated mesh can be told to get wrong about it (mesh.ts `Breakage`). */
export interface RateLimitFaults {
  /** The sidecar never limits: as if the filter were not in its chain. */
  ignored?: boolean;
  /** Tokens spent never come back. */
  neverRefills?: boolean;
}

const denominators: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

type FractionalPercent = { default_value?: { numerator?: number; denominator?: string } };
const fraction = (percent: FractionalPercent | undefined) =>
  percent ? (percent.default_value?.numerator ?? 0) / (denominators[percent.default_value?.denominator ?? 'HUNDRED'] ?? 100) : 0;

interface FilterValue {
  token_bucket?: { max_tokens?: number; tokens_per_fill?: number; fill_interval?: string };
  filter_enabled?: FractionalPercent;
  filter_enforced?: FractionalPercent;
  response_headers_to_add?: { header?: { key?: string; value?: string } }[];
}

interface EnvoyFilterSpec {
  workloadSelector?: { labels?: Record<string, string> };
  configPatches?: { applyTo?: string; match?: { context?: string }; patch?: { value?: { name?: string; typed_config?: FilterValue & { value?: FilterValue } } } }[];
}

function selects(filter: KubeObject & { spec: EnvoyFilterSpec }, w: Workload): boolean {
  const namespace = filter.metadata.namespace ?? 'default';
  if (namespace !== w.namespace && namespace !== 'istio-system') return false;
  const labels: Record<string, string> = { app: w.app, version: w.version };
  return Object.entries(filter.spec.workloadSelector?.labels ?? {}).every(([k, v]) => labels[k] === v);
}

/** The local rate limit filter a workload's inbound listener has, from the configuration its proxy was pushed. */
export function inboundLocalRateLimit(view: IstioConfig, w: Workload): LocalRateLimitFilter | undefined {
  for (const filter of view.all('EnvoyFilter') as (KubeObject & { spec: EnvoyFilterSpec })[]) {
    if (!selects(filter, w)) continue;
    for (const patch of filter.spec.configPatches ?? []) {
      const value = patch.patch?.value;
      if (patch.applyTo !== 'HTTP_FILTER' || value?.name !== 'envoy.filters.http.local_ratelimit') continue;
      if (!['SIDECAR_INBOUND', 'ANY', undefined].includes(patch.match?.context)) continue;
      const config = value.typed_config?.value ?? value.typed_config ?? {};
      const bucket = config.token_bucket;
      // A filter without a bucket limits nothing here (per-route buckets are not modelled).
      if (!bucket?.max_tokens || !bucket.fill_interval) continue;
      const responseHeaders: Record<string, string> = {};
      for (const { header } of config.response_headers_to_add ?? []) if (header?.key) responseHeaders[header.key.toLowerCase()] = header.value ?? '';
      return {
        maxTokens: bucket.max_tokens,
        tokensPerFill: bucket.tokens_per_fill ?? 1,
        fillIntervalMs: durationMs(bucket.fill_interval),
        enabled: fraction(config.filter_enabled),
        enforced: fraction(config.filter_enforced),
        responseHeaders,
      };
    }
  }
  return undefined;
}

/** One filter's token bucket. */
class TokenBucket {
  private tokens: number;
  private countedAt: number;

  constructor(
    private readonly filter: LocalRateLimitFilter,
    now: number,
  ) {
    this.tokens = filter.maxTokens;
    this.countedAt = now;
  }

  /** Takes a token if a whole one is there. */
  take(now: number, refills: boolean): boolean {
    const refilled = refills ? ((now - this.countedAt) * this.filter.tokensPerFill) / this.filter.fillIntervalMs : 0;
    this.tokens = Math.min(this.filter.maxTokens, this.tokens + refilled);
    this.countedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** The local rate limit of one inbound sidecar: its bucket, kept while the filter's configuration stays the same. */
export class InboundRateLimiter {
  private current: { key: string; bucket: TokenBucket } | undefined;

  constructor(
    private readonly workload: Workload,
    private readonly random: () => number,
    /** Monotonic ms, as Envoy's time source (a test may drive it by hand). */
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** The sidecar's refusal of this request, or undefined when it passes on to the app. */
  refusal(view: IstioConfig, faults: RateLimitFaults): SimResponse | undefined {
    const filter = inboundLocalRateLimit(view, this.workload);
    if (!filter) {
      this.current = undefined;
      return undefined;
    }
    const now = this.clock();
    const key = JSON.stringify(filter);
    if (this.current?.key !== key) this.current = { key, bucket: new TokenBucket(filter, now) };
    if (faults.ignored || this.random() >= filter.enabled) return undefined;
    if (this.current.bucket.take(now, !faults.neverRefills)) return undefined;
    if (this.random() >= filter.enforced) return undefined;
    return { status: 429, headers: { 'content-type': 'text/plain', ...filter.responseHeaders }, body: 'local_rate_limited' };
  }
}
