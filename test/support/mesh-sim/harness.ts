import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { applyFeatureConfig, baselineFiles, prepareFeatureConfig, restoreBaseline, type AppliedConfig } from '../../../helpers/apply/feature-config.ts';
import { loadFixture } from '../../../helpers/config/manifests.ts';
import { loadConfig } from '../../../helpers/config/config.ts';
import { resolveDataPath } from '../../../helpers/config/data-file.ts';
import type { Timeouts } from '../../../helpers/config/timeouts.ts';
import type { StepEnv } from '../../../helpers/suite/step-env.ts';
import { stepEnvOf } from '../../../helpers/suite/feature-test.ts';
import { startIstioExporter, type IstioExporter } from '../istio-exporter.ts';
import { startKialiDouble } from '../kiali-double.ts';
import { startPrometheus, type PrometheusHarness } from '../prometheus-harness.ts';
import { startSimMesh, type SimMesh } from './mesh.ts';
import { SpanCollector } from './tracing.ts';
import { startJaegerDouble } from '../jaeger-double.ts';
import { SimRunner } from './runner.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';

/**
 * A simulated mesh, a real Prometheus scraping its sidecars' metrics, a Kiali computing its answers from both
 * (test/support/kiali-double.ts), and the StepEnv a conformance run would
 * build (helpers/suite/feature-test.ts stepEnvOf) on top of the SimRunner seam: the production URLs, the
 * production `end-user` header path, kubectl exec into the client pods and into istio-proxy. One per test file
 * (Prometheus takes a few seconds to start).
 */
export interface SimHarness {
  sim: SimMesh;
  exporter: IstioExporter;
  prometheus: PrometheusHarness;
  runner: SimRunner;
  env: StepEnv;
  /** The same env with some timeouts changed (a broken mesh need not be awaited for long). */
  envWith(timeouts: Partial<Timeouts>): StepEnv;
  /** Applies feature files as a suite does (probe routes included), with the production apply code. */
  apply(files: string[]): Promise<AppliedConfig>;
  /** Puts the baseline back with the production restore code. */
  restore(applied: AppliedConfig): Promise<void>;
  /**
   * A copy of a fixture with some text replaced, for a simulation that must run faster than the lab (a 6 s
   * ejection instead of 3 min) or a file that says something else than the lab (a broken variant). Returns a
   * path the apply functions accept.
   */
  variant(file: string, replacements: [string, string][]): string;
}

/** Deadlines for a simulation on loopback: answers take milliseconds, a scrape one second. */
export const simTimeouts = {
  MESHPROOF_TIMEOUT_METRIC_PROPAGATION: '15s',
  MESHPROOF_TIMEOUT_METRIC_POLL: '200ms',
  // Prometheus scrapes every second here: a 2 s window holds two samples of every series.
  MESHPROOF_TIMEOUT_KIALI_WINDOW: '2s',
  MESHPROOF_TIMEOUT_CONFIG_LIVE: '5s',
  MESHPROOF_TIMEOUT_CONFIG_LIVE_POLL: '50ms',
  MESHPROOF_TIMEOUT_REQUEST: '15s',
  MESHPROOF_TIMEOUT_EJECTION_POLL: '200ms',
  MESHPROOF_TIMEOUT_EJECTION_GRACE: '3s',
  MESHPROOF_TIMEOUT_TRACE_ARRIVAL: '15s',
  MESHPROOF_TIMEOUT_TRACE_POLL: '100ms',
};

/** Starts a simulated mesh with its Prometheus; `stop` ends both. For tests, see useSimulatedMesh. */
export async function startSimHarness(options: { seed?: number } = {}): Promise<SimHarness & { stop(): Promise<void>; restoreOutstanding(): Promise<void> }> {
  const exporter = await startIstioExporter();
  const spans = new SpanCollector();
  const jaeger = await startJaegerDouble(spans);
  const sim = await startSimMesh({ exporter, spans, seed: options.seed ?? 7, baseline: baselineFiles.flatMap(loadFixture).map((f) => f.object) });
  const prometheus = await startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalMs: 1_000 });
  const kiali = await startKialiDouble({ prometheus: prometheus.url, sim });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshproof-sim-'));
  const config = loadConfig(simTimeouts, dir);
  const runner = new SimRunner(sim);
  const run = {
    runId: 'sim-run',
    config,
    access: { kubeconfig: undefined, context: 'sim' },
    mesh: { ingressUrl: sim.ingressUrl, addons: { prometheus: prometheus.url, grafana: '', jaeger: jaeger.url, kiali: kiali.url }, kubernetesVersion: '1.36.4', istioVersion: '1.30.3' },
    tools: { kind: '/bin/false', helm: '/bin/false', kubectl: '/bin/false', istioctl: '/bin/false' },
  };
  const env = stepEnvOf(run, runner);
  /** Applied and not restored yet: a test that failed half-way leaves the next one a healthy baseline all the same. */
  const outstanding = new Set<AppliedConfig>();
  let variants = 0;
  const restore = async (applied: AppliedConfig) => {
    outstanding.delete(applied);
    await restoreBaseline(runner, config, applied);
  };
  return {
    sim,
    exporter,
    prometheus,
    runner,
    env,
    envWith: (timeouts) => ({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, ...timeouts } } }),
    apply: async (files) => {
      const applied = await applyFeatureConfig(runner, config, await prepareFeatureConfig(files));
      outstanding.add(applied);
      return applied;
    },
    restore,
    variant(file, replacements) {
      let text = readFileSync(resolveDataPath(file), 'utf8');
      for (const [from, to] of replacements) {
        if (!text.includes(from)) throw new Error(`${file} has no "${from}" to replace`);
        text = text.replaceAll(from, to);
      }
      variants += 1;
      const copy = path.join(dir, `${variants}-${path.basename(file)}`);
      writeFileSync(copy, text);
      return copy;
    },
    async restoreOutstanding() {
      sim.heal();
      for (const applied of [...outstanding]) await restore(applied);
    },
    async stop() {
      await Promise.all([sim.stop(), prometheus.stop(), exporter.stop(), jaeger.stop(), kiali.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One simulated mesh for a test file: started before its tests, back to the baseline after each, stopped after all. */
export function useSimulatedMesh(options: { seed?: number } = {}): () => SimHarness {
  let harness: Awaited<ReturnType<typeof startSimHarness>> | undefined;
  beforeAll(async () => {
    harness = await startSimHarness(options);
  }, 60_000);
  afterEach(() => harness?.restoreOutstanding());
  afterAll(() => harness?.stop());
  return () => {
    if (!harness) throw new Error('the simulated mesh is not up (beforeAll failed?)');
    return harness;
  };
}
