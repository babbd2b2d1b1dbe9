import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { loadClusterToolSpecs } from '../../../helpers/config/cluster-tools.ts';
import { loadConfig } from '../../../helpers/config/config.ts';
import { fromRoot } from '../../../helpers/config/data-file.ts';
import { buildStackPlan, ingressMapping, kindClusterStep } from '../../../helpers/provision/stack.ts';
import type { FeatureName } from '../../../helpers/config/features.ts';
import type { ConformanceSummary } from '../../../helpers/report/summary.ts';
import { fixturesWithLoopbackDashboards } from '../dashboard-fixtures.ts';
import { freePort, writeEngine } from '../lab-stand-ins.ts';
import { startIstioExporter } from '../istio-exporter.ts';
import { startJaegerDouble } from '../jaeger-double.ts';
import { startKialiDouble } from '../kiali-double.ts';
import { startSimMesh, type Breakage } from '../mesh-sim/mesh.ts';
import { SpanCollector } from '../mesh-sim/tracing.ts';
import { startPrometheus } from '../prometheus-harness.ts';
import { writeClusterTools } from '../stand-ins/bundle.ts';
import { startStaticHttpServer } from '../static-http-server.ts';
import { RehearsalCluster, serveRehearsalCluster } from './cluster.ts';

/**
 * A dress rehearsal of `npm test`: the real command (vitest's conformance project, global-setup.ts, the suite
 * files, the summary and the Allure results), unmodified, against a simulated cluster. kubectl, helm and kind are
 * stand-in executables on PATH that pass every call to the rehearsal's cluster server, so the production runner
 * really spawns them, parses what they print and holds their port-forwards; the mesh behind them is the
 * simulated one (test/support/mesh-sim), scraped by a real Prometheus.
 *
 * Two targets, as a user has them. `kind` (the default, what `npm ci && npm test` does on a fresh machine): a
 * stand-in docker answers the preflight (running, no kind node yet), `kind create cluster` publishes the
 * configuration's ingress host port (MESHPROOF_INGRESS_PORT, a free one) towards the simulated gateway, and the
 * suites reach the ingress there, not through a port-forward. `existing`: a kubeconfig context of its own, the
 * ingress through a port-forward.
 */
export interface RehearsalOptions {
  dir: string;
  /** The features to run (MESHPROOF_ONLY); the others are reported skipped. */
  only: FeatureName[];
  /** A way the simulated mesh gets a feature wrong, from the start of the run. */
  breakage?: Breakage;
  /** kind (default) or an existing cluster's context. */
  target?: 'kind' | 'existing';
  env?: Record<string, string>;
}

export interface Rehearsal {
  exitCode: number | undefined;
  output: string;
  reportsDir: string;
  summary: ConformanceSummary | undefined;
  /** Every call the stand-ins passed on, in order. */
  calls: { tool: string; args: string[] }[];
}

/** Deadlines for a cluster on loopback: answers take milliseconds, a scrape one second. */
const rehearsalTimeouts = {
  MESHPROOF_TIMEOUT_PREFLIGHT: '10s',
  MESHPROOF_TIMEOUT_POLL: '100ms',
  MESHPROOF_TIMEOUT_ADDON_READY: '20s',
  MESHPROOF_TIMEOUT_METRIC_PROPAGATION: '15s',
  MESHPROOF_TIMEOUT_METRIC_POLL: '200ms',
  MESHPROOF_TIMEOUT_KIALI_WINDOW: '2s',
  MESHPROOF_TIMEOUT_CONFIG_LIVE: '10s',
  MESHPROOF_TIMEOUT_CONFIG_LIVE_POLL: '50ms',
  MESHPROOF_TIMEOUT_REQUEST: '15s',
  MESHPROOF_TIMEOUT_TRACE_ARRIVAL: '15s',
  MESHPROOF_TIMEOUT_TRACE_POLL: '100ms',
};

/** Which Deployments each chart brings: those the plan's Helm steps wait for (the charts' names, with our values). */
function chartDeployments(targetEnv: Record<string, string>): Record<string, string[]> {
  const plan = buildStackPlan(loadConfig(targetEnv));
  return Object.fromEntries(plan.flatMap(({ step }) => (step.kind === 'helm-release' ? [[step.release, step.deployments]] : [])));
}

export async function rehearse(options: RehearsalOptions): Promise<Rehearsal> {
  const { dir } = options;
  const kind = (options.target ?? 'kind') === 'kind';
  const targetEnv: Record<string, string> = kind
    ? { MESHPROOF_TARGET: 'kind', MESHPROOF_INGRESS_PORT: String(await freePort()) }
    : { MESHPROOF_TARGET: 'existing', MESHPROOF_CONTEXT: 'rehearsal' };
  const exporter = await startIstioExporter();
  // Jaeger is a double over the simulated proxies' spans: fault-delay reads a trace from it.
  const spans = new SpanCollector();
  const jaeger = await startJaegerDouble(spans);
  const sim = await startSimMesh({ exporter, spans, seed: 11 });
  if (options.breakage) sim.break(options.breakage);
  const prometheus = await startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalMs: 1_000 });
  // Grafana answers its readiness probe; the suite that reads it is not rehearsed. Jaeger serves the simulated
  // proxies' spans, and Kiali computes its answers from the simulated mesh and Prometheus: the feature suites ask
  // them during their features.
  const addons = await startStaticHttpServer({
    '/api/health': { body: JSON.stringify({ database: 'ok', version: '12.0.0' }) },
  });
  const kiali = await startKialiDouble({ prometheus: prometheus.url, sim });
  const dashboards = await startStaticHttpServer();
  try {
    const specs = loadClusterToolSpecs();
    const cluster = new RehearsalCluster({
      sim,
      toolVersions: { kind: specs.kind.version, helm: specs.helm.version, kubectl: specs.kubectl.version, istioctl: specs.istioctl.version },
      forwards: {
        'istio-system/svc/istio-ingressgateway': sim.ingressUrl,
        'istio-system/svc/prometheus': prometheus.url,
        'istio-system/svc/grafana': addons.url,
        'istio-system/svc/tracing': jaeger.url,
        'istio-system/svc/kiali': kiali.url,
      },
      chartDeployments: chartDeployments(targetEnv),
      // The kind node's ingress node port leads to the simulated gateway, as the gateway's NodePort Service does.
      ...(kind && { nodePorts: { [ingressMapping(kindClusterStep(loadConfig(targetEnv)))!.containerPort]: sim.ingressUrl } }),
    });
    const served = await serveRehearsalCluster(cluster);
    try {
      const bin = path.join(dir, 'bin');
      mkdirSync(bin, { recursive: true });
      await writeClusterTools(bin, served.url);
      // Docker is running and has no kind node yet: the preflight of a first run.
      if (kind) writeEngine(bin);
      const kubeconfig = path.join(dir, 'kubeconfig');
      // A context the preflight can select; its server is never dialled (every question goes through kubectl).
      if (!kind)
        writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{ name: rehearsal, cluster: { server: "https://127.0.0.1:6443" } }]',
          'users: [{ name: rehearsal, user: { token: rehearsal } }]',
          'contexts: [{ name: rehearsal, context: { cluster: rehearsal, user: rehearsal } }]',
          'current-context: rehearsal',
          '',
        ].join('\n'),
      );
      const reportsDir = path.join(dir, 'reports');
      const home = path.join(dir, 'home');
      mkdirSync(home, { recursive: true });
      const run = await execa(fromRoot('node_modules', '.bin', 'vitest'), ['run', '--project', 'conformance'], {
        cwd: fromRoot(),
        extendEnv: false,
        reject: false,
        all: true,
        // REHEARSAL_VERBOSE=1 shows the run as it goes, for a person debugging a rehearsal.
        ...(process.env.REHEARSAL_VERBOSE === '1' && { stdout: ['pipe', 'inherit'], stderr: ['pipe', 'inherit'] }),
        env: {
          PATH: [bin, path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter),
          HOME: home,
          REHEARSAL_CLUSTER: served.url,
          ...targetEnv,
          ...(!kind && { MESHPROOF_KUBECONFIG: kubeconfig }),
          MESHPROOF_REPORTS_DIR: reportsDir,
          MESHPROOF_TOOLS_DIR: path.join(dir, 'tools'),
          MESHPROOF_FIXTURES_DIR: fixturesWithLoopbackDashboards(dir, dashboards),
          MESHPROOF_ONLY: options.only.join(','),
          FORCE_COLOR: '0',
          NO_COLOR: '1',
          ...rehearsalTimeouts,
          ...options.env,
        },
      });
      let summary: ConformanceSummary | undefined;
      try {
        summary = JSON.parse(readFileSync(path.join(reportsDir, 'conformance-summary.json'), 'utf8')) as ConformanceSummary;
      } catch {
        summary = undefined;
      }
      return { exitCode: run.exitCode, output: run.all ?? '', reportsDir, summary, calls: served.calls };
    } finally {
      await Promise.all([served.close(), cluster.unpublish()]);
    }
  } finally {
    await Promise.all([sim.stop(), prometheus.stop(), exporter.stop(), jaeger.stop(), addons.close(), dashboards.close(), kiali.stop()]);
  }
}
