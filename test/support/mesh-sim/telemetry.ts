import { fqdn, principal, type Service, type Workload } from './workloads.ts';

/**
 * The one table of Istio's standard request labels the simulated sidecars report, with the value each reporter
 * really sets. The label set and order are istio/proxy's (testdata/metric/client_request_total.yaml.tmpl at
 * 1.30.3); the values follow source/extensions/filters/http/istio_stats/istio_stats.cc at the same tag:
 *
 *  - `connection_security_policy` is computed only by the server side: `mutual_tls` when both the peer's and
 *    the local SAN exist, else `none`; the client side never sets it, so source-reported series say `unknown`;
 *  - one series per downstream stream: the client's sidecar counts one request however often the router
 *    retried it, the destination's sidecar one per attempt that reached it;
 *  - a request answered by the client's sidecar itself (a fault abort, no healthy upstream) names no
 *    destination workload, while `destination_service_name` is still the route's Service;
 *  - missing values are `unknown`, canonical revisions default to `latest`, flags to `-`, clusters to
 *    `Kubernetes` (the injection template's default cluster name).
 *
 * Nothing here reads the selectors the suites query: the suites must find these series by Istio's labels.
 */
export interface RequestFacts {
  reporter: 'source' | 'destination';
  source: Workload;
  /** The Service the request was routed to. */
  service: Service;
  /** The endpoint that answered; undefined when the client's sidecar answered itself. */
  destination: Workload | undefined;
  responseCode: number;
  /** Envoy's flags, in the order they were set ("DI,FI"); empty for none. */
  flags: string[];
  /** Whether the connection to the destination was mutual TLS (only the destination reporter knows). */
  mutualTls: boolean;
}

export function requestLabels(facts: RequestFacts): Record<string, string> {
  const { source, destination, service } = facts;
  const serverSide = facts.reporter === 'destination';
  return {
    reporter: facts.reporter,
    source_workload: source.name,
    source_canonical_service: source.app,
    source_canonical_revision: source.version === 'unknown' ? 'latest' : source.version,
    source_workload_namespace: source.namespace,
    source_principal: serverSide && !facts.mutualTls ? 'unknown' : principal(source),
    source_app: source.app,
    source_version: source.version,
    source_cluster: 'Kubernetes',
    destination_workload: destination?.name ?? 'unknown',
    destination_workload_namespace: destination?.namespace ?? 'unknown',
    destination_principal: destination && (serverSide || facts.mutualTls) ? principal(destination) : 'unknown',
    destination_app: destination?.app ?? 'unknown',
    destination_version: destination?.version ?? 'unknown',
    destination_service: fqdn(service),
    destination_canonical_service: destination?.app ?? 'unknown',
    destination_canonical_revision: destination?.version ?? 'latest',
    destination_service_name: service.name,
    destination_service_namespace: service.namespace,
    destination_cluster: 'Kubernetes',
    request_protocol: 'http',
    response_code: String(facts.responseCode),
    grpc_response_status: '',
    response_flags: facts.flags.length ? facts.flags.join(',') : '-',
    connection_security_policy: serverSide ? (facts.mutualTls ? 'mutual_tls' : 'none') : 'unknown',
  };
}
