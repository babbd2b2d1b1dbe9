import { excerpt, httpRequest } from '../net/http.ts';
import { readPrometheusAnswer } from '../net/prometheus-answer.ts';
import { errorText } from '../errors.ts';
import type { MeshproofConfig } from '../config/config.ts';
import { commandLine, parseToolJson, runOrFailJson, type ClusterRunner } from './runner.ts';

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

export function formatPodLines(lines: PodLine[]): string {
  const header = ['NAMESPACE', 'POD', 'READY', 'STATUS', 'RESTARTS', 'SIDECAR'];
  const rows = lines.map((l) => [l.namespace, l.name, l.ready, l.status, String(l.restarts), l.sidecar ? 'yes' : 'no']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export async function monitorSummary(runner: ClusterRunner, config: MeshproofConfig): Promise<string> {
  const out: string[] = [];
  const pods: PodLine[] = [];
  for (const namespace of monitoredNamespaces) {
    const args = ['get', 'pods', '-n', namespace, '-o', 'json'];
    const result = await runner.run('kubectl', args, { timeoutMs: config.timeouts.apply });
    if (result.exitCode === 0) pods.push(...podLines(parseToolJson(commandLine('kubectl', args), result.stdout) as { items: PodJson[] }));
  }
  out.push(pods.length ? formatPodLines(pods) : 'no pods in the lab namespaces: deploy the lab with `npx meshproof deploy`');
  const releases = (await runOrFailJson(runner, 'helm', ['list', '-n', 'istio-system', '-o', 'json'], { timeoutMs: config.timeouts.apply, ifNothingPrinted: '[]' })) as { name: string; chart: string; status: string }[];
  const charts = releases.map((r) => `${r.name} (${r.chart}, ${r.status})`);
  out.push('', `Helm releases in istio-system: ${charts.length ? charts.join(', ') : 'none'}`);
  const cron = await runner.run('kubectl', ['get', 'cronjob', 'traffic-generator', '-n', 'traffic-gen', '-o', 'jsonpath={.spec.suspend}'], { timeoutMs: config.timeouts.apply });
  out.push(`Traffic generator: ${cron.exitCode !== 0 ? 'not deployed' : cron.stdout.trim() === 'true' ? 'suspended' : 'running'}`);
  const missingSidecars = pods.filter((p) => p.namespace === 'bookinfo' && !p.sidecar).map((p) => p.name);
  if (missingSidecars.length) {
    out.push(`warning: no sidecar in ${missingSidecars.join(', ')}: check the namespace label (kubectl get namespace bookinfo --show-labels) and restart the deployments`);
  }
  return `${out.join('\n')}\n`;
}

export interface ComponentCheck {
  component: string;
  ok: boolean;
  seen: string;
}

/** Whether a `count(…)` answer counts at least one series. */
function countAboveZero(body: string): boolean {
  const answer = readPrometheusAnswer(body);
  return answer.kind === 'result' && answer.result.resultType === 'vector' && (answer.result.result[0]?.value.value ?? 0) > 0;
}

/** One request to each component, as the lab's connectivity test does; every check is reported. */
export async function monitorTest(urls: { ingress: string; prometheus: string; grafana: string; jaeger: string; kiali: string }, config: MeshproofConfig): Promise<ComponentCheck[]> {
  const checks: [string, string, (status: number, body: string) => boolean][] = [
    ['Bookinfo (through the gateway)', `${urls.ingress}/productpage`, (s, b) => s === 200 && b.includes('<title>Simple Bookstore App</title>')],
    ['Prometheus, with Istio metrics', `${urls.prometheus}/api/v1/query?query=${encodeURIComponent('count(istio_requests_total)')}`, (s, b) => s === 200 && countAboveZero(b)],
    ['Grafana', `${urls.grafana}/api/health`, (s, b) => s === 200 && b.includes('"database"')],
    ['Jaeger', `${urls.jaeger}/jaeger/api/services`, (s, b) => s === 200 && b.includes('"data"')],
    ['Kiali', `${urls.kiali}/kiali/api/status`, (s, b) => s === 200 && b.includes('running')],
  ];
  return Promise.all(
    checks.map(async ([component, url, ok]) => {
      try {
        const { status, body } = await httpRequest(url, { timeoutMs: config.timeouts.request });
        return { component, ok: ok(status, body), seen: `HTTP ${status}: ${excerpt(body, 80)}` };
      } catch (error) {
        return { component, ok: false, seen: errorText(error) };
      }
    }),
  );
}
