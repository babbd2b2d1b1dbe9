import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { stringify } from 'yaml';
import type { MeshproofConfig } from '../config/config.ts';
import { resolveDataPath } from '../config/data-file.ts';
import { MeshproofError } from '../errors.ts';
import { pollUntil } from '../wait/poll.ts';
import type { Log, PhaseTracker } from './progress.ts';
import { describePortHolder, findPortHolder, hostPortState } from '../net/host-port.ts';
import { awaitAddonsReady, awaitDeploymentsAvailable, awaitIngressServes, awaitProxiesSynced, awaitReviewsWarm, type AddonUrls } from './readiness.ts';
import { kubernetesServerVersion, LocalPortTakenError, runOrFail, runOrFailJson, type ClusterRunner, type PortForward } from './runner.ts';
import { fetchPinned } from './download.ts';
import type { KubeObject } from '../config/manifests.ts';
import {
  buildStackPlan,
  validateStackPlan,
  ingressMapping,
  trafficGenerator,
  workloadNamespaces,
  type ApplyStep,
  type HelmReleaseStep,
  type KindClusterStep,
  type PinnedConfigMapStep,
  type StackPhase,
  type StackStep,
} from './stack.ts';

export const fieldManager = 'meshproof';

/** What the suites get from a provisioned stack. */
export interface MeshEnvironment {
  ingressUrl: string;
  addons: AddonUrls;
  kubernetesVersion: string;
  istioVersion: string;
}

export interface Provisioned extends MeshEnvironment {
  /** The port-forwards held open, each with the local port it got (for `meshproof deploy` to print). */
  forwards: OpenedForward[];
  /** Closes the port-forwards the run holds open. */
  close(): Promise<void>;
}

export interface ProvisionOptions {
  config: MeshproofConfig;
  runner: ClusterRunner;
  phases: PhaseTracker;
  /** Conformance runs pause the traffic generator so it cannot pollute their measurements; the lab does not. */
  quietTrafficGenerator: boolean;
}

/** Builds the whole lab (each phase skipped when its state already holds) and waits until it serves. */
export async function provisionStack(options: ProvisionOptions): Promise<Provisioned> {
  const plan = await applyStack(options);
  return awaitStackReady(options, ingressUrlOnHost(plan));
}

/** Every phase of the plan, in order: the cluster, Istio, the addons and the workloads. */
export async function applyStack(options: ProvisionOptions): Promise<StackPhase[]> {
  const { config, runner, phases } = options;
  const plan = buildStackPlan(config);
  // Every object checked against its schema before the first is applied: a broken fixture changes nothing.
  await validateStackPlan(plan);
  for (const phase of plan) await phases.run(phase.name, () => runStep(phase.step, options));
  if (options.quietTrafficGenerator) await phases.run('pause the traffic generator for the run', () => pauseTrafficGenerator(runner, config));
  return plan;
}

/**
 * Readiness, not hope: every workload available, every proxy in sync with istiod, the ingress serving, every reviews version warm, the addons
 * answering. The addons (and the ingress, where no host port maps to it) are reached through port-forwards
 * held open for the run.
 */
export async function awaitStackReady(options: ProvisionOptions, ingressOnHost: string | undefined): Promise<Provisioned> {
  const { config, runner, phases } = options;
  await phases.run('every workload available', async () => {
    for (const namespace of workloadNamespaces) await awaitDeploymentsAvailable(runner, namespace, config.timeouts);
  });
  await phases.run('every proxy SYNCED with istiod', async () => {
    phases.note(`istioctl proxy-status: ${await awaitProxiesSynced(runner, config.timeouts)} proxies, every one SYNCED`);
  });

  const forwards = new HostForwards(runner, hostForwardsFor(config, (line) => phases.note(line)));
  const close = () => forwards.close();
  try {
    const ingressUrl = await forwards.ingress(ingressOnHost);
    await phases.run('ingress serves /productpage', () => awaitIngressServes(ingressUrl, config.timeouts));
    await phases.run('every reviews version answers (warm-up)', async () => {
      const answered = await awaitReviewsWarm(ingressUrl, config.timeouts);
      phases.note(`reviews answers during warm-up: ${JSON.stringify(answered)}`);
    });
    const addons = await forwards.addons();
    await phases.run('Prometheus has Istio metrics; Grafana, Jaeger and Kiali answer', () => awaitAddonsReady(addons, config.timeouts));
    const kubernetesVersion = await kubernetesServerVersion(runner, config.timeouts.preflight);
    phases.note(`stack ready in ${phases.total()}: Kubernetes ${kubernetesVersion}, Istio ${config.istio.version}`);
    return { ingressUrl, addons, kubernetesVersion, istioVersion: config.istio.version, forwards: [...forwards.opened], close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The lab's ports for this configuration; `log` is told each URL. */
export function hostForwardsFor(config: MeshproofConfig, log?: Log): HostForwardsOptions {
  return { timeoutMs: config.timeouts.preflight, preferredPorts: { ingress: config.ingressPort, ...labUiPorts }, ...(log && { log }) };
}

/**
 * The lab's own local ports: its README forwards Kiali to 20001, Grafana to 3000, Jaeger to 16686, Prometheus to
 * 9090 and the ingress to 8080, and its users know those URLs. meshproof takes the same when they are free.
 */
export const labUiPorts: Record<keyof AddonUrls, number> = { kiali: 20001, grafana: 3000, jaeger: 16686, prometheus: 9090 };

export interface HostForwardsOptions {
  /** How long kubectl may take to start forwarding (timeouts.preflight). */
  timeoutMs: number;
  /** The local port to take for each Service when it is free: the lab's (labUiPorts, MESHPROOF_INGRESS_PORT). */
  preferredPorts: Record<keyof AddonUrls | 'ingress', number>;
  /** Told each URL as its forward opens, and why it is not the lab's port when it is not. */
  log?: Log;
}

/** One forward as a person would open it again: the Service, the ports, and where its UI is. */
export interface OpenedForward {
  title: string;
  target: string;
  remotePort: number;
  localPort: number;
  /** The URL of its UI: the forward's root plus the path the UI is served under (Kiali /kiali, Jaeger /jaeger). */
  url: string;
}

/**
 * The lab's Services as this machine reaches them: the ingress at its host port when kind maps one, otherwise
 * through `kubectl port-forward`, like the addons (names and ports as in Istio's samples, docs/addons.md). Each
 * forward takes the lab's port when it is free, and any free port when not, and says which it got.
 */
export class HostForwards {
  private readonly forwards: PortForward[] = [];
  readonly opened: OpenedForward[] = [];

  constructor(
    private readonly runner: ClusterRunner,
    private readonly options: HostForwardsOptions,
  ) {}

  private async forward(title: string, target: string, remotePort: number, preferred: number, uiPath = ''): Promise<string> {
    const { timeoutMs, log } = this.options;
    const state = await hostPortState('127.0.0.1', preferred);
    let forward: PortForward;
    try {
      forward = await this.runner.portForward('istio-system', target, remotePort, timeoutMs, state === 'free' ? preferred : undefined);
    } catch (error) {
      if (!(error instanceof LocalPortTakenError)) throw error;
      // Taken in the moment between the check and kubectl's bind: any free port will do.
      forward = await this.runner.portForward('istio-system', target, remotePort, timeoutMs);
    }
    this.forwards.push(forward);
    const localPort = Number(new URL(forward.url).port);
    this.opened.push({ title, target, remotePort, localPort, url: `${forward.url}${uiPath}` });
    if (log) {
      const why =
        localPort === preferred
          ? ''
          : state === 'in-use'
            ? ` (${preferred}, the lab's port, is taken by ${describePortHolder(preferred, await findPortHolder(preferred, { timeoutMs }))})`
            : ` (${preferred}, the lab's port, ${state === 'not-permitted' ? 'needs privileges' : 'was taken'})`;
      log(`${title} port-forward: ${forward.url}${uiPath}${why}`);
    }
    return forward.url;
  }

  async ingress(onHost: string | undefined): Promise<string> {
    return onHost ?? this.forward('Bookinfo', 'svc/istio-ingressgateway', 80, this.options.preferredPorts.ingress, '/productpage');
  }

  async addons(): Promise<AddonUrls> {
    const urls: Partial<AddonUrls> = {};
    for (const [addon, forward] of this.addonForwards()) urls[addon] = await forward();
    return urls as AddonUrls;
  }

  /** Each addon forwarded, or why it could not be: `meshproof monitor` reports a missing addon and goes on. */
  async addonsOrWhyNot(): Promise<Record<keyof AddonUrls, string | Error>> {
    const urls: Partial<Record<keyof AddonUrls, string | Error>> = {};
    for (const [addon, forward] of this.addonForwards()) urls[addon] = await forward().catch((error: Error) => error);
    return urls as Record<keyof AddonUrls, string | Error>;
  }

  // Services and ports as Istio's samples name them (docs/addons.md); Kiali and Jaeger serve their UIs under a path.
  private addonForwards(): [keyof AddonUrls, () => Promise<string>][] {
    const ports = this.options.preferredPorts;
    return [
      ['prometheus', () => this.forward('Prometheus', 'svc/prometheus', 9090, ports.prometheus)],
      ['grafana', () => this.forward('Grafana', 'svc/grafana', 3000, ports.grafana)],
      ['jaeger', () => this.forward('Jaeger', 'svc/tracing', 80, ports.jaeger, '/jaeger')],
      ['kiali', () => this.forward('Kiali', 'svc/kiali', 20001, ports.kiali, '/kiali')],
    ];
  }

  async close(): Promise<void> {
    this.opened.splice(0);
    await Promise.all(this.forwards.splice(0).map((f) => f.close()));
  }
}

/** On kind the gateway's NodePort is mapped to a host port (fixtures/cluster/kind-cluster.yaml). */
export function ingressUrlOnHost(plan: StackPhase[]): string | undefined {
  const cluster = plan.find((p) => p.step.kind === 'kind-cluster')?.step as KindClusterStep | undefined;
  const mapping = cluster && ingressMapping(cluster);
  if (!mapping) return undefined;
  // A mapping on every address is reached on loopback like one on loopback.
  const host = mapping.listenAddress === '0.0.0.0' ? '127.0.0.1' : mapping.listenAddress;
  return `http://${host}:${mapping.hostPort}`;
}

function runStep(step: StackStep, options: ProvisionOptions): Promise<string | void> {
  switch (step.kind) {
    case 'kind-cluster':
      return ensureKindCluster(step, options);
    case 'helm-release':
      return ensureHelmRelease(step, options);
    case 'apply':
      return ensureApplied(step, options);
    case 'pinned-configmap':
      return ensurePinnedConfigMap(step, options);
  }
}

/**
 * Fetches every file of the ConfigMap from its publisher (or the cache), refuses any whose sha256 is not the
 * pinned one, then applies the ConfigMap like any manifest (skipped when the cluster already holds it).
 */
async function ensurePinnedConfigMap(step: PinnedConfigMapStep, options: ProvisionOptions): Promise<string | void> {
  const { config } = options;
  const data: Record<string, string> = {};
  for (const entry of step.entries) {
    data[entry.key] = await fetchPinned(entry, {
      cacheDir: path.join(config.toolsDir, 'pinned-files'),
      timeoutMs: config.timeouts.toolDownload,
      retryMinMs: config.timeouts.toolDownloadRetry,
      what: `${entry.title} (${step.file})`,
      log: (line) => options.phases.note(line),
    });
  }
  const object: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: step.name, namespace: step.namespace, labels: { 'app.kubernetes.io/managed-by': 'meshproof' } }, data };
  return ensureApplied({ kind: 'apply', files: [step.file], objects: [{ file: step.file, object }] }, options);
}

async function ensureKindCluster(step: KindClusterStep, { runner, config }: ProvisionOptions): Promise<string | void> {
  // `kind get clusters` prints one name a line ("No kind clusters found." goes to stderr).
  const clusters = await runOrFail(runner, 'kind', ['get', 'clusters'], { timeoutMs: config.timeouts.preflight });
  if (clusters.stdout.split('\n').map((l) => l.trim()).includes(step.name)) {
    const running = await kubernetesServerVersion(runner, config.timeouts.preflight);
    if (running === step.kubernetesVersion) return `kind cluster ${step.name} (Kubernetes ${running}) already exists`;
    throw new MeshproofError(
      `the kind cluster ${step.name} already exists with Kubernetes ${running}, but ${step.kubernetesVersion} is configured.`,
      `Delete it (npx meshproof cleanup --delete-cluster), or choose another MESHPROOF_CLUSTER_NAME, or set MESHPROOF_K8S_VERSION=${running}.`,
    );
  }
  await runOrFail(runner, 'kind', kindCreateArgs(step, config), {
    input: stringify(step.config),
    timeoutMs: config.timeouts.clusterCreate + config.timeouts.preflight,
  });
}

/** `kind create cluster`, reading the rendered config from stdin. */
export function kindCreateArgs(step: KindClusterStep, config: MeshproofConfig): string[] {
  const kubeconfig = config.kubeconfig ? ['--kubeconfig', config.kubeconfig] : [];
  return ['create', 'cluster', '--name', step.name, '--config', '-', '--wait', `${Math.round(config.timeouts.clusterCreate / 1000)}s`, ...kubeconfig];
}

interface HelmListEntry {
  name: string;
  status: string;
  chart: string;
  app_version?: string;
}

/**
 * A release left in a pending state by an interrupted helm (a cancelled run, a machine that went to sleep):
 * `helm list` hides it unless asked with --all, and `helm upgrade --install` refuses it with "another operation
 * (install/upgrade/rollback) is in progress" (helm/helm v3.21.4 pkg/action/list.go, pkg/action/upgrade.go).
 * Another helm may really still be running, so meshproof does not undo it on its own: it says what to run.
 */
export class PendingReleaseError extends MeshproofError {
  constructor(step: HelmReleaseStep, status: string) {
    const undo =
      status === 'pending-install'
        ? `helm uninstall ${step.release} -n ${step.namespace}   (it never finished installing)`
        : `helm rollback ${step.release} -n ${step.namespace}   (back to its last deployed revision)`;
    super(
      `the Helm release ${step.release} in ${step.namespace} is ${status}: an earlier helm run on this cluster was interrupted, or one is running now, and helm refuses to change it until that is resolved.`,
      `If no other helm or meshproof runs against this cluster, resolve it with\n  ${undo}\nthen run again. \`helm history ${step.release} -n ${step.namespace}\` shows what happened.`,
    );
  }
}

async function ensureHelmRelease(step: HelmReleaseStep, { runner, config }: ProvisionOptions): Promise<string | void> {
  // --all: a release whose last revision is pending is not listed otherwise.
  const listed = (await runOrFailJson(runner, 'helm', ['list', '-n', step.namespace, '--filter', `^${step.release}$`, '--all', '-o', 'json'], {
    timeoutMs: config.timeouts.apply,
    ifNothingPrinted: '[]',
  })) as HelmListEntry[];
  const current = listed.find((r) => r.name === step.release);
  if (current?.status.startsWith('pending-')) throw new PendingReleaseError(step, current.status);
  const wantedChart = `${step.chart}-${step.version}`;
  if (current?.status === 'deployed' && current.chart === wantedChart) {
    const got = await runOrFailJson(runner, 'helm', ['get', 'values', step.release, '-n', step.namespace, '-o', 'json'], { timeoutMs: config.timeouts.apply, ifNothingPrinted: 'null' });
    const installedValues = (got as Record<string, unknown> | null) ?? {};
    if (isDeepStrictEqual(installedValues, step.values)) {
      await awaitDeploymentsAvailable(runner, step.namespace, config.timeouts, step.deployments.length ? step.deployments : undefined);
      return `${step.release} (${wantedChart}) already deployed with these values`;
    }
  }
  await runOrFail(runner, 'helm', helmInstallArgs(step, config), { timeoutMs: config.timeouts.helmInstall + config.timeouts.apply });
  if (step.deployments.length) await awaitDeploymentsAvailable(runner, step.namespace, config.timeouts, step.deployments);
}

/**
 * `helm upgrade --install` is idempotent; --wait matters for istiod above all: its validating webhook has
 * failurePolicy Fail, so Istio resources applied before it serves are refused.
 */
export function helmInstallArgs(step: HelmReleaseStep, config: MeshproofConfig, valuesPath = resolveDataPath): string[] {
  return [
    'upgrade', '--install', step.release, step.chart,
    '--repo', step.repo,
    '--version', step.version,
    '--namespace', step.namespace,
    '--create-namespace',
    ...step.valuesFiles.flatMap((file) => ['--values', valuesPath(file)]),
    ...Object.entries(step.set).flatMap(([key, value]) => ['--set', `${key}=${value}`]),
    '--wait',
    '--timeout', `${Math.round(config.timeouts.helmInstall / 1000)}s`,
  ];
}

export function manifestStream(step: ApplyStep): string {
  return step.objects.map(({ object }) => stringify(object)).join('---\n');
}

/**
 * Server-side apply under one field manager: re-applying the baseline after a feature removes the fields the
 * feature added (a DestinationRule's trafficPolicy, say), which a client-side apply would leave behind.
 */
export const serverSideApply = ['--server-side', `--field-manager=${fieldManager}`, '--force-conflicts'];
export const applyArgs = ['apply', ...serverSideApply, '-f', '-'];

async function ensureApplied(step: ApplyStep, { runner, config }: ProvisionOptions): Promise<string | void> {
  const input = manifestStream(step);
  // kubectl diff exits 0 when the cluster already matches, 1 when it differs, >1 on errors (a namespace that
  // does not exist yet, for one): anything but 0 means apply.
  const diff = await runner.run('kubectl', ['diff', ...serverSideApply, '-f', '-'], { input, timeoutMs: config.timeouts.apply });
  if (diff.exitCode === 0) return `${step.objects.length} objects already as declared`;
  await runOrFail(runner, 'kubectl', applyArgs, { input, timeoutMs: config.timeouts.apply });
}

async function setTrafficGeneratorSuspended(runner: ClusterRunner, config: MeshproofConfig, suspend: boolean): Promise<void> {
  await runOrFail(
    runner,
    'kubectl',
    ['patch', 'cronjob', trafficGenerator.cronJob, '-n', trafficGenerator.namespace, '--type', 'merge', '-p', JSON.stringify({ spec: { suspend } })],
    { timeoutMs: config.timeouts.apply },
  );
}

/** Suspends the CronJob and waits until none of its Jobs is still running. */
export async function pauseTrafficGenerator(runner: ClusterRunner, config: MeshproofConfig): Promise<void> {
  await setTrafficGeneratorSuspended(runner, config, true);
  await runOrFail(runner, 'kubectl', ['delete', 'jobs', '-n', trafficGenerator.namespace, '--all', '--ignore-not-found', '--wait=true'], {
    timeoutMs: config.timeouts.apply,
  });
  await pollUntil({ what: 'the traffic generator to stop sending', timeoutMs: config.timeouts.apply, intervalMs: config.timeouts.poll }, async () => {
    const pods = await runOrFail(runner, 'kubectl', ['get', 'pods', '-n', trafficGenerator.namespace, '-o', 'name'], { timeoutMs: config.timeouts.apply });
    const left = pods.stdout.trim();
    return left === '' ? { done: true, value: undefined } : { done: false, seen: `still running: ${left.split('\n').join(', ')}` };
  });
}

export async function resumeTrafficGenerator(runner: ClusterRunner, config: MeshproofConfig): Promise<void> {
  await setTrafficGeneratorSuspended(runner, config, false);
}
