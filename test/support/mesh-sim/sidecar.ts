import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { durationMs, routeMatches, type Destination, type DestinationRuleSpec, type HttpRoute, type IstioConfig } from './istio-config.ts';
import { requestLabels } from './telemetry.ts';
import { fqdn, serviceFor, workload, type Service, type Workload } from './workloads.ts';
import type { IstioExporter } from '../istio-exporter.ts';
import type { SpanCollector } from './tracing.ts';

/**
 * The client side of a simulated Envoy sidecar: what happens to a request between the app (or the gateway)
 * and the destination's inbound port. It follows Envoy and Istio as read in their sources (cited per step) and
 * keeps the same per-cluster state a sidecar keeps: connection-pool occupancy and outlier-detection ejections.
 *
 *  - routes: the first VirtualService route whose match holds (istio route.go TranslateRoute), weights by
 *    a seeded PRNG, subsets from the DestinationRule;
 *  - faults: a delay first, then the abort, rolled after the delay, with flags DI then FI
 *    (envoy source/extensions/filters/http/fault/fault_filter.cc; flags print in the order set);
 *  - connection pool: max_connections active, max_pending_requests queued, then 503 `UO` with Envoy's
 *    overflow text, never retried and never counted by outlier detection (envoy router.cc, upstream_request.cc);
 *  - outlier detection: ejection as soon as consecutive_5xx is reached, for base_ejection_time × backoff,
 *    released on the interval timer; with every endpoint ejected and Istio's panic threshold of 0
 *    (cluster_traffic_policy.go) the answer is 503 `UH` "no healthy upstream" (outlier_detection_impl.cc);
 *  - retries: 1 + attempts tries on the retryOn conditions, `URX` and the upstream's own answer when they run out
 *    (envoy router.cc; Istio's default policy retries connection failures only: route/retry/retry.go);
 *  - a route timeout bounds every attempt together: 504 `UT` "upstream request timeout";
 *  - mirroring: a copy to the mirror subset, fire and forget, counted only by the mirror's own sidecar.
 */

export interface SimRequest {
  method: string;
  /** Host as the client addressed it (Host header), with or without port. */
  host: string;
  /** Path and query. */
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body?: string;
}

export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the simulated mesh can be told to get wrong, one way per feature (see mesh.ts `Breakage`). */
export interface SidecarFaults {
  weights?: Record<string, number>;
  /** Header matches on these names hold for every request. */
  ignoredHeaders?: string[];
  noDelay?: boolean;
  noAbort?: boolean;
  noConnectionPool?: boolean;
  refuseEverything?: boolean;
  noOutlierDetection?: boolean;
  ejectionNeverEnds?: boolean;
  noRetries?: boolean;
  noTimeout?: boolean;
  noMirror?: boolean;
}

export interface MeshNetwork {
  /** The inbound port of a workload (its sidecar's inbound listener). */
  inboundPort(workload: string): number;
  /** Proves a connection came from a sidecar (stands in for the mTLS handshake). */
  peerToken(source: Workload): string;
  exporter: IstioExporter;
  /** Where every proxy reports its spans (the Jaeger double reads them). */
  spans: SpanCollector;
  random(): number;
  faults(): SidecarFaults;
  silent(workload: string): boolean;
  /** A workload as its pod's labels name it in telemetry (a mislabelled pod reports another version). */
  labelled(workload: Workload): Workload;
}

const overflowText = 'upstream connect error or disconnect/reset before headers. reset reason: overflow';
const connectFailureText = 'upstream connect error or disconnect/reset before headers. reset reason: remote connection failure';
/** Istio's retry policy when a route sets none (pilot route/retry/retry.go DefaultPolicy). */
const defaultRetries = { attempts: 2, retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes' };
/** Envoy's default retry back-off base (25 ms), jitter left out. */
const retryBackOffMs = 25;

interface Pool {
  active: number;
  waiting: (() => void)[];
}

interface Outlier {
  consecutive5xx: Map<string, number>;
  ejectedUntil: Map<string, number>;
  backoff: Map<string, number>;
  /** When the cluster's interval timer started: ejections end on its ticks. */
  ticksFrom: number;
  /** The policy it was made for: a changed cluster starts over, as Envoy replaces it with its state. */
  policy: string;
}

export class OutboundSidecar {
  /** The configuration this proxy was last pushed (istiod's may be newer). */
  view: IstioConfig;
  private readonly pools = new Map<string, Pool>();
  private readonly outliers = new Map<string, Outlier>();

  constructor(
    readonly source: Workload,
    initial: IstioConfig,
    private readonly net: MeshNetwork,
  ) {
    this.view = initial;
  }

  push(config: IstioConfig): void {
    this.view = config;
  }

  /**
   * A request leaving through this sidecar, routed by `route` (the gateway passes its own). `downstream` aborts when
   * the application gives up on it: the span ends there, unanswered (DC), as Envoy's does.
   */
  async send(req: SimRequest, chosen?: { route: HttpRoute; service: Service }, downstream?: AbortSignal): Promise<SimResponse> {
    const service = chosen?.service ?? serviceFor(req.host, this.source.namespace);
    if (!service) return { status: 503, headers: {}, body: 'no healthy upstream' };
    const faults = this.net.faults();
    const vs = this.view.virtualServiceFor(service);
    let route = chosen?.route;
    if (!route) {
      route = vs
        ? vs.spec.http?.find((r) => routeMatches(r, req, faults.ignoredHeaders))
        : { route: [{ destination: { host: service.name } }] };
    }
    const flags: string[] = [];
    // The client span: Istio names it after the route's host and port (pilot route.go GetRouteOperation), and Envoy
    // tags it with the route's cluster.
    const subset = route?.route?.[0]?.destination.subset;
    const span = this.net.spans.start(this.source, 'client', req.headers.traceparent, `${fqdn(service)}:${service.port}/*`, `outbound|${service.port}|${subset ?? ''}|${fqdn(service)}`);
    req = { ...req, headers: { ...req.headers, traceparent: span.traceparent } };
    const gone = () => span.end(0, [...flags, 'DC']);
    downstream?.addEventListener('abort', gone, { once: true });
    const finish = (res: SimResponse, destination: Workload | undefined): SimResponse => {
      downstream?.removeEventListener('abort', gone);
      span.end(res.status, flags);
      this.report(service, destination, res.status, flags);
      return res;
    };
    /** A local reply of this sidecar, with its flag. */
    const reply = (flag: string, status: number, body: string, destination?: Workload): SimResponse => {
      flags.push(flag);
      return finish(local(status, body), destination);
    };
    // No route for this request: Envoy answers 404 itself (flag NR).
    if (!route) return reply('NR', 404, '');

    const delay = route.fault?.delay;
    if (delay && !faults.noDelay && this.roll(delay.percentage?.value)) {
      flags.push('DI');
      await sleep(durationMs(delay.fixedDelay));
    }
    const abort = route.fault?.abort;
    const sampled = (abort?.percentage?.value ?? 100) < 100;
    if (abort && !(faults.noAbort && sampled) && this.roll(abort.percentage?.value)) return reply('FI', abort.httpStatus, 'fault filter abort');

    const destination = this.pickDestination(route, service, faults);
    if (route.mirror && !faults.noMirror && this.roll(route.mirrorPercentage?.value)) {
      const copy = this.endpointsOf(service, route.mirror.subset);
      const target = copy[Math.floor(this.net.random() * copy.length)];
      if (target) void this.attempt(req, target).catch(() => undefined);
    }
    const deadline = route.timeout && !faults.noTimeout ? Date.now() + durationMs(route.timeout) : undefined;
    const retries = faults.noRetries ? { attempts: 0, retryOn: '' } : (route.retries ?? defaultRetries);
    const retryOn = new Set((retries.retryOn ?? defaultRetries.retryOn).split(',').map((s) => s.trim()));
    const dr = this.view.destinationRuleFor(service);
    const cluster = `outbound|${service.port}|${destination.subset ?? ''}|${fqdn(service)}`;

    let last: { res: SimResponse; endpoint: Workload | undefined } | undefined;
    for (let attempt = 0; attempt <= retries.attempts; attempt += 1) {
      if (attempt > 0) await sleep(retryBackOffMs);
      const endpoints = this.healthyEndpoints(cluster, this.endpointsOf(service, destination.subset, dr?.spec), dr?.spec, faults);
      if (endpoints.length === 0) return reply('UH', 503, 'no healthy upstream');
      const endpoint = endpoints[Math.floor(this.net.random() * endpoints.length)]!;
      const admitted = await this.admit(cluster, dr?.spec, faults);
      if (!admitted) return reply('UO', 503, overflowText, endpoint);
      let outcome: { res: SimResponse } | { connectFailure: true } | { timedOut: true };
      try {
        outcome = await this.attemptWithin(req, endpoint, deadline, attempt + 1);
      } finally {
        this.release(cluster);
      }
      if ('timedOut' in outcome) return reply('UT', 504, 'upstream request timeout', endpoint);
      if ('connectFailure' in outcome) {
        // A connection failure counts as a 503 for outlier detection (split_external_local_origin_errors off).
        this.recordOutcome(cluster, endpoint, 503, dr?.spec, faults);
        last = { res: local(503, connectFailureText), endpoint };
        if (retryOn.has('connect-failure') && attempt < retries.attempts) continue;
        return reply('UF', 503, connectFailureText, endpoint);
      }
      this.recordOutcome(cluster, endpoint, outcome.res.status, dr?.spec, faults);
      last = { res: outcome.res, endpoint };
      const retriable = (retryOn.has('5xx') && outcome.res.status >= 500) || (retryOn.has('gateway-error') && [502, 503, 504].includes(outcome.res.status));
      if (!retriable) return finish(outcome.res, endpoint);
      if (attempt === retries.attempts) {
        if (retries.attempts > 0) flags.push('URX');
        return finish(outcome.res, endpoint);
      }
    }
    return finish(last!.res, last!.endpoint);
  }

  private roll(percent: number | undefined): boolean {
    return this.net.random() * 100 < (percent ?? 100);
  }

  private pickDestination(route: HttpRoute, service: Service, faults: SidecarFaults): Destination {
    const options = route.route ?? [{ destination: { host: service.name } }];
    const weighted = options.map((o) => ({ destination: o.destination, weight: o.weight ?? (options.length === 1 ? 100 : 0) }));
    if (faults.weights && service.name === 'reviews') {
      for (const w of weighted) w.weight = faults.weights[w.destination.subset ?? ''] ?? 0;
    }
    const total = weighted.reduce((sum, w) => sum + w.weight, 0);
    let roll = this.net.random() * total;
    for (const w of weighted) {
      if (roll < w.weight) return w.destination;
      roll -= w.weight;
    }
    return weighted.at(-1)!.destination;
  }

  /** A subset's endpoints: the Service's workloads whose labels the DestinationRule's subset names. */
  private endpointsOf(service: Service, subset: string | undefined, dr?: DestinationRuleSpec): Workload[] {
    const all = service.endpoints.map(workload);
    if (!subset) return all;
    const labels = (dr ?? this.view.destinationRuleFor(service)?.spec)?.subsets?.find((s) => s.name === subset)?.labels;
    if (!labels) return [];
    return all.filter((w) => Object.entries(labels).every(([k, v]) => (k === 'version' ? w.version : k === 'app' ? w.app : undefined) === v));
  }

  private healthyEndpoints(cluster: string, endpoints: Workload[], dr: DestinationRuleSpec | undefined, faults: SidecarFaults): Workload[] {
    if (!dr?.trafficPolicy?.outlierDetection || faults.noOutlierDetection) return endpoints;
    const outlier = this.outlierFor(cluster, dr.trafficPolicy.outlierDetection);
    const now = Date.now();
    return endpoints.filter((e) => (outlier?.ejectedUntil.get(e.name) ?? 0) <= now);
  }

  /** Counts an upstream answer for outlier detection (only real upstream codes: local replies never reach it). */
  private recordOutcome(cluster: string, endpoint: Workload, status: number, dr: DestinationRuleSpec | undefined, faults: SidecarFaults): void {
    const policy = dr?.trafficPolicy?.outlierDetection;
    if (!policy || faults.noOutlierDetection) return;
    const outlier = this.outlierFor(cluster, policy);
    if (status < 500) {
      outlier.consecutive5xx.set(endpoint.name, 0);
      return;
    }
    const count = (outlier.consecutive5xx.get(endpoint.name) ?? 0) + 1;
    outlier.consecutive5xx.set(endpoint.name, count);
    // Istio's default consecutive5xxErrors is 5 (destination_rule.proto).
    if (count < (policy.consecutive5xxErrors ?? 5)) return;
    const backoff = (outlier.backoff.get(endpoint.name) ?? 0) + 1;
    outlier.backoff.set(endpoint.name, backoff);
    // Istio's defaults: baseEjectionTime 30s, interval 10s (destination_rule.proto); Envoy's max_ejection_time
    // is max(300 s, base). The host comes back at the first interval tick after its ejection time.
    const base = durationMs(policy.baseEjectionTime ?? '30s');
    const interval = durationMs(policy.interval ?? '10s');
    const ejectFor = Math.min(base * backoff, Math.max(300_000, base));
    const sinceStart = Date.now() + ejectFor - outlier.ticksFrom;
    const nextTick = outlier.ticksFrom + Math.ceil(sinceStart / interval) * interval;
    outlier.ejectedUntil.set(endpoint.name, faults.ejectionNeverEnds ? Infinity : nextTick);
    outlier.consecutive5xx.set(endpoint.name, 0);
  }

  private outlierFor(cluster: string, policy: NonNullable<NonNullable<DestinationRuleSpec['trafficPolicy']>['outlierDetection']>): Outlier {
    let outlier = this.outliers.get(cluster);
    if (!outlier || outlier.policy !== JSON.stringify(policy)) {
      outlier = { consecutive5xx: new Map(), ejectedUntil: new Map(), backoff: new Map(), ticksFrom: Date.now(), policy: JSON.stringify(policy) };
      this.outliers.set(cluster, outlier);
    }
    return outlier;
  }

  private async admit(cluster: string, dr: DestinationRuleSpec | undefined, faults: SidecarFaults): Promise<boolean> {
    if (faults.refuseEverything) return false;
    const pool = this.pools.get(cluster) ?? { active: 0, waiting: [] };
    this.pools.set(cluster, pool);
    const limits = dr?.trafficPolicy?.connectionPool;
    if (!limits || faults.noConnectionPool) {
      pool.active += 1;
      return true;
    }
    const maxActive = limits.tcp?.maxConnections ?? Number.MAX_SAFE_INTEGER;
    const maxPending = limits.http?.http1MaxPendingRequests ?? Number.MAX_SAFE_INTEGER;
    if (pool.active < maxActive) {
      pool.active += 1;
      return true;
    }
    if (pool.waiting.length >= maxPending) return false;
    await new Promise<void>((resolve) => pool.waiting.push(resolve));
    return true;
  }

  private release(cluster: string): void {
    const pool = this.pools.get(cluster)!;
    const next = pool.waiting.shift();
    if (next) next();
    else pool.active -= 1;
  }

  private async attemptWithin(req: SimRequest, endpoint: Workload, deadline: number | undefined, attemptCount: number) {
    const budget = deadline === undefined ? undefined : deadline - Date.now();
    if (budget !== undefined && budget <= 0) return { timedOut: true as const };
    try {
      return { res: await this.attempt(req, endpoint, budget, attemptCount) };
    } catch (error) {
      if ((error as { timedOut?: boolean }).timedOut) return { timedOut: true as const };
      return { connectFailure: true as const };
    }
  }

  /** One attempt: HTTP to the endpoint's inbound port, over "mutual TLS" when it has a sidecar. */
  private async attempt(req: SimRequest, endpoint: Workload, budgetMs?: number, attemptCount = 1): Promise<SimResponse> {
    const headers: Record<string, string> = { ...req.headers, host: req.host, 'x-envoy-attempt-count': String(attemptCount) };
    if (endpoint.proxy !== 'none') headers['x-meshsim-peer'] = this.net.peerToken(this.source);
    const signal = budgetMs === undefined ? undefined : AbortSignal.timeout(budgetMs);
    try {
      const response = await request(`http://127.0.0.1:${this.net.inboundPort(endpoint.name)}${req.path}`, {
        method: req.method as 'GET',
        headers,
        ...(req.body !== undefined && { body: req.body }),
        signal,
      });
      const body = await response.body.text();
      const kept: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') kept[name] = value;
      return { status: response.statusCode, headers: kept, body };
    } catch (error) {
      if (signal?.aborted) throw Object.assign(new Error('timed out'), { timedOut: true });
      throw error;
    }
  }

  private report(service: Service, destination: Workload | undefined, status: number, flags: string[]): void {
    if (this.net.silent(this.source.name)) return;
    const labelled = { source: this.net.labelled(this.source), destination: destination && this.net.labelled(destination) };
    this.net.exporter.add(requestLabels({ reporter: 'source', ...labelled, service, responseCode: status, flags, mutualTls: false }), 1);
  }
}

function local(status: number, body: string): SimResponse {
  return { status, headers: { 'content-type': 'text/plain', server: 'envoy' }, body };
}
