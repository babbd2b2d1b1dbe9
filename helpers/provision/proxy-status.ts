import { notJsonError } from './tool-json.ts';

/**
 * `istioctl proxy-status -o json`, read: whether istiod has every proxy of the mesh in sync.
 *
 * Its table no longer shows a status per xDS type: at release-1.30 and release-1.31 the columns are NAME, CLUSTER,
 * ISTIOD, VERSION, SUBSCRIBED TYPES ("4 (CDS,LDS,EDS,RDS)"); only `-v 1` prints one column per type with
 * "SYNCED (2m3s)", "NOT SENT", "STALE (…)", "ERROR (…)" or "IGNORED" (istio/istio release-1.31
 * istioctl/pkg/writer/pilot/status.go, identical on release-1.30). So readiness reads `-o json`: per istiod one
 * indented JSON document (a DiscoveryResponse; several istiods print several documents one after another), whose
 * `resources` are ClientConfigs: `node.id` "<pod>.<namespace>", `node.metadata` {CLUSTER_ID, NAMESPACE,
 * ISTIO_VERSION}, and `genericXdsConfigs` [{typeUrl, configStatus, lastUpdated}] with configStatus one of SYNCED,
 * NOT_SENT, STALE, ERROR (pilot/pkg/xds/statusgen.go debugSyncz and debugSyncStatus: STALE is a push the proxy has
 * not acknowledged, NOT_SENT a type istiod never pushed, ERROR a push the proxy rejected). UNKNOWN, the zero value,
 * is left out of the JSON (jsonpb without EmitDefaults, pkg/util/protomarshal) and shows as IGNORED in the table.
 */

export interface ProxySyncStatus {
  /** "<pod>.<namespace>", as istiod names the proxy (pilot/pkg/model/context.go: the third part of the node id). */
  proxy: string;
  /** Short xDS type ("CDS", "RDS"…) → its status ("SYNCED", "NOT_SENT", "STALE", "ERROR"). */
  types: Record<string, string>;
}

// pkg/model/xds.go GetShortType: the names `proxy-status -v 1` prints as column headers.
const shortTypes: Record<string, string> = {
  'envoy.config.cluster.v3.Cluster': 'CDS',
  'envoy.config.listener.v3.Listener': 'LDS',
  'envoy.config.route.v3.RouteConfiguration': 'RDS',
  'envoy.config.endpoint.v3.ClusterLoadAssignment': 'EDS',
  'envoy.extensions.transport_sockets.tls.v3.Secret': 'SDS',
  'istio.networking.nds.v1.NameTable': 'NDS',
  'istio.mesh.v1alpha1.ProxyConfig': 'PCDS',
  'envoy.config.core.v3.TypedExtensionConfig': 'ECDS',
  'istio.workload.Address': 'WDS',
  'istio.workload.Workload': 'WDS',
  'istio.security.Authorization': 'WADS',
};

export function shortXdsType(typeUrl: string): string {
  return shortTypes[typeUrl.replace(/^type\.googleapis\.com\//, '')] ?? typeUrl;
}

/** The JSON documents of a stream printed one after another (`{…}\n{…}`), each parsed. */
export function jsonDocuments(printed: string): unknown[] {
  const documents: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < printed.length; i++) {
    const c = printed[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i;
    } else if (c === '}' || c === ']') {
      if (--depth === 0) documents.push(JSON.parse(printed.slice(start, i + 1)));
    } else if (depth === 0 && !/\s/.test(c!)) {
      throw new Error(`unexpected ${JSON.stringify(printed.slice(i, i + 40))} between JSON documents`);
    }
  }
  if (depth !== 0) throw new Error('the output ends inside a JSON document');
  return documents;
}

interface ClientConfigJson {
  node?: { id?: string };
  genericXdsConfigs?: { typeUrl?: string; configStatus?: string }[];
}

/** Every proxy istiod reports, with the status of each xDS type it subscribed to. */
export function parseProxyStatus(command: string, printed: string): ProxySyncStatus[] {
  let documents: unknown[];
  try {
    documents = jsonDocuments(printed);
  } catch (error) {
    throw notJsonError(command, printed, (error as Error).message);
  }
  return documents.flatMap((document) =>
    ((document as { resources?: ClientConfigJson[] })?.resources ?? []).map((config) => ({
      proxy: config.node?.id ?? '(a proxy without a node id)',
      types: Object.fromEntries(
        (config.genericXdsConfigs ?? []).filter((x) => x.typeUrl && x.configStatus).map((x) => [shortXdsType(x.typeUrl!), x.configStatus!]),
      ),
    })),
  );
}

/**
 * The proxies not in sync, one phrase each ("reviews-v2-….bookinfo: RDS STALE, EDS NOT_SENT"); none when every
 * subscribed type of every proxy is SYNCED. No proxy at all is a laggard too: a mesh with Bookinfo has several.
 */
export function unsyncedProxies(statuses: ProxySyncStatus[]): string[] {
  if (statuses.length === 0) return ['istiod reports no proxy at all'];
  return statuses.flatMap(({ proxy, types }) => {
    const off = Object.entries(types).filter(([, status]) => status !== 'SYNCED');
    return off.length === 0 ? [] : [`${proxy}: ${off.map(([type, status]) => `${type} ${status}`).join(', ')}`];
  });
}
