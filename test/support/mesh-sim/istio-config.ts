import { istioDurationMs, type KubeObject } from '../../../helpers/config/manifests.ts';
import { serviceFor, type Service } from './workloads.ts';

/**
 * The part of Istio's API the simulated mesh obeys, read from the very objects the suites apply (the lab's
 * fixtures plus meshproof's probe routes): VirtualService routes (header and URI matches, weights, subsets,
 * faults, timeouts, retries, mirroring), DestinationRule subsets and traffic policies (connection pool, outlier
 * detection), and PeerAuthentication modes. Field meanings: istio/api networking/v1alpha3/virtual_service.proto,
 * destination_rule.proto, security/v1beta1/peer_authentication.proto (at 1.30.3).
 */

export type StringMatch = { exact?: string; prefix?: string; regex?: string };
export interface HttpMatch {
  headers?: Record<string, StringMatch>;
  uri?: StringMatch;
}
export interface Destination {
  host: string;
  subset?: string;
  port?: { number: number };
}
export interface HttpRoute {
  name?: string;
  match?: HttpMatch[];
  route?: { destination: Destination; weight?: number }[];
  fault?: {
    delay?: { fixedDelay: string; percentage?: { value: number } };
    abort?: { httpStatus: number; percentage?: { value: number } };
  };
  timeout?: string;
  retries?: { attempts: number; retryOn?: string; perTryTimeout?: string };
  mirror?: Destination;
  mirrorPercentage?: { value: number };
}
export interface VirtualServiceSpec {
  hosts: string[];
  gateways?: string[];
  http?: HttpRoute[];
}
export interface TrafficPolicy {
  connectionPool?: { tcp?: { maxConnections?: number }; http?: { http1MaxPendingRequests?: number; maxRequestsPerConnection?: number } };
  outlierDetection?: { consecutive5xxErrors?: number; interval?: string; baseEjectionTime?: string; maxEjectionPercent?: number; minHealthPercent?: number };
}
export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: { name: string; labels: Record<string, string> }[];
}

/** A Go duration as Istio writes them, in milliseconds: meshproof's own reader. */
export const durationMs = istioDurationMs;

const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** One consistent set of Istio objects: what istiod holds, or what one proxy was last pushed. */
export class IstioConfig {
  private readonly objects = new Map<string, KubeObject>();

  constructor(objects: Iterable<KubeObject> = []) {
    for (const o of objects) this.objects.set(key(o), structuredClone(o));
  }

  apply(objects: KubeObject[]): void {
    for (const o of objects) this.objects.set(key(o), structuredClone(o));
  }

  delete(objects: KubeObject[]): void {
    for (const o of objects) this.objects.delete(key(o));
  }

  copy(): IstioConfig {
    return new IstioConfig(this.objects.values());
  }

  all(kind?: string): KubeObject[] {
    return [...this.objects.values()].filter((o) => kind === undefined || o.kind === kind);
  }

  /** The VirtualService for a mesh host as seen from a sidecar (not bound to a gateway). */
  virtualServiceFor(service: Service): (KubeObject & { spec: VirtualServiceSpec }) | undefined {
    return this.all('VirtualService')
      .map((o) => o as KubeObject & { spec: VirtualServiceSpec })
      .filter((o) => !o.spec.gateways || o.spec.gateways.includes('mesh'))
      .find((o) => o.spec.hosts.some((h) => serviceFor(h, o.metadata.namespace ?? 'default') === service));
  }

  /** The VirtualServices bound to a gateway, for the ingress. */
  gatewayRoutes(gateway: string): (KubeObject & { spec: VirtualServiceSpec })[] {
    return this.all('VirtualService')
      .map((o) => o as KubeObject & { spec: VirtualServiceSpec })
      .filter((o) => o.spec.gateways?.some((g) => g === gateway || g.endsWith(`/${gateway}`)));
  }

  destinationRuleFor(service: Service): (KubeObject & { spec: DestinationRuleSpec }) | undefined {
    return this.all('DestinationRule')
      .map((o) => o as KubeObject & { spec: DestinationRuleSpec })
      .find((o) => serviceFor(o.spec.host, o.metadata.namespace ?? 'default') === service);
  }

  /** STRICT, PERMISSIVE or DISABLE for a namespace: its own `default` policy, else the mesh-wide one, else PERMISSIVE. */
  mtlsMode(namespace: string): string {
    const policies = this.all('PeerAuthentication') as (KubeObject & { spec: { selector?: unknown; mtls?: { mode?: string } } })[];
    const namespaceWide = policies.find((p) => p.metadata.namespace === namespace && !p.spec.selector);
    const meshWide = policies.find((p) => p.metadata.namespace === 'istio-system' && !p.spec.selector);
    return namespaceWide?.spec.mtls?.mode ?? meshWide?.spec.mtls?.mode ?? 'PERMISSIVE';
  }
}

export function stringMatches(match: StringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (match.exact !== undefined) return value === match.exact;
  if (match.prefix !== undefined) return value.startsWith(match.prefix);
  if (match.regex !== undefined) return new RegExp(`^(?:${match.regex})$`).test(value);
  return true;
}

/**
 * Whether a request matches one HTTPMatchRequest (every condition holds); no match list matches all. Headers
 * named in `ignored` match whatever they say (a broken mesh that does not read them).
 */
export function routeMatches(route: HttpRoute, request: { path: string; headers: Record<string, string> }, ignored: readonly string[] = []): boolean {
  if (!route.match || route.match.length === 0) return true;
  return route.match.some(
    (m) =>
      (!m.uri || stringMatches(m.uri, request.path.split('?')[0])) &&
      Object.entries(m.headers ?? {}).every(([name, want]) => ignored.includes(name.toLowerCase()) || stringMatches(want, request.headers[name.toLowerCase()])),
  );
}
