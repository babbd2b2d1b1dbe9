/**
 * Who is who in the simulated mesh: the lab's workloads and Services as the real cluster has them
 * (fixtures/bookinfo/bookinfo.yaml, fixtures/workloads/test-clients.yaml, the istio/gateway chart's
 * istio-ingressgateway), so that every label the simulated sidecars report names them as Istio would.
 */
export interface Workload {
  /** The Deployment's name, Istio's `*_workload` label. */
  name: string;
  namespace: string;
  /** `app` and `version` labels: Istio's canonical service and revision (pkg/kube/labels/labels.go). */
  app: string;
  version: string;
  serviceAccount: string;
  /** Whether an Envoy runs beside it (istio-injection=enabled), or it is a gateway (a proxy of its own). */
  proxy: 'sidecar' | 'gateway' | 'none';
}

export interface Service {
  name: string;
  namespace: string;
  port: number;
  /** The workloads its selector picks, by name. */
  endpoints: string[];
}

const bookinfo = (name: string, app: string, version: string, serviceAccount = `bookinfo-${app}`): Workload => ({
  name,
  namespace: 'bookinfo',
  app,
  version,
  serviceAccount,
  proxy: 'sidecar',
});

export const workloads: Workload[] = [
  bookinfo('productpage-v1', 'productpage', 'v1'),
  bookinfo('details-v1', 'details', 'v1'),
  bookinfo('reviews-v1', 'reviews', 'v1'),
  bookinfo('reviews-v2', 'reviews', 'v2'),
  bookinfo('reviews-v3', 'reviews', 'v3'),
  bookinfo('ratings-v1', 'ratings', 'v1'),
  { name: 'httpbin', namespace: 'meshproof', app: 'httpbin', version: 'v1', serviceAccount: 'httpbin', proxy: 'sidecar' },
  { name: 'mesh-client', namespace: 'meshproof', app: 'mesh-client', version: 'v1', serviceAccount: 'mesh-client', proxy: 'sidecar' },
  { name: 'legacy-client', namespace: 'meshproof-legacy', app: 'legacy-client', version: 'v1', serviceAccount: 'legacy-client', proxy: 'none' },
  {
    name: 'istio-ingressgateway',
    namespace: 'istio-system',
    app: 'istio-ingressgateway',
    version: 'unknown',
    serviceAccount: 'istio-ingressgateway',
    proxy: 'gateway',
  },
];

export const services: Service[] = [
  { name: 'productpage', namespace: 'bookinfo', port: 9080, endpoints: ['productpage-v1'] },
  { name: 'details', namespace: 'bookinfo', port: 9080, endpoints: ['details-v1'] },
  { name: 'reviews', namespace: 'bookinfo', port: 9080, endpoints: ['reviews-v1', 'reviews-v2', 'reviews-v3'] },
  { name: 'ratings', namespace: 'bookinfo', port: 9080, endpoints: ['ratings-v1'] },
  { name: 'httpbin', namespace: 'meshproof', port: 8000, endpoints: ['httpbin'] },
];

export function workload(name: string): Workload {
  const found = workloads.find((w) => w.name === name);
  if (!found) throw new Error(`mesh-sim: no workload ${name}`);
  return found;
}

export const fqdn = (service: Service) => `${service.name}.${service.namespace}.svc.cluster.local`;

/**
 * The Service a host name means, as Kubernetes DNS resolves it from `fromNamespace`: the short name in the
 * same namespace, `<name>.<namespace>`, `<name>.<namespace>.svc` or the FQDN. A port, if given, is ignored.
 */
export function serviceFor(host: string, fromNamespace: string): Service | undefined {
  const name = host.replace(/:\d+$/, '').toLowerCase();
  const parts = name.split('.');
  const [short, namespace = fromNamespace, svc, ...rest] = parts;
  if (parts.length > 2 && svc !== 'svc') return undefined;
  if (rest.length > 0 && rest.join('.') !== 'cluster.local') return undefined;
  return services.find((s) => s.name === short && s.namespace === namespace);
}

/** Istio's SPIFFE identity of a workload (its ServiceAccount). */
export const principal = (w: Workload) => `spiffe://cluster.local/ns/${w.namespace}/sa/${w.serviceAccount}`;
