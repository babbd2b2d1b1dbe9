import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
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
    const run = await conformanceRun({});
    expect(run.exitCode).toBe(1);
    expect(run.all).toContain('meshproof: Docker is not running');
    expect(run.all).toContain('MESHPROOF_TARGET=existing');
    expect(run.all).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(run.all).not.toMatch(/\d+ passed/);
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
