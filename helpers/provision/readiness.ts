import { reviewsVersionFromJson } from '../config/bookinfo.ts';
import type { Timeouts } from '../config/timeouts.ts';
import { excerpt } from '../net/excerpt.ts';
import { httpRequest } from '../net/http.ts';
import { readPrometheusAnswer } from '../net/prometheus-answer.ts';
import { pollUntil, type ProbeResult } from '../wait/poll.ts';
import { parseProxyStatus, unsyncedProxies } from './proxy-status.ts';
import { commandLine, missingToolError, runOrFailJson, type ClusterRunner } from './runner.ts';

/**
 * The named, bounded waits of provisioning: readiness, not hope. Each says what it waits for and, when its
 * deadline passes, what it saw last.
 */

interface DeploymentStatus {
  metadata: { name: string };
  spec?: { replicas?: number };
  status?: { availableReplicas?: number; updatedReplicas?: number; conditions?: { type: string; status: string; message?: string }[] };
}

/** Deployments in `namespace` not yet Available with all replicas updated; a sentence per laggard. */
export function unavailableDeployments(list: { items: DeploymentStatus[] }, only?: string[]): string[] {
  return list.items
    .filter((d) => !only || only.includes(d.metadata.name))
    .flatMap((d) => {
      const wanted = d.spec?.replicas ?? 1;
      const available = d.status?.availableReplicas ?? 0;
      const updated = d.status?.updatedReplicas ?? 0;
      if (available >= wanted && updated >= wanted) return [];
      const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing' && c.status !== 'True');
      return [`${d.metadata.name} ${available}/${wanted} available${progressing?.message ? ` (${progressing.message})` : ''}`];
    });
}

export async function awaitDeploymentsAvailable(
  runner: ClusterRunner,
  namespace: string,
  timeouts: Timeouts,
  only?: string[],
): Promise<void> {
  const what = only ? `${only.join(', ')} in ${namespace} to be available` : `every Deployment in ${namespace} to be available`;
  await pollUntil({ what, timeoutMs: timeouts.rollout, intervalMs: timeouts.poll }, async () => {
    const list = (await runOrFailJson(runner, 'kubectl', ['get', 'deployments', '-n', namespace, '-o', 'json'], { timeoutMs: timeouts.apply })) as { items: DeploymentStatus[] };
    const missing = only?.filter((name) => !list.items.some((d) => d.metadata.name === name)) ?? [];
    const lagging = [...missing.map((name) => `${name} does not exist yet`), ...unavailableDeployments(list, only)];
    return lagging.length === 0 ? { done: true, value: undefined } : { done: false, seen: lagging.join('; ') };
  });
}

export const proxyStatusArgs = ['proxy-status', '-o', 'json'];

/**
 * istiod has every proxy of the mesh in sync: each xDS type each proxy subscribed to is SYNCED (none NOT_SENT,
 * STALE or ERROR), as `istioctl proxy-status` reports it (helpers/provision/proxy-status.ts). A feature applied to
 * a mesh whose proxies lag would be judged on configuration they never received.
 */
export async function awaitProxiesSynced(runner: ClusterRunner, timeouts: Timeouts): Promise<number> {
  const command = commandLine('istioctl', proxyStatusArgs);
  // An istioctl that cannot run ends the wait at once; anything else (istiod restarting) is polled again.
  const cannotRun = new AbortController();
  const what = 'every proxy in the mesh to be SYNCED with istiod (istioctl proxy-status)';
  return pollUntil<number>({ what, timeoutMs: timeouts.proxySync, intervalMs: timeouts.poll, signal: cannotRun.signal }, async () => {
    const result = await runner.run('istioctl', proxyStatusArgs, { timeoutMs: timeouts.istioctl });
    const missing = missingToolError('istioctl', result);
    if (missing) {
      cannotRun.abort(missing);
      throw missing;
    }
    if (result.exitCode !== 0) return { done: false, seen: `\`${command}\` exited ${result.exitCode}: ${(result.stderr || result.stdout).trim().slice(0, 300)}` };
    const statuses = parseProxyStatus(command, result.stdout);
    const lagging = unsyncedProxies(statuses);
    return lagging.length === 0 ? { done: true, value: statuses.length } : { done: false, seen: `not SYNCED: ${lagging.join('; ')}` };
  });
}

/** The ingress gateway serves Bookinfo's product page to the host. */
export async function awaitIngressServes(ingressUrl: string, timeouts: Timeouts): Promise<void> {
  await pollUntil(
    { what: `the ingress gateway to serve ${ingressUrl}/productpage`, timeoutMs: timeouts.ingressReady, intervalMs: timeouts.poll, consecutiveSuccesses: 2 },
    async () => {
      const { status, body } = await httpRequest(`${ingressUrl}/productpage`, { timeoutMs: timeouts.request });
      // The title is productpage's own (templates/productpage.html); a 200 from anything else is not Bookinfo.
      return status === 200 && body.includes('<title>Simple Bookstore App</title>')
        ? { done: true, value: undefined }
        : { done: false, seen: `HTTP ${status}: ${excerpt(body)}` };
    },
  );
}

export const reviewsVersions = ['reviews-v1', 'reviews-v2', 'reviews-v3'] as const;

/**
 * Every reviews version has answered through the gateway. The Java (Open Liberty) pods can be Ready before
 * they serve, and the first requests to a cold JVM are slow; a split measured then would be skewed.
 */
export async function awaitReviewsWarm(ingressUrl: string, timeouts: Timeouts): Promise<Record<string, number>> {
  const answered: Record<string, number> = {};
  return pollUntil<Record<string, number>>({ what: 'every reviews version (v1, v2, v3) to answer through the gateway', timeoutMs: timeouts.warmup, intervalMs: 0 }, async () => {
    const { status, body } = await httpRequest(`${ingressUrl}/api/v1/products/0/reviews`, { timeoutMs: timeouts.request });
    const version = status === 200 ? reviewsVersionFromJson(body) : undefined;
    if (version && (reviewsVersions as readonly string[]).includes(version)) answered[version] = (answered[version] ?? 0) + 1;
    const missing = reviewsVersions.filter((v) => !answered[v]);
    if (missing.length === 0) return { done: true, value: answered };
    const seen = `answered so far: ${JSON.stringify(answered)}; last HTTP ${status}${version ? ` from ${version}` : `: ${excerpt(body)}`}`;
    return { done: false, seen };
  });
}

export interface AddonUrls {
  prometheus: string;
  grafana: string;
  /** Jaeger's query service, UI and API under /jaeger. */
  jaeger: string;
  /** Kiali, UI and API under /kiali. */
  kiali: string;
}

/** Each addon's API answers, and Prometheus has scraped Istio's request metric. */
export async function awaitAddonsReady(urls: AddonUrls, timeouts: Timeouts): Promise<void> {
  const options = (what: string) => ({ what, timeoutMs: timeouts.addonReady, intervalMs: timeouts.poll });
  await Promise.all([
    pollUntil(options('Prometheus to have scraped istio_requests_total'), () => istioRequestsScraped(urls.prometheus, timeouts)),
    pollUntil(options('the Grafana API (/api/health)'), async () => {
      const { status, body } = await httpRequest(`${urls.grafana}/api/health`, { timeoutMs: timeouts.request });
      return status === 200 && body.includes('"database"') ? { done: true, value: body } : { done: false, seen: `HTTP ${status}: ${excerpt(body)}` };
    }),
    pollUntil(options('the Jaeger query API (/jaeger/api/services)'), async () => {
      const { status, body } = await httpRequest(`${urls.jaeger}/jaeger/api/services`, { timeoutMs: timeouts.request });
      return status === 200 && body.includes('"data"') ? { done: true, value: body } : { done: false, seen: `HTTP ${status}: ${excerpt(body)}` };
    }),
    pollUntil(options('the Kiali API (/kiali/api/status)'), async () => {
      const { status, body } = await httpRequest(`${urls.kiali}/kiali/api/status`, { timeoutMs: timeouts.request });
      return status === 200 && body.includes('running') ? { done: true, value: body } : { done: false, seen: `HTTP ${status}: ${excerpt(body)}` };
    }),
  ]);
}

/**
 * One instant query, `sum(istio_requests_total)`, read by the shared reader of Prometheus' answers. Readiness asks
 * this one question before anything is observed, so it uses the HTTP request and the reader below the pipeline
 * rather than observe's evidence client (snapshots, deltas, PromDiff), which it has no use for.
 */
async function istioRequestsScraped(prometheusUrl: string, timeouts: Pick<Timeouts, 'request'>): Promise<ProbeResult<number>> {
  const query = new URLSearchParams({ query: 'sum(istio_requests_total)' });
  const { status, body } = await httpRequest(`${prometheusUrl.replace(/\/+$/, '')}/api/v1/query?${query}`, { timeoutMs: timeouts.request });
  const answer = readPrometheusAnswer(body);
  if (answer.kind !== 'result') return { done: false, seen: `HTTP ${status}: ${excerpt(body)}` };
  const value = answer.result.resultType === 'vector' ? answer.result.result[0]?.value.value : undefined;
  return value !== undefined && value > 0 ? { done: true, value } : { done: false, seen: 'no istio_requests_total series yet' };
}
