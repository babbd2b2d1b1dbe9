import type { KubeObject } from '../config/manifests.ts';
import { istioDurationMs } from '../config/manifests.ts';
import { meshCallers } from '../config/features.ts';
import { MeshproofError } from '../errors.ts';
import { parseToolJson } from '../provision/tool-json.ts';
import { liveProbeRouteName } from '../apply/live-probe.ts';
import { pollUntil } from '../wait/poll.ts';
import { formatDuration } from '../config/timeouts.ts';

/**
 * Proving that every proxy that enforces a feature has this apply's configuration, by reading the proxy's own
 * Envoy configuration (`pilot-agent request GET config_dump?resource=…` in its istio-proxy container; pilot-agent
 * passes the path and query to Envoy's admin API unchanged: istio/istio@1.30.3 pilot/pkg/request/command.go).
 *
 * A data-path probe proves only the proxies it crosses; the 7 s ratings delay is enforced by reviews-v2's and
 * reviews-v3's sidecars, which no probe from the gateway reaches. So each VirtualService is checked in the route
 * configuration of every caller of its host: Istio names each Envoy route after the VirtualService route's `name`
 * (pilot/pkg/networking/core/route/route.go TranslateRoute), so the route `meshproof-live-probe-<apply id>` is in
 * a proxy exactly when that proxy has this apply. A DestinationRule is checked in the caller's outbound cluster
 * "outbound|<port>||<fqdn>" (pilot/pkg/model/service.go BuildSubsetKey): its circuit-breaker thresholds and outlier
 * detection must be the applied values (pilot/pkg/networking/core/cluster_traffic_policy.go at 1.30.3).
 */

export interface ProxyRef {
  namespace: string;
  workload: string;
}

/** Runs `pilot-agent request GET <path>` in the proxy and returns what it printed. */
export type ProxyAdmin = (proxy: ProxyRef, path: string) => Promise<string>;

export const routesDump = 'config_dump?resource=dynamic_route_configs';
export const clustersDump = 'config_dump?resource=dynamic_active_clusters';

/** What one proxy must show, and how to read it from its dump. */
export interface ProxyExpectation {
  proxy: ProxyRef;
  path: string;
  /** What must be there, in words. */
  wants: string;
  /** Whether the dump shows it, and what it shows instead. */
  read(dump: unknown): { has: boolean; seen: string };
}

const label = (p: ProxyRef) => `${p.namespace}/${p.workload}`;

/** Every object in a JSON document with this key, however deep (config dumps differ by resource and version). */
function collect(value: unknown, key: string, into: unknown[] = []): unknown[] {
  if (Array.isArray(value)) for (const item of value) collect(item, key, into);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === key) into.push(v);
      collect(v, key, into);
    }
  }
  return into;
}

/** Route names per virtual host ("reviews.bookinfo.svc.cluster.local:9080" → ["meshproof-live-probe-…", …]). */
export function routeNamesByVirtualHost(dump: unknown): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const list of collect(dump, 'virtual_hosts')) {
    for (const host of Array.isArray(list) ? list : []) {
      const { name, routes } = host as { name?: string; routes?: { name?: string }[] };
      if (!name) continue;
      hosts.set(name, [...(hosts.get(name) ?? []), ...(routes ?? []).map((r) => r.name ?? '')]);
    }
  }
  return hosts;
}

/** A cluster's settings as the proxy has them, by cluster name. */
export function clustersByName(dump: unknown): Map<string, Record<string, unknown>> {
  const clusters = new Map<string, Record<string, unknown>>();
  for (const cluster of collect(dump, 'cluster')) {
    const name = (cluster as { name?: unknown })?.name;
    if (typeof name === 'string') clusters.set(name, cluster as Record<string, unknown>);
  }
  return clusters;
}

const fqdnOf = (host: string, namespace: string) => (host.includes('.') ? host.replace(/\.svc\.cluster\.local$/, '').replace(/^([^.]+)\.([^.]+)$/, '$1.$2') : `${host}.${namespace}`) + '.svc.cluster.local';

const secondsText = (text: unknown) => (typeof text === 'string' && /^\d+(\.\d+)?s$/.test(text) ? Number(text.slice(0, -1)) * 1000 : undefined);

/** The values of a DestinationRule's traffic policy that must show in the caller's cluster, with where. */
function policyFields(spec: Record<string, unknown>): { field: string; want: number; read: (cluster: Record<string, unknown>) => number | undefined }[] {
  const policy = (spec.trafficPolicy ?? {}) as {
    connectionPool?: { tcp?: { maxConnections?: number }; http?: { http1MaxPendingRequests?: number } };
    outlierDetection?: { consecutive5xxErrors?: number; interval?: string; baseEjectionTime?: string; maxEjectionPercent?: number };
  };
  const threshold = (c: Record<string, unknown>) => ((c.circuit_breakers as { thresholds?: Record<string, unknown>[] } | undefined)?.thresholds ?? [])[0] ?? {};
  const outlier = (c: Record<string, unknown>) => (c.outlier_detection ?? {}) as Record<string, unknown>;
  const fields: { field: string; want: number; read: (c: Record<string, unknown>) => number | undefined }[] = [];
  const add = (field: string, want: number | undefined, read: (c: Record<string, unknown>) => number | undefined) => {
    if (want !== undefined) fields.push({ field, want, read });
  };
  add('max_connections', policy.connectionPool?.tcp?.maxConnections, (c) => threshold(c).max_connections as number | undefined);
  add('max_pending_requests', policy.connectionPool?.http?.http1MaxPendingRequests, (c) => threshold(c).max_pending_requests as number | undefined);
  const od = policy.outlierDetection;
  add('consecutive_5xx', od?.consecutive5xxErrors, (c) => outlier(c).consecutive_5xx as number | undefined);
  add('interval', od?.interval === undefined ? undefined : istioDurationMs(od.interval), (c) => secondsText(outlier(c).interval));
  add('base_ejection_time', od?.baseEjectionTime === undefined ? undefined : istioDurationMs(od.baseEjectionTime), (c) => secondsText(outlier(c).base_ejection_time));
  add('max_ejection_percent', od?.maxEjectionPercent, (c) => outlier(c).max_ejection_percent as number | undefined);
  return fields;
}

/**
 * What every enforcing proxy must show for the applied objects: for each VirtualService, this apply's probe
 * route in the virtual host of its Service; for each DestinationRule with a traffic policy, its values in the
 * Service's cluster. The enforcing proxies are the Service's callers (helpers/config/features.ts meshCallers).
 */
export function proxyExpectations(objects: KubeObject[], applyId: string): ProxyExpectation[] {
  const expectations: ProxyExpectation[] = [];
  for (const object of objects) {
    const namespace = object.metadata.namespace ?? 'default';
    if (object.kind === 'VirtualService') {
      const host = (object.spec as { hosts: string[] }).hosts[0]!;
      const fqdn = fqdnOf(host, namespace);
      const route = liveProbeRouteName(applyId);
      for (const proxy of meshCallers[host.split('.')[0]!] ?? []) {
        expectations.push({
          proxy,
          path: routesDump,
          wants: `route ${route} for ${fqdn}`,
          read(dump) {
            const hosts = [...routeNamesByVirtualHost(dump).entries()].filter(([name]) => name.startsWith(`${fqdn}:`));
            const names = hosts.flatMap(([, routes]) => routes);
            if (hosts.length === 0) return { has: false, seen: `no virtual host for ${fqdn}` };
            return { has: names.includes(route), seen: `routes for ${fqdn}: ${names.map((n) => n || '(unnamed)').join(', ') || 'none'}` };
          },
        });
      }
    }
    if (object.kind === 'DestinationRule') {
      const spec = object.spec as { host: string } & Record<string, unknown>;
      const fqdn = fqdnOf(spec.host, namespace);
      const fields = policyFields(spec);
      if (fields.length === 0) continue;
      for (const proxy of meshCallers[spec.host.split('.')[0]!] ?? []) {
        expectations.push({
          proxy,
          path: clustersDump,
          wants: `cluster outbound|…||${fqdn} with ${fields.map((f) => `${f.field} ${f.want}`).join(', ')}`,
          read(dump) {
            const cluster = [...clustersByName(dump).entries()].find(([name]) => /^outbound\|\d+\|\|/.test(name) && name.endsWith(`|${fqdn}`))?.[1];
            if (!cluster) return { has: false, seen: `no cluster for ${fqdn}` };
            const seen = fields.map((f) => ({ ...f, got: f.read(cluster) }));
            return { has: seen.every((f) => f.got === f.want), seen: seen.map((f) => `${f.field} ${f.got ?? 'unset'}`).join(', ') };
          },
        });
      }
    }
  }
  return expectations;
}

export interface ProxiesProven {
  /** Each proxy and what it showed when it was proven. */
  proxies: { proxy: string; shows: string }[];
  durationMs: number;
}

/**
 * Polls every proxy's dump until each shows what it must (bounded); a proxy once proven is not asked again.
 * When the time runs out, the error names every proxy that lags and what it has instead.
 */
export async function awaitProxiesHave(
  expectations: ProxyExpectation[],
  admin: ProxyAdmin,
  options: { what: string; timeoutMs: number; intervalMs: number },
): Promise<ProxiesProven> {
  const started = Date.now();
  const pending = new Map(expectations.map((e, i) => [i, e]));
  const proven: ProxiesProven['proxies'] = [];
  const lagging = new Map<number, string>();
  try {
    await pollUntil({ what: `${options.what} in every proxy that enforces it`, timeoutMs: options.timeoutMs, intervalMs: options.intervalMs }, async () => {
      for (const [i, expectation] of pending) {
        let seen: string;
        try {
          const printed = await admin(expectation.proxy, expectation.path);
          const { has, seen: shows } = expectation.read(parseToolJson(`pilot-agent request GET ${expectation.path}`, printed));
          if (has) {
            proven.push({ proxy: label(expectation.proxy), shows: expectation.wants });
            pending.delete(i);
            lagging.delete(i);
            continue;
          }
          seen = shows;
        } catch (error) {
          seen = (error as Error).message;
        }
        lagging.set(i, `${label(expectation.proxy)} wants ${expectation.wants}; it has ${seen}`);
      }
      return pending.size === 0 ? { done: true, value: undefined } : { done: false, seen: [...lagging.values()].join('; ') };
    });
  } catch {
    const behind = [...lagging.values()];
    throw new MeshproofError(
      `${options.what} did not reach every proxy within ${formatDuration(options.timeoutMs)}: ${behind.length} lag (${behind.join('; ')})` +
        `${proven.length ? `; these have it: ${proven.map((p) => p.proxy).join(', ')}` : ''}`,
      'istiod pushes configuration to every proxy; one that lags is disconnected or rejects it: see `istioctl proxy-status` and istiod’s log in the failure bundle.',
    );
  }
  return { proxies: proven, durationMs: Date.now() - started };
}
