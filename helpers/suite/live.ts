import type { AppliedConfig } from '../apply/feature-config.ts';
import { awaitConfigLive, probeAnswer } from '../gate/config-live.ts';
import { probeUserAgent } from '../apply/live-probe.ts';
import { awaitProxiesHave, proxyExpectations, type ProxiesProven } from '../gate/proxy-config.ts';
import { describeMatcher, matches, type RequestMatcher } from '../judge/matchers.ts';
import { describeOutcome, refusedAfterConnect, transportOutcome } from '../judge/outcomes.ts';
import { sendFromPod } from '../observe/mesh-client.ts';
import { httpRequest } from '../net/http.ts';
import { checkOf, plannedRequests, type StepEnv } from './step-env.ts';

/**
 * Proofs that the configuration just applied is the one serving, before any sample is taken: first in every
 * proxy that enforces it (its own Envoy configuration: helpers/gate/proxy-config.ts), then on the data path (a
 * probe that only the new configuration can answer, or an effect only it can have).
 */

/** Every enforcing proxy has this apply's routes and cluster settings (nothing to check for a PeerAuthentication). */
export function proveInEveryProxy(env: StepEnv, applied: AppliedConfig, what: string): Promise<ProxiesProven> {
  const { timeouts } = env.config;
  const expectations = proxyExpectations(
    applied.objects.map((o) => o.object),
    applied.applyId,
  );
  return awaitProxiesHave(expectations, env.proxyAdmin, { what: `${what} (apply ${applied.applyId})`, timeoutMs: timeouts.configLive, intervalMs: timeouts.configLivePoll });
}

const reviewsApiPath = '/api/v1/products/0/reviews';

/** The data path through the gateway: the probe crosses productpage's sidecar, where reviews is routed. */
export function proveLiveViaIngress(env: StepEnv, applied: AppliedConfig, what: string): Promise<string> {
  return awaitConfigLive({ what, timeoutMs: env.config.timeouts.configLive, intervalMs: env.config.timeouts.configLivePoll }, async () => {
    const { status } = await httpRequest(`${env.ingressUrl}${reviewsApiPath}`, {
      timeoutMs: env.config.timeouts.request,
      headers: { 'user-agent': probeUserAgent(applied.applyId, 'reviews') },
    });
    return probeAnswer(status, `GET ${reviewsApiPath} through the gateway`);
  });
}

/**
 * The data path from inside the mesh, for a VirtualService the gateway's path cannot reach (ratings sits behind
 * reviews; httpbin is meshproof's own): the in-mesh client's own sidecar must answer the host's probe route.
 */
export function proveLiveFromMesh(env: StepEnv, applied: AppliedConfig, host: 'ratings' | 'reviews' | 'httpbin', what: string): Promise<string> {
  const { timeouts } = env.config;
  return awaitConfigLive({ what, timeoutMs: timeouts.configLive, intervalMs: timeouts.configLivePoll }, async () => {
    const [record] = await sendFromPod(env.meshClient, {
      url: host === 'httpbin' ? `${env.meshUrls.httpbin}/get` : env.meshUrls[host],
      count: 1,
      concurrency: 1,
      timeoutMs: timeouts.request,
      headers: { 'user-agent': probeUserAgent(applied.applyId, host) },
    });
    return probeAnswer(record?.status ?? 0, `${host} from the in-mesh client`);
  });
}

/**
 * A circuit breaker on the data path, by its effect, which only it can have: reviews never answers 503 by
 * itself, so an overflow in a concurrent burst comes from the client sidecar's breaker.
 */
export function proveCircuitBreakerTrips(env: StepEnv, what: string): Promise<string> {
  const { timeouts } = env.config;
  return awaitConfigLive({ what, timeoutMs: timeouts.configLive, intervalMs: timeouts.configLivePoll }, async () => {
    const burst = await sendFromPod(env.meshClient, { url: env.meshUrls.reviews, count: 20, concurrency: 20, timeoutMs: timeouts.request });
    const refused = burst.filter((r) => r.status === 503).length;
    return refused > 0
      ? { done: true, value: undefined, seen: `${refused} of 20 concurrent requests refused with 503` }
      : { done: false, seen: `all 20 concurrent requests admitted: statuses ${[...new Set(burst.map((r) => r.status))].join(', ')}` };
  });
}

/**
 * A local rate limit on the data path, by its effect, which only it can have: productpage never answers 429, so a
 * burst from the in-mesh client that meets the limiter's own answer (429 "local_rate_limited" with its header: the
 * refusal the catalogue's burst check names) has met the new filter in productpage's sidecar. An EnvoyFilter has no
 * route to probe, and the filter's name in the listener would not say which apply put it there.
 */
export function proveRateLimited(env: StepEnv, what: string): Promise<string> {
  const { timeouts, alpha } = env.config;
  const burst = checkOf('rate-limiting', 'burst', 'all-match');
  const refusal = (burst.matcher as RequestMatcher).anyOf?.find((m) => m.status === 429);
  if (!refusal) throw new Error('rate-limiting/burst names no 429 refusal to prove the limit by');
  const count = plannedRequests(burst.requests, alpha);
  return awaitConfigLive({ what, timeoutMs: timeouts.configLive, intervalMs: timeouts.configLivePoll }, async () => {
    const records = await sendFromPod(env.meshClient, {
      url: env.meshUrls.productpage,
      count,
      concurrency: burst.concurrency,
      timeoutMs: timeouts.request,
      keepHeaders: refusal.header ? [refusal.header.name] : [],
    });
    const refused = records.filter((r) => matches(refusal, r)).length;
    return refused > 0
      ? { done: true, value: undefined, seen: `${refused} of ${count} requests to productpage refused by the limiter (${describeMatcher(refusal)})` }
      : { done: false, seen: `none of ${count} requests to productpage refused by the limiter: ${[...new Set(records.map(describeOutcome))].join(', ')}` };
  });
}

/** The bookinfo Services whose sidecars enforce a namespace-wide PeerAuthentication, as the clients reach them. */
const bookinfoServers = ['productpage', 'details', 'reviews', 'ratings'] as const;

/**
 * STRICT mTLS by its effect on every server sidecar of the namespace: plaintext from the client outside the
 * mesh is refused after connecting (under PERMISSIVE, the default, it is served). A name that does not resolve
 * or a refused port is not the mesh refusing: the gate says what it saw and keeps waiting.
 */
export function provePlaintextRefused(env: StepEnv, what: string): Promise<string> {
  const { timeouts } = env.config;
  return awaitConfigLive({ what, timeoutMs: timeouts.configLive, intervalMs: timeouts.configLivePoll }, async () => {
    const seen: string[] = [];
    for (const server of bookinfoServers) {
      const [record] = await sendFromPod(env.legacyClient, { url: env.meshUrls[server], count: 1, concurrency: 1, timeoutMs: timeouts.request });
      const refused = record !== undefined && refusedAfterConnect.includes(transportOutcome(record));
      if (!refused) seen.push(`plaintext to ${server}: ${record ? describeOutcome(record) : 'nothing recorded'}`);
    }
    return seen.length === 0
      ? { done: true, value: undefined, seen: `plaintext refused by ${bookinfoServers.join(', ')}` }
      : { done: false, seen: seen.join('; ') };
  });
}
