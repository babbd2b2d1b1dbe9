import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from './helpers/config/config.ts';
import { exitOnUserError } from './helpers/errors.ts';
import { clusterAccess, clusterRunnerOnDemand } from './helpers/provision/cluster.ts';
import { runPreflight } from './helpers/provision/preflight.ts';
import { provisionStack, resumeTrafficGenerator } from './helpers/provision/provision.ts';
import type { ToolRunner } from './helpers/provision/runner.ts';
import type { MeshproofRun } from './helpers/suite/run.ts';
import { PhaseTracker, stderrLog } from './helpers/provision/progress.ts';
import { finishRun } from './helpers/report/finish.ts';
import { conformanceHeadline, newRunId, summaryFile } from './helpers/report/summary.ts';

/**
 * The conformance run's setup: configuration, preflight, then the stack (created, or reused when it already
 * holds). A user error (bad config, no Docker, a cluster that does not answer, a wait that ran out) ends the
 * run here with a message and a non-zero exit code instead of a stack trace, before any suite starts: the
 * suites never pass without a mesh.
 */
export default async function setup(project: TestProject) {
  const config = await exitOnUserError(() => loadConfig());
  // The summary at the end reads only recordings this run made: a kept reports folder holds earlier runs' too.
  const runId = newRunId();
  const startedAt = Date.now();
  const phases = new PhaseTracker(stderrLog);
  const access = clusterAccess(config);
  const target = config.target === 'kind' ? `kind (${config.kubernetes?.nodeImage})` : `existing (${access.context})`;
  const openRunner = clusterRunnerOnDemand(config, access, (line) => phases.note(line), true);
  let runner: ToolRunner | undefined;
  let provisioned: Awaited<ReturnType<typeof provisionStack>>;
  try {
    await phases.run('preflight', async () => {
      const preflight = await runPreflight(config, { openRunner });
      for (const warning of preflight.warnings) phases.note(`warning: ${warning}`);
    });
    await phases.run('cluster tools (kind, helm, kubectl, istioctl)', async () => {
      runner = await openRunner();
    });
    provisioned = await provisionStack({ config, runner: runner!, phases, quietTrafficGenerator: true });
  } catch (error) {
    // The run ends here, but the reports still say how far it got and why: the CI artifact is most needed now.
    const failed = [...phases.phases].reverse().find((phase) => phase.status === 'failed');
    const summary = finishRun({
      config,
      runId,
      versions: { istio: config.istio.version, ...(config.kubernetes && { kubernetes: config.kubernetes.version }) },
      target,
      setupPhases: phases.phases,
      setupFailure: { phase: failed?.name ?? 'setup', message: (error as Error).message },
      startedAt,
    });
    stderrLog(`${conformanceHeadline(summary)} — ${path.join(config.reportsDir, summaryFile)}`);
    return exitOnUserError(() => {
      throw error;
    });
  }

  const { close: _close, forwards: _forwards, ...mesh } = provisioned;
  const run: MeshproofRun = { runId, config, access, mesh, tools: runner!.binaries };
  project.provide('meshproof', run);

  return async () => {
    await provisioned.close();
    const summary = finishRun({ config, runId, versions: { istio: mesh.istioVersion, kubernetes: mesh.kubernetesVersion }, target, setupPhases: phases.phases, startedAt });
    stderrLog(`${conformanceHeadline(summary)} — ${path.join(config.reportsDir, summaryFile)}${summary.reason ? `\n  ${summary.reason}` : ''}`);
    const teardown = new PhaseTracker(stderrLog);
    await exitOnUserError(async () => {
      if (config.target === 'kind' && !config.keepCluster) {
        await teardown.run(`delete the kind cluster ${config.clusterName} (MESHPROOF_KEEP_CLUSTER=false)`, async () => {
          await runner!.run('kind', ['delete', 'cluster', '--name', config.clusterName], { timeoutMs: config.timeouts.cleanup });
        });
      } else {
        // The lab stays up for the person exploring it, with its live traffic.
        await teardown.run('resume the traffic generator', () => resumeTrafficGenerator(runner!, config));
      }
    });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    meshproof: MeshproofRun;
  }
}
