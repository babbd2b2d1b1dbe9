import type { MeshproofConfig } from '../config/config.ts';
import { formatDuration } from '../config/timeouts.ts';
import { excerpt } from '../net/excerpt.ts';
import {
  formatComponentChecks,
  formatPodLines,
  formatTable,
  labPods,
  listReleases,
  missingSidecarWarning,
  monitoredNamespaces,
  monitorTest,
  noPods,
  type ComponentUrls,
  type HelmReleaseJson,
} from './monitor.ts';
import { commandLine, type ClusterRunner } from './runner.ts';
import { parseToolJson } from './tool-json.ts';
import { trafficGenerator } from './stack.ts';

/**
 * `meshproof monitor full`, the lab's `monitor.sh full`: everything a person looks at when the lab misbehaves, in
 * one report. Each section reads the cluster once; a section whose question fails says so and the others still
 * print, because a half-broken lab is exactly when the report is read.
 */

// ---------------------------------------------------------------------------------------------------------
// Helm releases

export function formatReleases(releases: HelmReleaseJson[]): string {
  if (releases.length === 0) return 'no Helm releases in istio-system';
  // helm prints `updated` as Go's time.String(): "2026-11-02 10:11:12.345678 +0000 UTC"; the second is enough.
  const rows = releases.map((r) => [r.name, r.chart, r.app_version ?? '', r.revision ?? '', r.status, (r.updated ?? '').replace(/\.\d+/, '').replace(/ \+0000 UTC$/, ' UTC')]);
  return formatTable(['RELEASE', 'CHART', 'APP VERSION', 'REVISION', 'STATUS', 'UPDATED'], rows);
}

// ---------------------------------------------------------------------------------------------------------
// Istio configuration

/** Every Istio configuration kind the lab or its features use, with the CRD group that serves it (istio/base). */
export const istioConfigKinds = [
  'gateways.networking.istio.io',
  'virtualservices.networking.istio.io',
  'destinationrules.networking.istio.io',
  'serviceentries.networking.istio.io',
  'sidecars.networking.istio.io',
  'envoyfilters.networking.istio.io',
  'peerauthentications.security.istio.io',
  'requestauthentications.security.istio.io',
  'authorizationpolicies.security.istio.io',
  'telemetries.telemetry.istio.io',
];

interface IstioObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, any>;
}

const list = (values: unknown): string => (Array.isArray(values) ? values.join(', ') : '');

/** What an object does, in the few words a person scans for: where it routes, with which weights, which mode. */
export function describeIstioObject(object: IstioObject): string {
  const spec = object.spec ?? {};
  switch (object.kind) {
    case 'VirtualService': {
      const routes = (spec.http ?? []) as { route?: { destination?: { host?: string; subset?: string }; weight?: number }[]; fault?: unknown; timeout?: string; retries?: { attempts?: number }; mirror?: unknown; match?: unknown[] }[];
      const destinations = routes.flatMap((r) => (r.route ?? []).map((d) => `${d.destination?.subset ?? d.destination?.host ?? '?'}${d.weight !== undefined ? ` ${d.weight} %` : ''}`));
      const extras = [
        routes.some((r) => r.match?.length) && 'matches',
        routes.some((r) => r.fault) && 'fault',
        routes.find((r) => r.timeout)?.timeout && `timeout ${routes.find((r) => r.timeout)!.timeout}`,
        routes.find((r) => r.retries) && `retries ${routes.find((r) => r.retries)!.retries!.attempts ?? '?'}`,
        routes.some((r) => r.mirror) && 'mirror',
      ].filter(Boolean);
      return `hosts ${list(spec.hosts)} → ${[...new Set(destinations)].join(', ') || 'no route'}${extras.length ? ` (${extras.join(', ')})` : ''}`;
    }
    case 'DestinationRule': {
      const subsets = ((spec.subsets ?? []) as { name: string }[]).map((s) => s.name);
      const policy = Object.keys(spec.trafficPolicy ?? {});
      return `host ${spec.host ?? '?'}${subsets.length ? `, subsets ${subsets.join(' ')}` : ''}${policy.length ? ` (${policy.join(', ')})` : ''}`;
    }
    case 'Gateway':
      return ((spec.servers ?? []) as { port?: { number?: number; protocol?: string }; hosts?: string[] }[])
        .map((s) => `${s.port?.protocol ?? '?'} ${s.port?.number ?? '?'} for ${list(s.hosts)}`)
        .join('; ');
    case 'PeerAuthentication':
      return `mTLS ${spec.mtls?.mode ?? 'UNSET (inherits)'}`;
    case 'AuthorizationPolicy':
      return `${spec.action ?? 'ALLOW'}, ${(spec.rules ?? []).length} rules`;
    case 'ServiceEntry':
      return `hosts ${list(spec.hosts)}`;
    case 'Telemetry':
      return ((spec.tracing ?? []) as { providers?: { name: string }[]; randomSamplingPercentage?: number }[])
        .map((t) => `tracing to ${(t.providers ?? []).map((p) => p.name).join(', ') || 'the default'}${t.randomSamplingPercentage !== undefined ? ` at ${t.randomSamplingPercentage} %` : ''}`)
        .join('; ');
    default:
      return '';
  }
}

export function formatIstioConfig(items: IstioObject[]): string {
  if (items.length === 0) return 'no Istio configuration objects';
  const rows = items.map((o) => [o.kind, `${o.metadata.namespace ?? ''}/${o.metadata.name}`, describeIstioObject(o)]);
  return formatTable(['KIND', 'NAMESPACE/NAME', 'WHAT IT SAYS'], rows);
}

// ---------------------------------------------------------------------------------------------------------
// Proxy sync status

/**
 * istiod's own record of what it sent each connected proxy and what the proxy acknowledged, read inside the
 * istiod container: `pilot-discovery request` asks 127.0.0.1:15014 (istio/istio release-1.30 b9a2bbd and
 * release-1.31 a8d7012, pilot/cmd/pilot-discovery/app/request.go), where the debug handlers are served and a
 * request from localhost needs no token (pilot/pkg/xds/debug.go, allowAuthenticatedOrLocalhost; pilot/pkg/bootstrap/
 * server.go). The binary's path is the image's entrypoint (pilot/docker/Dockerfile.pilot). This is what
 * `istioctl proxy-status` shows, without istioctl, which meshproof does not pin.
 */
export const syncStatusCommand = ['exec', '-n', 'istio-system', 'deploy/istiod', '-c', 'discovery', '--', '/usr/local/bin/pilot-discovery', 'request', 'GET', '/debug/syncz'];

/** One entry of /debug/syncz (SyncStatus and ResourceStatus in pilot/pkg/xds/debug.go). */
export interface SyncStatusJson {
  proxy?: string;
  proxy_type?: string;
  istio_version?: string;
  cluster_sent?: string;
  cluster_acked?: string;
  listener_sent?: string;
  listener_acked?: string;
  route_sent?: string;
  route_acked?: string;
  endpoint_sent?: string;
  endpoint_acked?: string;
  resources?: Record<string, { sent?: string; acked?: string; lastError?: string }>;
}

// The short names istioctl prints (pkg/model/xds.go, GetShortType), in its column order.
const xdsTypes: [string, string][] = [
  ['type.googleapis.com/envoy.config.cluster.v3.Cluster', 'CDS'],
  ['type.googleapis.com/envoy.config.listener.v3.Listener', 'LDS'],
  ['type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment', 'EDS'],
  ['type.googleapis.com/envoy.config.route.v3.RouteConfiguration', 'RDS'],
  ['type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig', 'ECDS'],
];

/** istiod's rule for one type (pilot/pkg/xds/statusgen.go, debugSyncStatus): an error, nothing sent, acked, or stale. */
export function syncState(sent: string | undefined, acked: string | undefined, lastError?: string): string {
  if (lastError) return 'ERROR';
  if (!sent) return 'NOT SENT';
  return acked === sent ? 'SYNCED' : 'STALE';
}

export function formatSyncStatus(statuses: SyncStatusJson[]): string {
  if (statuses.length === 0) return 'no proxy is connected to istiod';
  const legacy: Record<string, [keyof SyncStatusJson, keyof SyncStatusJson]> = {
    CDS: ['cluster_sent', 'cluster_acked'],
    LDS: ['listener_sent', 'listener_acked'],
    EDS: ['endpoint_sent', 'endpoint_acked'],
    RDS: ['route_sent', 'route_acked'],
  };
  // A type a proxy never asked for (ECDS on most sidecars) gets a column only when some proxy watches it.
  const shown = xdsTypes.filter(([url, short]) => statuses.some((s) => s.resources?.[url] || (legacy[short] && s[legacy[short][0]])));
  const rows = statuses.map((s) => [
    s.proxy ?? '?',
    s.proxy_type ?? '',
    ...shown.map(([url, short]) => {
      const resource = s.resources?.[url];
      if (resource) return syncState(resource.sent, resource.acked, resource.lastError);
      const fields = legacy[short];
      return fields && s[fields[0]] ? syncState(s[fields[0]] as string, s[fields[1]] as string) : '–';
    }),
    s.istio_version ?? '',
  ]);
  const stale = rows.filter((row) => row.some((cell) => cell === 'STALE' || cell === 'ERROR')).length;
  const table = formatTable(['PROXY', 'TYPE', ...shown.map(([, short]) => short), 'ISTIO'], rows);
  return `${table}\n${stale ? `${stale} of ${rows.length} proxies are not in sync with istiod` : `all ${rows.length} proxies in sync with istiod`}`;
}

// ---------------------------------------------------------------------------------------------------------
// Warning events

interface EventJson {
  metadata: { namespace?: string; creationTimestamp?: string };
  involvedObject?: { kind?: string; name?: string };
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string };
}

/** How many warnings the report shows: enough to see a pattern, few enough to read. */
export const shownWarningEvents = 10;

const age = (iso: string | undefined, now: number) => (iso ? `${formatDuration(Math.max(0, Math.round((now - Date.parse(iso)) / 1000)) * 1000)} ago` : '?');

/** The newest warnings in the lab's namespaces; `lastTimestamp` is empty for events written by the events.k8s.io API. */
export function formatWarningEvents(events: EventJson[], now: number): string {
  const seen = (e: EventJson) => e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? undefined;
  const lab = events
    .filter((e) => monitoredNamespaces.includes(e.metadata.namespace ?? ''))
    .sort((a, b) => Date.parse(seen(b) ?? '') - Date.parse(seen(a) ?? ''))
    .slice(0, shownWarningEvents);
  if (lab.length === 0) return 'no warning events in the lab namespaces';
  const rows = lab.map((e) => [
    age(seen(e), now),
    e.metadata.namespace ?? '',
    `${e.involvedObject?.kind ?? '?'}/${e.involvedObject?.name ?? '?'}`,
    e.reason ?? '',
    String(e.series?.count ?? e.count ?? 1),
    excerpt(e.message ?? '', 100),
  ]);
  return formatTable(['LAST SEEN', 'NAMESPACE', 'OBJECT', 'REASON', 'COUNT', 'MESSAGE'], rows);
}

// ---------------------------------------------------------------------------------------------------------
// Traffic generator

interface CronJobJson {
  spec?: { schedule?: string; suspend?: boolean };
  status?: { lastScheduleTime?: string; lastSuccessfulTime?: string };
}

interface JobJson {
  metadata: { name: string; creationTimestamp?: string };
  status?: { startTime?: string; completionTime?: string; active?: number; succeeded?: number; failed?: number };
}

/** How many of the generator's Jobs the report lists, newest last (its history limits keep few anyway). */
export const shownTrafficJobs = 5;

export function formatTrafficGenerator(cronJob: CronJobJson | undefined, jobs: JobJson[], now: number): string {
  if (!cronJob) return 'the traffic generator is not deployed';
  const state = cronJob.spec?.suspend ? 'suspended (a conformance run pauses it; the run resumes it at its end)' : 'running';
  const head = `${trafficGenerator.namespace}/${trafficGenerator.cronJob}: ${state}, schedule "${cronJob.spec?.schedule ?? '?'}", last scheduled ${age(cronJob.status?.lastScheduleTime, now)}, last succeeded ${age(cronJob.status?.lastSuccessfulTime, now)}`;
  const last = [...jobs].sort((a, b) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? '')).slice(-shownTrafficJobs);
  if (last.length === 0) return `${head}\nno Jobs yet`;
  const rows = last.map((job) => {
    const s = job.status ?? {};
    const status = s.active ? 'running' : s.succeeded ? 'succeeded' : s.failed ? `failed (${s.failed} pods)` : 'pending';
    const took = s.startTime && s.completionTime ? formatDuration(Date.parse(s.completionTime) - Date.parse(s.startTime)) : '';
    return [job.metadata.name, age(s.startTime ?? job.metadata.creationTimestamp, now), status, took];
  });
  return `${head}\n${formatTable(['JOB', 'STARTED', 'STATUS', 'TOOK'], rows)}`;
}

// ---------------------------------------------------------------------------------------------------------
// The report

type Answer<T> = { value: T } | { failed: string };

/** One question to the cluster whose failure becomes the section's text instead of ending the report. */
async function ask<T>(runner: ClusterRunner, tool: 'kubectl' | 'helm', args: string[], config: MeshproofConfig): Promise<Answer<T>> {
  try {
    const result = await runner.run(tool, args, { timeoutMs: config.timeouts.apply });
    if (result.exitCode !== 0) return { failed: `\`${commandLine(tool, args)}\` failed: ${excerpt(result.stderr || result.stdout, 300)}` };
    return { value: parseToolJson(commandLine(tool, args), result.stdout) as T };
  } catch (error) {
    return { failed: (error as Error).message };
  }
}

const section = (title: string, body: string) => `== ${title}\n${body}\n`;
const either = <T>(answer: Answer<T>, format: (value: T) => string) => ('failed' in answer ? answer.failed : format(answer.value));

export async function monitorFull(runner: ClusterRunner, config: MeshproofConfig, urls: ComponentUrls, now: () => number = Date.now): Promise<string> {
  const pods = await labPods(runner, config);
  const releases = await listReleases(runner, config).then(
    (value): Answer<HelmReleaseJson[]> => ({ value }),
    (error: Error): Answer<HelmReleaseJson[]> => ({ failed: error.message }),
  );
  const istio = await ask<{ items: IstioObject[] }>(runner, 'kubectl', ['get', istioConfigKinds.join(','), '-A', '-o', 'json'], config);
  const sync = await ask<SyncStatusJson[]>(runner, 'kubectl', syncStatusCommand, config);
  const events = await ask<{ items: EventJson[] }>(runner, 'kubectl', ['get', 'events', '-A', '--field-selector', 'type=Warning', '-o', 'json'], config);
  const cron = await ask<CronJobJson>(runner, 'kubectl', ['get', 'cronjob', trafficGenerator.cronJob, '-n', trafficGenerator.namespace, '-o', 'json'], config);
  const jobs = await ask<{ items: JobJson[] }>(runner, 'kubectl', ['get', 'jobs', '-n', trafficGenerator.namespace, '-o', 'json'], config);
  const checks = await monitorTest(urls, config);
  const at = now();
  return [
    section(`Pods in ${monitoredNamespaces.join(', ')}`, [pods.length ? formatPodLines(pods) : noPods, ...missingSidecarWarning(pods)].join('\n')),
    section('Helm releases in istio-system', either(releases, formatReleases)),
    section('Istio configuration', either(istio, (v) => formatIstioConfig(v.items))),
    section(
      "Proxy sync status (istiod's /debug/syncz)",
      'failed' in sync ? `${sync.failed}\nistiod's record of what each proxy acknowledged could not be read; \`istioctl proxy-status\` shows the same where istioctl is installed.` : formatSyncStatus(sync.value),
    ),
    section(`Recent warning events (newest ${shownWarningEvents})`, either(events, (v) => formatWarningEvents(v.items, at))),
    section(
      'Traffic generator',
      'failed' in cron
        ? /NotFound|not found/.test(cron.failed) ? formatTrafficGenerator(undefined, [], at) : cron.failed
        : formatTrafficGenerator(cron.value, 'value' in jobs ? jobs.value.items : [], at),
    ),
    section('Each component answering now', formatComponentChecks(checks)),
  ].join('\n');
}
