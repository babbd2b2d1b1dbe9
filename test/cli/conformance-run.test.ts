import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { featureNames } from '../../helpers/config/features.ts';
import type { PhaseRecord } from '../../helpers/provision/progress.ts';
import type { ConformanceSummary } from '../../helpers/report/summary.ts';
import { useTempDirs, writeScript } from '../support/temp.ts';

/**
 * The conformance run itself (`npm test` = vitest's conformance project with global-setup.ts), started as a
 * user would start it, where no cluster can be had. It must end quickly with an actionable message and a
 * non-zero exit code: never a stack trace, never a green run without a mesh.
 */
const tempDir = useTempDirs('meshproof-run-');

async function conformanceRun(env: NodeJS.ProcessEnv) {
  const bin = tempDir();
  // A docker client whose engine is down, as on a laptop where Docker Desktop is not started.
  writeScript(
    bin,
    'docker',
    `echo '{"ServerVersion":""}'\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\nexit 1`,
  );
  return execa(fromRoot('node_modules', '.bin', 'vitest'), ['run', '--project', 'conformance'], {
    cwd: fromRoot(),
    env: { PATH: `${bin}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}/usr/bin:/bin`, HOME: tempDir(), ...env },
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 60_000,
  });
}

describe('npm test without a cluster', () => {
  it('stops at preflight, naming Docker and the way out, with exit code 1 and no stack trace', async () => {
    const reportsDir = tempDir();
    const run = await conformanceRun({ MESHPROOF_REPORTS_DIR: reportsDir });
    expect(run.exitCode).toBe(1);
    expect(run.all).toContain('meshproof: Docker is not running');
    expect(run.all).toContain('MESHPROOF_TARGET=existing');
    expect(run.all).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(run.all).not.toMatch(/Tests\s+\d+ passed/);

    // The reports still say how far the run got and why: the CI artifact is most needed exactly now.
    expect(run.all).toContain(`conformance incomplete — 0 passed, 0 failed, 0 skipped, ${featureNames.length} not run`);
    const summary = JSON.parse(readFileSync(path.join(reportsDir, 'conformance-summary.json'), 'utf8')) as ConformanceSummary;
    expect(summary.result).toBe('incomplete');
    expect(summary.reason).toMatch(/^setup failed at phase "preflight": Docker is not running/);
    expect(Object.values(summary.features).map((f) => f.status)).toEqual(featureNames.map(() => 'not-run'));
    const phases = JSON.parse(readFileSync(path.join(reportsDir, 'setup-phases.json'), 'utf8')) as PhaseRecord[];
    expect(phases).toEqual([expect.objectContaining({ name: 'preflight', status: 'failed', detail: expect.stringContaining('Docker is not running') })]);
    const results = readdirSync(path.join(reportsDir, 'allure-results'))
      .filter((f) => f.endsWith('-result.json'))
      .map((f) => JSON.parse(readFileSync(path.join(reportsDir, 'allure-results', f), 'utf8')) as { name: string; status: string });
    expect(results.filter((r) => r.status === 'unknown')).toHaveLength(featureNames.length);
    expect(results.map((r) => [r.name, r.status])).toEqual(
      expect.arrayContaining([
        ['setup failed at phase "preflight"', 'broken'],
        [`0 · conformance incomplete — 0 passed, 0 failed, 0 skipped, ${featureNames.length} not run`, 'broken'],
      ]),
    );
    expect(readFileSync(path.join(reportsDir, 'allure-results', 'environment.properties'), 'utf8')).toMatch(/^Conformance=incomplete \(setup failed at phase "preflight": /m);
  });

  it('stops before preflight on an invalid setting, with exit code 2', async () => {
    const run = await conformanceRun({ MESHPROOF_ISTIO_VERSION: 'banana' });
    expect(run.exitCode).toBe(2);
    expect(run.all).toContain('MESHPROOF_ISTIO_VERSION=banana is not a supported Istio version; allowed: 1.31, 1.31.1, 1.30, 1.30.5.');
    expect(run.all).not.toContain('preflight');
    expect(run.all).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });
});

describe('meshproof CLI', () => {
  it('prints its help', async () => {
    const run = await execa(process.execPath, [fromRoot('bin', 'meshproof.js'), '--help'], { reject: false });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Usage: meshproof');
    expect(run.stdout).toContain('preflight');
  });
});
