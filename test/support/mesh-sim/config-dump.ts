import { durationMs, type IstioConfig } from './istio-config.ts';
import { fqdn, services } from './workloads.ts';

/**
 * What `pilot-agent request GET config_dump?resource=…` prints in a simulated sidecar, shaped as Envoy's admin
 * API prints it (snake_case field names, one entry per resource) and filled as istiod translates the proxy's
 * configuration (istio/istio@1.30.3):
 *  - routes: RouteConfigurations named by port ("9080"), virtual hosts named "<fqdn>:<port>" whose domains
 *    carry no port, and each HTTP route named after the VirtualService route's `name`
 *    (pilot/pkg/networking/core/route/route.go TranslateRoute; httproute.go);
 *  - clusters: "outbound|<port>|<subset>|<fqdn>", circuit-breaker thresholds at MaxUint32 unless a
 *    DestinationRule sets them, outlier detection with enforcing_consecutive_5xx 100 and a healthy panic
 *    threshold of minHealthPercent (0 when unset) (cluster_traffic_policy.go).
 */
const maxUint32 = 4294967295;

const seconds = (text: string) => `${durationMs(text) / 1000}s`;

function routes(view: IstioConfig) {
  const byPort = new Map<number, unknown[]>();
  for (const service of services) {
    const vs = view.virtualServiceFor(service);
    const named = vs?.spec.http?.map((route, i) => ({ name: route.name ?? '', match: { prefix: '/' }, index: i })) ?? [{ name: 'default', match: { prefix: '/' } }];
    const host = {
      name: `${fqdn(service)}:${service.port}`,
      domains: [fqdn(service), `${service.name}.${service.namespace}`, `${service.name}.${service.namespace}.svc`],
      routes: named.map(({ name, match }) => ({ name, match, route: { cluster: `outbound|${service.port}||${fqdn(service)}` } })),
    };
    byPort.set(service.port, [...(byPort.get(service.port) ?? []), host]);
  }
  return [...byPort.entries()].map(([port, virtualHosts]) => ({
    '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump.DynamicRouteConfig',
    version_info: 'meshsim',
    route_config: { '@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration', name: String(port), virtual_hosts: virtualHosts },
  }));
}

function clusters(view: IstioConfig) {
  const out: unknown[] = [];
  for (const service of services) {
    const dr = view.destinationRuleFor(service)?.spec;
    const pool = dr?.trafficPolicy?.connectionPool;
    const outlier = dr?.trafficPolicy?.outlierDetection;
    for (const subset of ['', ...(dr?.subsets ?? []).map((s) => s.name)]) {
      const cluster: Record<string, unknown> = {
        '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
        name: `outbound|${service.port}|${subset}|${fqdn(service)}`,
        circuit_breakers: {
          thresholds: [
            {
              max_connections: pool?.tcp?.maxConnections ?? maxUint32,
              max_pending_requests: pool?.http?.http1MaxPendingRequests ?? maxUint32,
              max_requests: maxUint32,
              max_retries: maxUint32,
            },
          ],
        },
      };
      if (pool?.http?.maxRequestsPerConnection) {
        cluster.typed_extension_protocol_options = {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { common_http_protocol_options: { max_requests_per_connection: pool.http.maxRequestsPerConnection } },
        };
      }
      if (outlier) {
        cluster.outlier_detection = {
          ...(outlier.consecutive5xxErrors !== undefined && { consecutive_5xx: outlier.consecutive5xxErrors, enforcing_consecutive_5xx: outlier.consecutive5xxErrors > 0 ? 100 : 0 }),
          ...(outlier.interval && { interval: seconds(outlier.interval) }),
          ...(outlier.baseEjectionTime && { base_ejection_time: seconds(outlier.baseEjectionTime) }),
          ...(outlier.maxEjectionPercent && { max_ejection_percent: outlier.maxEjectionPercent }),
          enforcing_success_rate: 0,
        };
        cluster.common_lb_config = { healthy_panic_threshold: { value: outlier.minHealthPercent ?? 0 } };
      }
      out.push({ '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster', version_info: 'meshsim', cluster });
    }
  }
  return out;
}

export function configDump(view: IstioConfig, path: string): string {
  const resource = /[?&]resource=([^&]+)/.exec(path)?.[1];
  const configs = resource === 'dynamic_route_configs' ? routes(view) : resource === 'dynamic_active_clusters' ? clusters(view) : [...routes(view), ...clusters(view)];
  return `${JSON.stringify({ configs }, null, 1)}\n`;
}
