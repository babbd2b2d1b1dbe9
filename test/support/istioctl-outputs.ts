/**
 * What istioctl prints, shaped as istio/istio release-1.30 and release-1.31 print it, for the stand-ins and the
 * parser tests (helpers/judge/analysis.ts and helpers/provision/proxy-status.ts cite the sources):
 *  - `proxy-status -o json`: per istiod one DiscoveryResponse, indented with four spaces (protomarshal
 *    ToJSONWithIndent), its resources ClientConfigs with node id "<pod>.<namespace>" and genericXdsConfigs sorted by
 *    type URL; the zero status (UNKNOWN) is left out;
 *  - `analyze -o json`: an array of messages indented with a tab (json.MarshalIndent(ms, "", "\t")).
 */

const typeUrls = {
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
} as const;

export type XdsShortType = keyof typeof typeUrls;

export interface SimProxy {
  /** "<pod>.<namespace>" */
  id: string;
  /** A status per type other than SYNCED ("STALE", "NOT_SENT", "ERROR"). */
  off?: Partial<Record<XdsShortType, string>>;
}

/** The proxies of the lab's mesh: the ingress gateway, Bookinfo's six pods and meshproof's in-mesh client. */
export const labProxies: SimProxy[] = [
  { id: 'istio-ingressgateway-5b8f8c6d9-q7kzv.istio-system' },
  { id: 'details-v1-6f9b6c7d8b-2xkfm.bookinfo' },
  { id: 'productpage-v1-7c9c5b9c8b-x2lq4.bookinfo' },
  { id: 'ratings-v1-5d9f7c6b84-m8s2w.bookinfo' },
  { id: 'reviews-v1-8c5b6d7f9-4hjtn.bookinfo' },
  { id: 'reviews-v2-6d7c8f9b5-p9wql.bookinfo' },
  { id: 'reviews-v3-7f8b9c5d6-r2vxs.bookinfo' },
  { id: 'mesh-client-84c6d9f5b7-kx8tz.meshproof' },
];

export function proxyStatusJson(proxies: SimProxy[], istioVersion = '1.31.1', lastUpdated = '2026-11-29T04:02:11.482913Z'): string {
  const identifier = JSON.stringify({
    Component: 'istiod',
    ID: 'istiod-6c9d8f7b5-x4k2p',
    Info: { version: istioVersion, revision: 'a8d7012191ebf42bacd48fa72b32a05828e4c564', golang_version: 'go1.25.3', status: 'Clean', tag: istioVersion },
  });
  const response = {
    versionInfo: '2026-11-29T04:05:40Z/41',
    resources: proxies.map(({ id, off = {} }) => ({
      '@type': 'type.googleapis.com/envoy.service.status.v3.ClientConfig',
      node: { id, metadata: { CLUSTER_ID: 'Kubernetes', ISTIO_VERSION: istioVersion, NAMESPACE: id.split('.').at(-1) } },
      genericXdsConfigs: (Object.keys(typeUrls) as XdsShortType[])
        .map((type) => ({ type, typeUrl: typeUrls[type] }))
        .sort((a, b) => a.typeUrl.localeCompare(b.typeUrl))
        .map(({ type, typeUrl }) => {
          const status = off[type] ?? 'SYNCED';
          return { typeUrl, configStatus: status, ...(status !== 'NOT_SENT' && { lastUpdated }) };
        }),
    })),
    typeUrl: 'istio.io/debug/syncz',
    nonce: '8d3b2f5e-5f0c-4a8e-b6a1-0c7f3e9d2a41',
    controlPlane: { identifier },
  };
  return `${JSON.stringify(response, null, 4)}\n`;
}

export interface SimAnalysisMessage {
  code: string;
  level: 'Error' | 'Warning' | 'Info';
  message: string;
  origin?: string;
  reference?: string;
}

/** Messages the analyzers of release-1.31 print (pkg/config/analysis/msg/messages.gen.go templates). */
export const analysisSamples = {
  subsetNotFound: {
    code: 'IST0101',
    level: 'Error',
    message: 'Referenced host+subset in destinationrule not found: "reviews+v4"',
    origin: 'VirtualService bookinfo/reviews',
  },
  unknownDestinationRuleHost: {
    code: 'IST0174',
    level: 'Warning',
    message: 'The host reviews.default.svc.cluster.local defined in the DestinationRule does not match any services in the mesh.',
    origin: 'DestinationRule bookinfo/reviews-elsewhere',
  },
  portNaming: {
    code: 'IST0118',
    level: 'Info',
    message: "Port name  (port: 9080, targetPort: 9080) doesn't follow the naming convention of Istio port.",
    origin: 'Service bookinfo/ratings',
  },
} satisfies Record<string, SimAnalysisMessage>;

export function analyzeJson(messages: SimAnalysisMessage[], minor = 'v1.31'): string {
  const printed = messages.map((m) => ({
    code: m.code,
    documentationUrl: `https://istio.io/${minor}/docs/reference/config/analysis/${m.code.toLowerCase()}/?ref=istioctl-analyze`,
    level: m.level,
    message: m.message,
    ...(m.origin && { origin: m.origin }),
    ...(m.reference && { reference: m.reference }),
  }));
  return `${JSON.stringify(printed, null, '\t')}\n`;
}
