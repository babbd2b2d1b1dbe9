import type { TestProject } from 'vitest/node';
import { loadConfig } from './helpers/config/config.ts';
import { exitOnUserError } from './helpers/errors.ts';
import { runPreflight } from './helpers/provision/preflight.ts';
import { PhaseTracker, stderrLog } from './helpers/report/progress.ts';

/**
 * The conformance run's setup: configuration, then preflight, then the stack. A user error (bad config,
 * no Docker, a cluster that does not answer) ends the run here with a message and a non-zero exit code
 * instead of a stack trace, before any suite starts: the suites must never pass without a mesh.
 */
export default async function setup(project: TestProject) {
  const config = await exitOnUserError(() => loadConfig());
  const phases = new PhaseTracker(stderrLog);
  await exitOnUserError(() =>
    phases.run('preflight', async () => {
      const preflight = await runPreflight(config);
      for (const warning of preflight.warnings) phases.note(`warning: ${warning}`);
    }),
  );
  // kind writes its context as kind-<name>; the suites reach the cluster through that context.
  const clusterAccess = config.target === 'kind' ? { ...config, context: `kind-${config.clusterName}` } : config;
  project.provide('meshproofConfig', clusterAccess);
}

declare module 'vitest' {
  export interface ProvidedContext {
    meshproofConfig: import('./helpers/config/config.ts').MeshproofConfig;
  }
}
