import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../helpers/config/config.ts';
import { MeshproofError } from '../../helpers/errors.ts';
import { runPreflight } from '../../helpers/provision/preflight.ts';
import { useTempDirs, writeScript } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-preflight-');

async function preflightError(...args: Parameters<typeof runPreflight>): Promise<MeshproofError> {
  const error = await runPreflight(...args).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MeshproofError);
  return error as MeshproofError;
}

describe('preflight for kind', () => {
  const kindConfig = (extra: NodeJS.ProcessEnv = {}) => loadConfig({ MESHPROOF_TIMEOUT_PREFLIGHT: '3s', ...extra }, tempDir());

  it('says Docker is not installed, and how to use an existing cluster instead', async () => {
    const emptyPath = tempDir();
    const error = await preflightError(kindConfig(), { PATH: emptyPath });
    expect(error.message).toContain('Docker (or Podman) is not installed');
    expect(error.fix).toContain('MESHPROOF_TARGET=existing');
  });

  it('says Docker is not running, quoting the client', async () => {
    const bin = tempDir();
    writeScript(
      bin,
      'docker',
      `echo '{"ServerVersion":"","ClientInfo":{"Version":"28.2.2"}}'\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\nexit 1`,
    );
    const error = await preflightError(kindConfig(), { PATH: bin });
    expect(error.message).toBe(
      'Docker is not running: `docker info` says "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?".',
    );
    expect(error.fix).toContain('Start Docker Desktop');
    expect(error.fix).toContain('MESHPROOF_TARGET=existing');
  });

  it('gives up on an engine that hangs, within the preflight timeout', async () => {
    const bin = tempDir();
    writeScript(bin, 'docker', 'exec /bin/sleep 30');
    const started = Date.now();
    const error = await preflightError(kindConfig({ MESHPROOF_TIMEOUT_PREFLIGHT: '500ms' }), { PATH: bin });
    expect(error.message).toContain('did not answer `docker info` within 500 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('names the command when the engine prints something other than JSON', async () => {
    const bin = tempDir();
    writeScript(bin, 'docker', `echo '{"ServerVersion": "27.3.1", <truncated>'`);
    const error = await preflightError(kindConfig(), { PATH: bin });
    expect(error.message).toBe('`docker info --format {{json .}}` printed something that is not JSON: "{\\"ServerVersion\\": \\"27.3.1\\", <truncated>"');
  });

  it('passes on a running engine and advises when memory is short', async () => {
    const bin = tempDir();
    writeScript(bin, 'docker', `echo '{"ServerVersion":"27.3.1","MemTotal":4294967296}'`);
    const result = await runPreflight(kindConfig(), { PATH: bin });
    expect(result.engine).toEqual({ name: 'docker', version: '27.3.1', memoryBytes: 4294967296 });
    expect(result.warnings[0]).toContain('Docker has 4.0 GiB of memory');
  });

  it('uses Podman when Docker is absent', async () => {
    const bin = tempDir();
    writeScript(bin, 'podman', `echo '{"host":{"memTotal":17179869184},"version":{"Version":"5.2.0"}}'`);
    const result = await runPreflight(kindConfig(), { PATH: bin });
    expect(result.engine).toEqual({ name: 'podman', version: '5.2.0', memoryBytes: 17179869184 });
    expect(result.warnings).toEqual([]);
  });
});

describe('preflight for an existing cluster', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function fakeApiServer(gitVersion: string): Promise<string> {
    server = http.createServer((req, res) => {
      if (req.url?.startsWith('/version')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ major: '1', minor: gitVersion.split('.')[1], gitVersion, platform: 'linux/amd64' }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  function writeKubeconfig(serverUrl: string): string {
    const file = path.join(tempDir(), 'kubeconfig');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        // client-node refuses plain http unless TLS verification is off (an http fake API server needs it).
        'clusters: [{name: lab, cluster: {server: "' + serverUrl + '", insecure-skip-tls-verify: true}}]',
        'users: [{name: me, user: {token: abc}}]',
        'contexts: [{name: lab, context: {cluster: lab, user: me}}]',
        'current-context: lab',
      ].join('\n'),
    );
    return file;
  }

  const existing = (kubeconfig: string, extra: NodeJS.ProcessEnv = {}) =>
    loadConfig({ MESHPROOF_TARGET: 'existing', MESHPROOF_KUBECONFIG: kubeconfig, MESHPROOF_TIMEOUT_PREFLIGHT: '2s', ...extra }, tempDir());

  it('reads the server version of the selected context', async () => {
    const kubeconfig = writeKubeconfig(await fakeApiServer('v1.35.2'));
    const result = await runPreflight(existing(kubeconfig, { MESHPROOF_CONTEXT: 'lab' }));
    expect(result.cluster).toMatchObject({ context: 'lab', version: '1.35.2' });
  });

  it('says which context does not answer, and how to check it', async () => {
    const closed = await fakeApiServer('v1.35.2');
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const error = await preflightError(existing(writeKubeconfig(closed)));
    expect(error.message).toMatch(/^the cluster of context "lab" \(http:\/\/127\.0\.0\.1:\d+\) does not answer: /);
    expect(error.fix).toContain('kubectl --context lab get nodes');
  });

  it('lists the known contexts when the named one is missing', async () => {
    const kubeconfig = writeKubeconfig(await fakeApiServer('v1.35.2'));
    const error = await preflightError(existing(kubeconfig, { MESHPROOF_CONTEXT: 'prod' }));
    expect(error.message).toBe('the kubeconfig has no context named "prod".');
    expect(error.fix).toContain('Known contexts: lab');
  });

  it('refuses a cluster whose Kubernetes version the chosen Istio does not support', async () => {
    const kubeconfig = writeKubeconfig(await fakeApiServer('v1.28.9'));
    const error = await preflightError(existing(kubeconfig));
    expect(error.message).toContain('runs Kubernetes 1.28.9, which Istio 1.31.1 does not support');
  });
});
