/**
 * The features meshproof proves, one suite file each. The names are the keys users write in
 * MESHPROOF_SKIP / MESHPROOF_ONLY and the names the conformance summary reports.
 */
export const featureCatalog = {
  'traffic-shifting': 'Canary weights: 80 % of traffic to reviews v1, 10 % to v2, 10 % to v3',
  'request-routing': 'Header routing: user jason is routed to reviews v2, everyone else to v1',
  'fault-delay': 'Fault injection: a 7 s delay on ratings for user jason',
  'fault-abort': 'Fault injection: HTTP 500 from ratings',
  'circuit-breaker': 'Circuit breaker: 1 connection, 1 pending request, ejection after 1 consecutive 5xx',
  'timeouts-retries': 'A 3 s timeout on reviews and 2 retries on 5xx and connect failures',
  mirroring: 'Traffic mirroring: live traffic to reviews v1, a shadow copy to v3',
  'mtls-strict': 'STRICT mTLS in the bookinfo namespace: plaintext from outside the mesh is rejected',
  prometheus: 'Prometheus answers the lab PromQL queries with Istio metrics',
  grafana: 'Grafana serves the Istio Mesh, Service, Workload and Control Plane dashboards',
  jaeger: 'Jaeger holds end-to-end traces of productpage requests',
  kiali: 'Kiali draws the bookinfo graph with live traffic and mTLS',
} as const;

export type FeatureName = keyof typeof featureCatalog;
export const featureNames = Object.keys(featureCatalog) as FeatureName[];

export function isFeatureName(name: string): name is FeatureName {
  return Object.hasOwn(featureCatalog, name);
}

/**
 * The lab's feature files each feature applies, in order (fixtures/features/). The delay is observed on
 * reviews v2, so fault-delay routes jason there first, as the istio.io fault-injection task does.
 */
export const featureFixtures: Record<FeatureName, string[]> = {
  'traffic-shifting': ['fixtures/features/01-traffic-shifting.yaml'],
  'request-routing': ['fixtures/features/04-request-routing.yaml'],
  'fault-delay': ['fixtures/features/04-request-routing.yaml', 'fixtures/features/02-fault-injection.yaml'],
  'fault-abort': ['fixtures/features/02-fault-injection.yaml'],
  'circuit-breaker': ['fixtures/features/03-circuit-breaker.yaml'],
  // Bookinfo's reviews is never slow by itself: jason's 7 s ratings delay makes reviews v2 slow enough to meet
  // the 3 s timeout, as the istio.io request-timeouts task slows ratings down first.
  'timeouts-retries': ['fixtures/features/05-timeout-retry.yaml', 'fixtures/features/02-fault-injection.yaml'],
  mirroring: ['fixtures/features/06-mirror-traffic.yaml'],
  'mtls-strict': ['fixtures/features/07-mtls-strict.yaml'],
  prometheus: [],
  grafana: [],
  jaeger: [],
  kiali: [],
};
