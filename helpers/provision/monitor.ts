import { excerpt } from '../net/excerpt.ts';
import { httpRequest } from '../net/http.ts';
import { readPrometheusAnswer } from '../net/prometheus-answer.ts';
import { errorText } from '../errors.ts';
import type { MeshproofConfig } from '../config/config.ts';
import { commandLine, runOrFailJson, type ClusterRunner } from './runner.ts';
import { parseToolJson } from './tool-json.ts';

/**
 * The lab's monitor (monitor.sh summary / test): what runs where, and whether each component answers now.
 * One look, no waiting: a person watching the lab wants the state as it is.
 */

export const monitoredNamespaces = ['istio-system', 'bookinfo', 'meshproof', 'meshproof-legacy', 'traffic-gen'];

interface PodJson {
  metadata: { name: string; namespace: string };
  status?: {
    phase?: string;
    containerStatuses?: { name: string; ready: boolean; restartCount: number; state?: Record<string, { reason?: string }> }[];
  };
}

export interface PodLine {
  namespace: string;
  name: string;
  ready: string;
  status: string;
  restarts: number;
  /** A sidecar (istio-proxy) runs in the pod. */
  sidecar: boolean;
}

/** Pods as `kubectl get pods` shows them, plus whether the sidecar was injected (the lab's first check). */
export function podLines(list: { items: PodJson[] }): PodLine[] {
  return list.items.map(({ metadata, status }) => {
    const containers = status?.containerStatuses ?? [];
    const waiting = containers.map((c) => c.state?.waiting?.reason).find(Boolean);
    return {
      namespace: metadata.namespace,
      name: metadata.name,
      ready: `${containers.filter((c) => c.ready).length}/${containers.length}`,
      status: waiting ?? status?.phase ?? 'Unknown',
      restarts: containers.reduce((sum, c) => sum + c.restartCount, 0),
      sidecar: containers.some((c) => c.name === 'istio-proxy'),
    };
  });
}

/** Columns padded to their widest cell, as kubectl prints tables. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((cell, i) => (cell ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function formatPodLines(lines: PodLine[]): string {
  const rows = lines.map((l) => [l.namespace, l.name, l.ready, l.status, String(l.restarts), l.sidecar ? 'yes' : 'no']);
  return formatTable(['NAMESPACE', 'POD', 'READY', 'STATUS', 'RESTARTS', 'SIDECAR'], rows);
}

/** Every pod of the lab's namespaces (a namespace that does not exist has none). */
export async function labPods(runner: ClusterRunner, config: MeshproofConfig): Promise<PodLine[]> {
  const pods: PodLine[] = [];
  for (const namespace of monitoredNamespaces) {
    const args = ['get', 'pods', '-n', namespace, '-o', 'json'];
    const result = await runner.run('kubectl', args, { timeoutMs: config.timeouts.apply });
    if (result.exitCode === 0) pods.push(...podLines(parseToolJson(commandLine('kubectl', args), result.stdout) as { items: PodJson[] }));
  }
  return pods;
}

export const noPods = 'no pods in the lab namespaces: deploy the lab with `npx meshproof deploy`';

export function missingSidecarWarning(pods: PodLine[]): string[] {
  const missing = pods.filter((p) => p.namespace === 'bookinfo' && !p.sidecar).map((p) => p.name);
  return missing.length
    ? [`warning: no sidecar in ${missing.join(', ')}: check the namespace label (kubectl get namespace bookinfo --show-labels) and restart the deployments`]
    : [];
}

export interface HelmReleaseJson {
  name: string;
  chart: string;
  status: string;
  app_version?: string;
  revision?: string;
  updated?: string;
}

export const listReleases = (runner: ClusterRunner, config: MeshproofConfig) =>
  runOrFailJson(runner, 'helm', ['list', '-n', 'istio-system', '-o', 'json'], { timeoutMs: config.timeouts.apply, ifNothingPrinted: '[]' }) as Promise<HelmReleaseJson[]>;

export async function monitorSummary(runner: ClusterRunner, config: MeshproofConfig): Promise<string> {
  const out: string[] = [];
  const pods = await labPods(runner, config);
  out.push(pods.length ? formatPodLines(pods) : noPods);
  const charts = (await listReleases(runner, config)).map((r) => `${r.name} (${r.chart}, ${r.status})`);
  out.push('', `Helm releases in istio-system: ${charts.length ? charts.join(', ') : 'none'}`);
  const cron = await runner.run('kubectl', ['get', 'cronjob', 'traffic-generator', '-n', 'traffic-gen', '-o', 'jsonpath={.spec.suspend}'], { timeoutMs: config.timeouts.apply });
  out.push(`Traffic generator: ${cron.exitCode !== 0 ? 'not deployed' : cron.stdout.trim() === 'true' ? 'suspended' : 'running'}`);
  out.push(...missingSidecarWarning(pods));
  return `${out.join('\n')}\n`;
}

export interface ComponentCheck {
  component: string;
  ok: boolean;
  seen: string;
}

/** One line a check: ✓ or ✗, the component, what it answered. */
export function formatComponentChecks(checks: ComponentCheck[]): string {
  return checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.component.padEnd(32)} ${c.seen}`).join('\n');
}

/** Whether a `count(…)` answer counts at least one series. */
function countAboveZero(body: string): boolean {
  const answer = readPrometheusAnswer(body);
  return answer.kind === 'result' && answer.result.resultType === 'vector' && (answer.result.result[0]?.value.value ?? 0) > 0;
}

/** Where each component answers on this machine, or why it cannot be reached (its port-forward failed). */
export type ComponentUrls = Record<'ingress' | 'prometheus' | 'grafana' | 'jaeger' | 'kiali', string | Error>;

/** One request to each component, as the lab's connectivity test does; every check is reported. */
export async function monitorTest(urls: ComponentUrls, config: MeshproofConfig): Promise<ComponentCheck[]> {
  const checks: [string, string | Error, string, (status: number, body: string) => boolean][] = [
    ['Bookinfo (through the gateway)', urls.ingress, '/productpage', (s, b) => s === 200 && b.includes('<title>Simple Bookstore App</title>')],
    ['Prometheus, with Istio metrics', urls.prometheus, `/api/v1/query?query=${encodeURIComponent('count(istio_requests_total)')}`, (s, b) => s === 200 && countAboveZero(b)],
    ['Grafana', urls.grafana, '/api/health', (s, b) => s === 200 && b.includes('"database"')],
    ['Jaeger', urls.jaeger, '/jaeger/api/services', (s, b) => s === 200 && b.includes('"data"')],
    ['Kiali', urls.kiali, '/kiali/api/status', (s, b) => s === 200 && b.includes('running')],
  ];
  return Promise.all(
    checks.map(async ([component, base, path, ok]) => {
      if (base instanceof Error) return { component, ok: false, seen: errorText(base) };
      try {
        const { status, body } = await httpRequest(`${base}${path}`, { timeoutMs: config.timeouts.request });
        return { component, ok: ok(status, body), seen: `HTTP ${status}: ${excerpt(body, 80)}` };
      } catch (error) {
        return { component, ok: false, seen: errorText(error) };
      }
    }),
  );
}
