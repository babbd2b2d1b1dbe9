import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimMesh } from './mesh-sim/mesh.ts';
import type { DestinationRuleSpec, VirtualServiceSpec } from './mesh-sim/istio-config.ts';
import { serviceFor, type Workload } from './mesh-sim/workloads.ts';

/**
 * A loopback Kiali for the self-tests whose answers are computed, not written: the graph from the real
 * Prometheus the simulated mesh's sidecars are scraped into, with Kiali's own queries and rules, and the
 * validations and workloads list from the simulated mesh's Istio objects and pods. So a mesh broken on purpose
 * (plaintext served under STRICT, a mislabelled pod, a pod without its sidecar, a subset that selects nothing)
 * shows in Kiali's answers the way it would in a cluster, and a Kiali verdict can be seen failing for it.
 *
 * What is modelled, each from kiali/kiali@v2.26.0 (not copied):
 *  - the namespace graph, versionedApp, no injected service nodes (graph/telemetry/istio/istio.go
 *    buildNamespaceTrafficMap): rate(istio_requests_total[duration]) at queryTime from three queries in order —
 *    source-reported requests into the namespace that reached no workload, destination-reported requests into
 *    it, source-reported requests out of it — a series counted once per edge, code, flags and host (first query
 *    wins); a request with no destination workload ends at the service node;
 *  - edge rates as strings with two decimals, omitted when 0, httpPercentErr/httpPercentReq with one
 *    (graph/protocol.go, graph/config/common/common.go addEdgeTelemetry); node ids are hashes;
 *  - isMTLS from destination-reported connection_security_policy, "%.0f", only when some mTLS was seen
 *    (graph/telemetry/istio/appender/security_policy.go);
 *  - /api/istio/validations: [{errors, warnings, objectCount, namespace, cluster}] (models/istio_validation.go
 *    IstioValidationSummary), from four of Kiali's checks: KIA0202 (error: a DestinationRule host not in the
 *    registry), KIA0203 (error: a subset whose labels select no pod), KIA1101 (error: a route to a host not
 *    found), KIA1107 (warning: a route to a subset no DestinationRule defines);
 *  - /api/clusters/workloads: {cluster, workloads: [{name, namespace, istioSidecar, podCount, …}], validations}
 *    (models/workload.go).
 */
export interface KialiDouble {
  url: string;
  stop(): Promise<void>;
}

const cluster = 'Kubernetes';
const groupBy =
  'source_cluster,source_workload_namespace,source_workload,source_canonical_service,source_canonical_revision,destination_cluster,destination_service_namespace,destination_service,destination_service_name,destination_workload_namespace,destination_workload,destination_canonical_service,destination_canonical_revision,request_protocol,response_code,response_flags';
const mtlsGroupBy =
  'source_workload_namespace,source_workload,source_canonical_service,source_canonical_revision,destination_service_namespace,destination_service_name,destination_workload_namespace,destination_workload,destination_canonical_service,destination_canonical_revision,connection_security_policy';

type Series = { metric: Record<string, string>; value: [number, string] };
const ok = (v: string | undefined) => !!v && v !== 'unknown';
const hash = (text: string) => createHash('sha256').update(text).digest('hex');

async function promQuery(prometheus: string, query: string, time: number): Promise<Series[]> {
  const response = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query, time: String(time) })}`);
  const body = (await response.json()) as { data?: { result?: Series[] } };
  return body.data?.result ?? [];
}

interface NodeData {
  id: string;
  nodeType: string;
  cluster: string;
  namespace: string;
  app?: string;
  version?: string;
  workload?: string;
  service?: string;
}

/** A versionedApp node: an app and version; a service when the request reached no workload; "unknown" when the caller had no sidecar. */
function nodeOf(m: Record<string, string>, side: 'source' | 'destination'): NodeData {
  if (side === 'source') {
    if (!ok(m.source_workload_namespace)) return { id: hash('unknown'), nodeType: 'unknown', cluster: 'unknown', namespace: 'unknown', workload: 'unknown', app: 'unknown' };
    const [namespace, app, version] = [m.source_workload_namespace!, m.source_canonical_service!, m.source_canonical_revision!];
    return { id: hash(`${cluster}_${namespace}_${app}_${version}`), nodeType: 'app', cluster, namespace, workload: m.source_workload!, app, version };
  }
  if (!ok(m.destination_workload)) {
    const [namespace, service] = [m.destination_service_namespace!, m.destination_service_name!];
    return { id: hash(`${cluster}_${namespace}_svc_${service}`), nodeType: 'service', cluster, namespace, service, app: service };
  }
  const [namespace, app, version] = [m.destination_workload_namespace!, m.destination_canonical_service!, m.destination_canonical_revision!];
  return { id: hash(`${cluster}_${namespace}_${app}_${version}`), nodeType: 'app', cluster, namespace, workload: m.destination_workload!, app, version };
}

const rate2 = (v: number) => v.toFixed(2);

async function graph(prometheus: string, namespace: string, durationSeconds: number, queryTime: number) {
  const window = `[${durationSeconds}s]`;
  const queries = [
    `sum(rate(istio_requests_total{reporter="source",source_workload_namespace!="${namespace}",destination_workload_namespace="unknown",destination_workload="unknown",destination_service=~"^.+\\\\.${namespace}\\\\..+$"}${window})) by (${groupBy}) > 0`,
    `sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="${namespace}"}${window})) by (${groupBy}) > 0`,
    `sum(rate(istio_requests_total{reporter="source",source_workload_namespace="${namespace}"}${window})) by (${groupBy}) > 0`,
  ];
  const nodes = new Map<string, NodeData>();
  const edges = new Map<string, { source: string; target: string; rates: Record<string, number> }>();
  const out = new Map<string, number>();
  const seen = new Set<string>();
  for (const query of queries) {
    for (const { metric: m, value } of await promQuery(prometheus, query, queryTime)) {
      const source = nodeOf(m, 'source');
      const dest = nodeOf(m, 'destination');
      const code = m.response_code === '0' ? '-' : (m.response_code ?? '-');
      // Kiali's edgeTSHash: the same traffic reported by both sidecars is counted once.
      const key = [source.id, dest.id, code, m.response_flags, m.destination_service].join(':');
      if (seen.has(key)) continue;
      seen.add(key);
      nodes.set(source.id, source);
      nodes.set(dest.id, dest);
      const edgeId = hash(`${source.id}.${dest.id}.http`);
      const edge = edges.get(edgeId) ?? { source: source.id, target: dest.id, rates: {} };
      edges.set(edgeId, edge);
      const v = Number(value[1]);
      const add = (name: string) => (edge.rates[name] = (edge.rates[name] ?? 0) + v);
      add('http');
      if (code === '-') add('httpNoResponse');
      else if (/^[345]/.test(code)) add(`http${code[0]}xx`);
      out.set(source.id, (out.get(source.id) ?? 0) + v);
    }
  }
  // isMTLS: the share of destination-reported requests with connection_security_policy="mutual_tls".
  const mtls = new Map<string, { mtls: number; other: number }>();
  for (const { metric: m, value } of await promQuery(prometheus, `sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="${namespace}"}${window})) by (${mtlsGroupBy}) > 0`, queryTime)) {
    const edgeId = hash(`${nodeOf(m, 'source').id}.${nodeOf(m, 'destination').id}.http`);
    const counts = mtls.get(edgeId) ?? { mtls: 0, other: 0 };
    counts[m.connection_security_policy === 'mutual_tls' ? 'mtls' : 'other'] += Number(value[1]);
    mtls.set(edgeId, counts);
  }
  return {
    timestamp: queryTime,
    duration: durationSeconds,
    graphType: 'versionedApp',
    elements: {
      nodes: [...nodes.values()].map((data) => ({ data: { ...data, healthData: null, ...(data.namespace !== namespace && { isOutside: true }) } })),
      edges: [...edges.entries()].map(([id, { source, target, rates }]) => {
        const shown: Record<string, string> = {};
        for (const [name, v] of Object.entries(rates)) if (v > 0) shown[name] = rate2(v);
        const errors = (rates.http4xx ?? 0) + (rates.http5xx ?? 0) + (rates.httpNoResponse ?? 0);
        if (errors > 0) shown.httpPercentErr = ((errors / rates.http!) * 100).toFixed(1);
        shown.httpPercentReq = ((rates.http! / out.get(source)!) * 100).toFixed(1);
        const m = mtls.get(id);
        const isMTLS = m && m.mtls > 0 ? ((m.mtls / (m.mtls + m.other)) * 100).toFixed(0) : undefined;
        return { data: { id, source, target, ...(isMTLS !== undefined && { isMTLS }), traffic: { protocol: 'http', rates: shown } } };
      }),
    },
  };
}

/** Kiali's summary of its checks on the namespace's Istio objects (four checks of its many; see the file's head). */
function validations(sim: SimMesh, namespace: string) {
  const objects = sim.objects().filter((o) => o.metadata.namespace === namespace && o.apiVersion.includes('istio.io'));
  const deployed = sim.deployed();
  let errors = 0;
  let warnings = 0;
  const subsetsOf = (host: string) =>
    sim
      .objects('DestinationRule')
      .filter((o) => serviceFor((o.spec as DestinationRuleSpec).host, o.metadata.namespace ?? namespace) === serviceFor(host, namespace))
      .flatMap((o) => (o.spec as DestinationRuleSpec).subsets ?? []);
  for (const o of objects) {
    if (o.kind === 'DestinationRule') {
      const spec = o.spec as DestinationRuleSpec;
      const service = serviceFor(spec.host, namespace);
      if (!service) errors++; // KIA0202
      for (const subset of spec.subsets ?? []) {
        const selected = deployed.filter((w) => service?.endpoints.includes(w.name) && Object.entries(subset.labels).every(([k, v]) => labelsOf(w)[k] === v));
        if (service && selected.length === 0) errors++; // KIA0203
      }
    }
    if (o.kind === 'VirtualService') {
      for (const route of (o.spec as VirtualServiceSpec).http ?? []) {
        for (const { destination } of route.route ?? []) {
          if (!serviceFor(destination.host, namespace)) errors++; // KIA1101
          else if (destination.subset && !subsetsOf(destination.host).some((s) => s.name === destination.subset)) warnings++; // KIA1107
        }
      }
    }
  }
  return [{ errors, warnings, objectCount: objects.length, namespace, cluster }];
}

const labelsOf = (w: Workload): Record<string, string> => ({ app: w.app, version: w.version });

function workloadsList(sim: SimMesh, namespace: string) {
  const workloads = sim
    .deployed()
    .filter((w) => w.namespace === namespace)
    .map((w) => ({
      name: w.name,
      namespace: w.namespace,
      cluster,
      gvk: { Group: 'apps', Version: 'v1', Kind: 'Deployment' },
      istioSidecar: w.proxy === 'sidecar',
      isAmbient: false,
      isGateway: w.proxy === 'gateway',
      isWaypoint: false,
      isZtunnel: false,
      labels: labelsOf(w),
      appLabel: true,
      versionLabel: true,
      podCount: 1,
      serviceAccountNames: [w.serviceAccount],
      istioReferences: [],
    }));
  return { cluster, workloads, validations: {} };
}

export async function startKialiDouble(options: { prometheus: string; sim: SimMesh }): Promise<KialiDouble> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://kiali');
    const q = url.searchParams;
    const send = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const answer = async (): Promise<unknown> => {
      switch (url.pathname) {
        case '/kiali/api/status':
          return { status: { 'Kiali state': 'running', 'Kiali version': 'v2.26.0' }, externalServices: [], warningMessages: [], istioEnvironment: { istioAPIEnabled: true } };
        case '/kiali/api/namespaces/graph': {
          const seconds = Number.parseInt(q.get('duration') ?? '600s', 10);
          const queryTime = Number(q.get('queryTime') ?? Math.floor(Date.now() / 1000));
          return graph(options.prometheus, q.get('namespaces') ?? '', seconds, queryTime);
        }
        case '/kiali/api/istio/validations':
          return validations(options.sim, q.get('namespaces') ?? '');
        case '/kiali/api/clusters/workloads':
          return workloadsList(options.sim, q.get('namespaces') ?? '');
        default:
          return undefined;
      }
    };
    answer().then(
      (body) => (body === undefined ? res.writeHead(404).end() : send(body)),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

