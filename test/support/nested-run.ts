import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { loadConfig } from '../../helpers/config/config.ts';
import { fromRoot } from '../../helpers/config/data-file.ts';
import type { PhaseRecord } from '../../helpers/provision/progress.ts';
import type { MeshproofRun } from '../../helpers/suite/run.ts';
import { serveStandIns, writeForwardingStandIns } from './stand-ins/forwarding.ts';
import { InstantIstio } from './stand-ins/instant-istio.ts';

/**
 * A nested vitest run of suite files written by a test, as `npm test` runs the real ones: the same featureTest
 * mechanics, the Allure reporter, and a global setup that hands every suite the run and ends it with the real
 * `finishRun` (summary, setup phases, the conformance result, not-run features). The cluster is the stand-in
 * kubectl and istioctl answered by test/support/stand-ins/instant-istio.ts, and the ingress a server the test holds.
 */
export interface NestedRunOptions {
  dir: string;
  /** File name (e.g. "10-traffic-shifting.test.ts") → its source. */
  suites: Record<string, string>;
  ingressUrl: string;
  env?: Record<string, string>;
  runId?: string;
}

export interface NestedRun {
  exitCode: number | undefined;
  output: string;
  reportsDir: string;
  runId: string;
}

/** The setup phases a nested run reports: what global setup would have done on a kept cluster. */
const phases = (now: number): PhaseRecord[] => [
  { name: 'preflight', status: 'done', startedAt: now - 3000, durationMs: 400 },
  { name: 'kind cluster meshproof', status: 'skipped', detail: 'a kind cluster of that name runs Kubernetes 1.36.4', startedAt: now - 2600, durationMs: 300 },
  { name: 'Istio (base, istiod, gateway)', status: 'skipped', detail: 'istiod (istiod-1.31.1) already deployed with these values', startedAt: now - 2300, durationMs: 900 },
];

export async function runNestedSuites(options: NestedRunOptions): Promise<NestedRun> {
  const { dir } = options;
  const reportsDir = path.join(dir, 'reports');
  // Generous deadlines: the run shares a 2-core machine with the other self-tests; a healthy stand-in answers at once.
  const env = { MESHPROOF_TIMEOUT_CONFIG_LIVE: '60s', MESHPROOF_TIMEOUT_CONFIG_LIVE_POLL: '20ms', ...options.env, MESHPROOF_REPORTS_DIR: reportsDir };
  const config = loadConfig(env, dir);
  const cluster = new InstantIstio(config.istio.version);
  const served = await serveStandIns((call) => cluster.answer(call));
  try {
    const { kubectl, istioctl } = writeForwardingStandIns(path.join(dir, 'bin'), ['kubectl', 'istioctl'], served.url);
    const runId = options.runId ?? `nested-${Date.now()}`;
    const run: MeshproofRun = {
      runId,
      config,
      access: { kubeconfig: undefined, context: 'kind-meshproof' },
      mesh: {
        ingressUrl: options.ingressUrl,
        addons: { prometheus: options.ingressUrl, grafana: options.ingressUrl, jaeger: options.ingressUrl, kiali: options.ingressUrl },
        kubernetesVersion: '1.36.4',
        istioVersion: config.istio.version,
      },
      tools: { kind: '/bin/false', helm: '/bin/false', kubectl, istioctl },
    };
    const suitesDir = path.join(dir, 'suites');
    mkdirSync(suitesDir, { recursive: true });
    for (const [name, source] of Object.entries(options.suites)) writeFileSync(path.join(suitesDir, name), source);
    const setupFile = path.join(dir, 'global-setup.ts');
    writeFileSync(
      setupFile,
      [
        `import { finishRun } from ${JSON.stringify(fromRoot('helpers', 'report', 'finish.ts'))};`,
        `const run = ${JSON.stringify(run)};`,
        `export default function setup(project) {`,
        `  const startedAt = Date.now();`,
        `  project.provide('meshproof', run);`,
        `  return () => { finishRun({ config: run.config, runId: run.runId, versions: { istio: run.mesh.istioVersion, kubernetes: run.mesh.kubernetesVersion }, target: 'kind (nested run)', setupPhases: ${JSON.stringify(phases(Date.now()))}, startedAt }); };`,
        `}`,
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'vitest.config.mjs'),
      `export default { test: { include: ['suites/**/*.test.ts'], globalSetup: [${JSON.stringify(setupFile)}], fileParallelism: false, isolate: false, testTimeout: 60000, ` +
        `reporters: ['default', ['allure-vitest/reporter', { resultsDir: ${JSON.stringify(path.join(reportsDir, 'allure-results'))} }]] } };\n`,
    );
    // Run from the run's folder, as `npm test` runs from the project's: test names are relative to it.
    const result = await execa(fromRoot('node_modules', '.bin', 'vitest'), ['run', '--config', path.join(dir, 'vitest.config.mjs'), '--root', dir], {
      cwd: dir,
      reject: false,
      all: true,
      env: { ...process.env, ...env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    return { exitCode: result.exitCode, output: result.all ?? '', reportsDir, runId };
  } finally {
    await served.close();
  }
}
