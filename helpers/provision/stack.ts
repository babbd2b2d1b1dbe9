import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { loadFixture, renderForRelease, type FixtureObject } from '../config/manifests.ts';
import { validateObjects } from '../config/manifest-schemas.ts';
import type { MeshproofConfig } from '../config/config.ts';
import { loadYamlData, readParsed, resolveDataPath } from '../config/data-file.ts';
import { ConfigError } from '../errors.ts';

/**
 * The lab as a declared, ordered list of phases: what `npm test` builds, what `meshproof deploy` builds for
 * a person, and what `meshproof plan` prints without a cluster. Building the plan reads and validates every
 * fixture, so an invalid file fails here, before anything touches a cluster.
 */

export interface KindClusterStep {
  kind: 'kind-cluster';
  name: string;
  configFile: string;
  /** The kind Cluster config with name and node image filled in. */
  config: Record<string, unknown>;
  nodeImage: string;
  kubernetesVersion: string;
}

export interface HelmReleaseStep {
  kind: 'helm-release';
  release: string;
  namespace: string;
  repo: string;
  chart: string;
  version: string;
  /** Passed to helm in order; later files win, as with repeated --values. */
  valuesFiles: string[];
  /** Single values set from meshproof's settings (`--set key=value`, after the files), e.g. global.hub. */
  set: Record<string, string>;
  /** What helm will hold as the user-supplied values: the files merged the way helm merges them, then `set`. */
  values: Record<string, unknown>;
  /** Deployments (in `namespace`) the release must have Available before the next phase. */
  deployments: string[];
}

export interface ApplyStep {
  kind: 'apply';
  files: string[];
  objects: FixtureObject[];
}

/** A ConfigMap of files fetched from their publisher, each checked against its pinned sha256 first. */
export interface PinnedConfigMapStep {
  kind: 'pinned-configmap';
  /** The data file that pins the sources (for messages and the plan). */
  file: string;
  namespace: string;
  name: string;
  entries: { key: string; url: string; sha256: string; title: string }[];
}

export type StackStep = KindClusterStep | HelmReleaseStep | ApplyStep | PinnedConfigMapStep;

export interface StackPhase {
  name: string;
  step: StackStep;
  /** One of the lab's observability addons, which `meshproof cleanup --addons-only` removes and nothing else. */
  addon?: true;
}

/** Namespaces whose Deployments must all be Available before the suites start. */
export const workloadNamespaces = ['istio-system', 'bookinfo', 'meshproof', 'meshproof-legacy'] as const;

export const trafficGenerator = { namespace: 'traffic-gen', cronJob: 'traffic-generator' } as const;

const istioChartsRepo = 'https://istio-release.storage.googleapis.com/charts';

// ---------------------------------------------------------------------------------------------------------
// Data files

const kindNode = z.strictObject({
  role: z.enum(['control-plane', 'worker']),
  image: z.string(),
  extraMounts: z.array(z.record(z.string(), z.unknown())).optional(),
  kubeadmConfigPatchesJSON6902: z.array(z.record(z.string(), z.unknown())).optional(),
  extraPortMappings: z
    .array(
      z.strictObject({
        containerPort: z.number().int().min(1).max(65535),
        hostPort: z.number().int().min(1).max(65535),
        listenAddress: z.string().optional(),
        protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
      }),
    )
    .optional(),
  labels: z.record(z.string(), z.string()).optional(),
  kubeadmConfigPatches: z.array(z.string()).optional(),
});

/** The fields of kind's v1alpha4 Cluster config meshproof uses (kind pkg/apis/config/v1alpha4). */
const kindClusterSchema = z.strictObject({
  kind: z.literal('Cluster'),
  apiVersion: z.literal('kind.x-k8s.io/v1alpha4'),
  name: z.string(),
  nodes: z.array(kindNode).min(1),
  networking: z.record(z.string(), z.unknown()).optional(),
  featureGates: z.record(z.string(), z.boolean()).optional(),
  kubeadmConfigPatches: z.array(z.string()).optional(),
  kubeadmConfigPatchesJSON6902: z.array(z.record(z.string(), z.unknown())).optional(),
  containerdConfigPatches: z.array(z.string()).optional(),
  containerdConfigPatchesJSON6902: z.array(z.string()).optional(),
  runtimeConfig: z.record(z.string(), z.string()).optional(),
});

const dashboardsSchema = z.strictObject({
  // http is allowed (a mirror, a test): the pinned sha256 is what is trusted, not the transport.
  url: z.string().regex(/^https?:\/\/\S+\{version\}\S*\{file\}$/, 'an http(s) URL template with {version} and {file}'),
  configMap: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
  dashboards: z
    .array(
      z.strictObject({
        file: z.string().regex(/^[\w.-]+\.json$/),
        key: z.string().regex(/^[\w.-]+\.json$/),
        title: z.string().min(1),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case sha256'),
      }),
    )
    .min(1),
});

/** Istio's dashboards of the release under test, with their pinned hashes (fixtures/addons/grafana-dashboards.yaml). */
function grafanaDashboards(istioVersion: string): PinnedConfigMapStep {
  const file = 'fixtures/addons/grafana-dashboards.yaml';
  const data = loadYamlData(file, dashboardsSchema);
  return {
    kind: 'pinned-configmap',
    file,
    namespace: 'istio-system',
    name: data.configMap,
    entries: data.dashboards.map((d) => ({ key: d.key, title: d.title, sha256: d.sha256, url: data.url.replace('{version}', istioVersion).replace('{file}', d.file) })),
  };
}

const chartRef = z.strictObject({ repo: z.string().url(), chart: z.string().min(1), version: z.string().min(1) });
const addonVersionsSchema = z.object({
  istio: z.record(
    z.string().regex(/^\d+\.\d+$/),
    z.object({ prometheus: chartRef, grafana: chartRef, kiali: chartRef, jaegerImage: z.string().min(1) }),
  ),
});

export type AddonVersions = z.infer<typeof addonVersionsSchema>['istio'][string];

export function addonVersionsFor(istioVersion: string): AddonVersions {
  const minor = istioVersion.split('.').slice(0, 2).join('.');
  const data = loadYamlData('fixtures/addons/addon-versions.yaml', addonVersionsSchema);
  const versions = data.istio[minor];
  if (!versions) throw new ConfigError(`fixtures/addons/addon-versions.yaml has no addon versions for Istio ${minor}.`);
  return versions;
}

function readValues(file: string): Record<string, unknown> {
  let values: unknown;
  try {
    values = readParsed(resolveDataPath(file), parseYaml);
  } catch (error) {
    throw new ConfigError(`${file} is not valid YAML: ${(error as Error).message}`);
  }
  if (values === null || values === undefined) return {};
  if (typeof values !== 'object' || Array.isArray(values)) throw new ConfigError(`${file}: Helm values must be a map.`);
  return values as Record<string, unknown>;
}

function manifests(files: string[], config: MeshproofConfig, rewrite?: (objects: FixtureObject[]) => FixtureObject[]): ApplyStep {
  let objects = renderForRelease(files.flatMap(loadFixture), config.istio, config.istioHub);
  if (rewrite) objects = rewrite(objects);
  return { kind: 'apply', files, objects };
}

/** The kind cluster the configuration asks for: the kind config with its name, node image and ingress host port. */
export function kindClusterStep(config: MeshproofConfig): KindClusterStep {
  const configFile = 'fixtures/cluster/kind-cluster.yaml';
  const parsed = loadYamlData(configFile, kindClusterSchema);
  const kubernetes = config.kubernetes!;
  // The first port mapping is the ingress's (ingressMapping reads it back): its host port is MESHPROOF_INGRESS_PORT.
  let ingressSet = false;
  const nodes = parsed.nodes.map((node) => {
    const extraPortMappings = node.extraPortMappings?.map((mapping) => {
      if (ingressSet) return mapping;
      ingressSet = true;
      return { ...mapping, hostPort: config.ingressPort };
    });
    return { ...node, image: kubernetes.nodeImage, ...(extraPortMappings && { extraPortMappings }) };
  });
  const rendered = { ...parsed, name: config.clusterName, nodes };
  return { kind: 'kind-cluster', name: config.clusterName, configFile, config: rendered, nodeImage: kubernetes.nodeImage, kubernetesVersion: kubernetes.version };
}

/** Where kind publishes the ingress gateway on the host: the kind config's first port mapping. */
export interface IngressMapping {
  listenAddress: string;
  hostPort: number;
  /** The node port it leads to, the gateway's NodePort (fixtures/istio/gateway-values.yaml). */
  containerPort: number;
}

/** Where the kind cluster publishes the ingress; undefined when its config maps no port. */
export function ingressMapping(step: KindClusterStep): IngressMapping | undefined {
  const nodes = (step.config.nodes ?? []) as { extraPortMappings?: { hostPort: number; containerPort: number; listenAddress?: string }[] }[];
  const mapping = nodes.flatMap((n) => n.extraPortMappings ?? [])[0];
  // kind publishes a mapping without listenAddress on 0.0.0.0 (kubernetes-sigs/kind
  // pkg/cluster/internal/providers/docker/provision.go, generatePortMappings); meshproof's file says 127.0.0.1.
  return mapping && { listenAddress: mapping.listenAddress ?? '0.0.0.0', hostPort: mapping.hostPort, containerPort: mapping.containerPort };
}

/**
 * Helm's merge of several values files: maps merge key by key, anything else (lists included) is replaced by
 * the later file, so an override can swap a whole `service.ports` list.
 */
export function mergeHelmValues(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    merged[key] = isMap(current) && isMap(value) ? mergeHelmValues(current, value) : value;
  }
  return merged;
}

function helm(release: Omit<HelmReleaseStep, 'kind' | 'values' | 'set'> & { set?: Record<string, string> }): HelmReleaseStep {
  const set = release.set ?? {};
  const fromSet = Object.entries(set).map(([key, value]) => key.split('.').reduceRight<unknown>((inner, part) => ({ [part]: inner }), value) as Record<string, unknown>);
  const values = [...release.valuesFiles.map(readValues), ...fromSet].reduce(mergeHelmValues, {});
  return { kind: 'helm-release', ...release, set, values };
}

/** The images of Istio's own components: MESHPROOF_ISTIO_HUB when set, else the chart's default hub. */
function hubValues(config: MeshproofConfig): Record<string, string> {
  return config.istioHub ? { 'global.hub': config.istioHub } : {};
}

/** The Jaeger image follows the Istio release (its sample pins one); the manifest is written with 1.30's. */
function withJaegerImage(image: string) {
  return (objects: FixtureObject[]) =>
    objects.map(({ file, object }) => {
      const containers = (object as { spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } } }).spec?.template?.spec
        ?.containers;
      for (const container of containers ?? []) if (container.image?.includes('jaegertracing/jaeger')) container.image = image;
      return { file, object };
    });
}

/**
 * Every phase a run (or the lab's deploy) goes through, in order, read from the fixtures. The objects are not yet
 * validated against their schemas: validateStackPlan does that, before anything is applied or printed as the plan
 * (monitor and cleanup read the plan only for what it names).
 */
export function buildStackPlan(config: MeshproofConfig): StackPhase[] {
  const istioVersion = config.istio.version;
  const addons = addonVersionsFor(istioVersion);
  const phases: StackPhase[] = [];
  if (config.target === 'kind') phases.push({ name: `kind cluster ${config.clusterName}`, step: kindClusterStep(config) });
  phases.push(
    {
      name: `Istio CRDs (istio/base ${istioVersion})`,
      step: helm({ release: 'istio-base', namespace: 'istio-system', repo: istioChartsRepo, chart: 'base', version: istioVersion, valuesFiles: ['fixtures/istio/base-values.yaml'], deployments: [] }),
    },
    {
      name: `Istio control plane (istio/istiod ${istioVersion})`,
      // The gateway's proxy image comes from istiod's injection template, so the hub is set here only.
      step: helm({
        release: 'istiod',
        namespace: 'istio-system',
        repo: istioChartsRepo,
        chart: 'istiod',
        version: istioVersion,
        valuesFiles: ['fixtures/istio/istiod-values.yaml'],
        set: hubValues(config),
        deployments: ['istiod'],
      }),
    },
    {
      // After istiod: the gateway's `image: auto` is filled in by sidecar injection (gateway/README.md).
      name: `ingress gateway (istio/gateway ${istioVersion})`,
      step: helm({
        release: 'istio-ingressgateway',
        namespace: 'istio-system',
        repo: istioChartsRepo,
        chart: 'gateway',
        version: istioVersion,
        // On an existing cluster the gateway stays ClusterIP (reached by port-forward): a fixed NodePort could
        // collide there, and would open Bookinfo on every node.
        valuesFiles: ['fixtures/istio/gateway-values.yaml', ...(config.target === 'existing' ? ['fixtures/istio/gateway-values-existing.yaml'] : [])],
        deployments: ['istio-ingressgateway'],
      }),
    },
    { name: 'mesh-wide tracing (Telemetry)', step: manifests(['fixtures/istio/telemetry.yaml'], config) },
    {
      name: `Prometheus (${addons.prometheus.chart} ${addons.prometheus.version})`,
      step: helm({ release: 'prometheus', namespace: 'istio-system', ...addons.prometheus, valuesFiles: ['fixtures/addons/prometheus-values.yaml'], deployments: ['prometheus'] }),
      addon: true,
    },
    // Before Grafana: its pod mounts this ConfigMap as the istio dashboard folder.
    { name: `Istio ${istioVersion}'s Grafana dashboards (verified)`, step: grafanaDashboards(istioVersion), addon: true },
    {
      name: `Grafana (${addons.grafana.chart} ${addons.grafana.version})`,
      step: helm({ release: 'grafana', namespace: 'istio-system', ...addons.grafana, valuesFiles: ['fixtures/addons/grafana-values.yaml'], deployments: ['grafana'] }),
      addon: true,
    },
    { name: `Jaeger (${addons.jaegerImage})`, step: manifests(['fixtures/addons/jaeger.yaml'], config, withJaegerImage(addons.jaegerImage)), addon: true },
    {
      name: `Kiali (${addons.kiali.chart} ${addons.kiali.version})`,
      step: helm({ release: 'kiali', namespace: 'istio-system', ...addons.kiali, valuesFiles: ['fixtures/addons/kiali-values.yaml'], deployments: ['kiali'] }),
      addon: true,
    },
    {
      name: 'Bookinfo (productpage, details, reviews v1/v2/v3, ratings) with its gateway and DestinationRules',
      step: manifests(
        ['fixtures/bookinfo/namespace.yaml', 'fixtures/bookinfo/bookinfo.yaml', 'fixtures/bookinfo/gateway.yaml', 'fixtures/bookinfo/destination-rules.yaml'],
        config,
      ),
    },
    { name: 'test workloads (in-mesh and out-of-mesh clients, httpbin)', step: manifests(['fixtures/workloads/test-clients.yaml'], config) },
    { name: 'traffic generator', step: manifests(['fixtures/workloads/traffic-generator.yaml'], config) },
  );
  return phases;
}

/** Checks every object the plan applies against the schema of its kind: an invalid fixture is a ManifestError (exit code 2). */
export async function validateStackPlan(phases: readonly StackPhase[]): Promise<void> {
  for (const { step } of phases) if (step.kind === 'apply') await validateObjects(step.objects);
}
