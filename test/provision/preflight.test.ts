import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig, type MeshproofConfig } from '../../helpers/config/config.ts';
import { MeshproofError } from '../../helpers/errors.ts';
import { clusterAccess } from '../../helpers/provision/cluster.ts';
import { preflightLabCluster, runPreflight, type PreflightOptions } from '../../helpers/provision/preflight.ts';
import { ToolRunner } from '../../helpers/provision/runner.ts';
import { freePort, holdPort, standInCalls, writeEngine, writeKubeconfig as writeLabKubeconfig } from '../support/lab-stand-ins.ts';
import { useTempDirs, writeScript } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-preflight-');

async function preflightError(...args: Parameters<typeof runPreflight>): Promise<MeshproofError> {
  const error = await runPreflight(...args).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MeshproofError);
  return error as MeshproofError;
}

async function labPreflightError(...args: Parameters<typeof preflightLabCluster>): Promise<MeshproofError> {
  const error = await preflightLabCluster(...args).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MeshproofError);
  return error as MeshproofError;
}

/** For a kind target: opening the cluster tools would mean downloading them before Docker was even asked. */
const noRunner: PreflightOptions['openRunner'] = () => Promise.reject(new Error('a kind preflight opened the cluster tools'));
const onPath = (bin: string): PreflightOptions => ({ env: { PATH: bin }, openRunner: noRunner });

describe('preflight for kind', () => {
  const kindConfig = (extra: NodeJS.ProcessEnv = {}) => loadConfig({ MESHPROOF_TIMEOUT_PREFLIGHT: '3s', ...extra }, tempDir());

  it('says Docker is not installed, and how to use an existing cluster instead', async () => {
    const emptyPath = tempDir();
    const error = await preflightError(kindConfig(), onPath(emptyPath));
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
    const error = await preflightError(kindConfig(), onPath(bin));
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
    const error = await preflightError(kindConfig({ MESHPROOF_TIMEOUT_PREFLIGHT: '500ms' }), onPath(bin));
    expect(error.message).toContain('did not answer `docker info` within 500 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('names the command when the engine prints something other than JSON', async () => {
    const bin = tempDir();
    writeScript(bin, 'docker', `echo '{"ServerVersion": "27.3.1", <truncated>'`);
    const error = await preflightError(kindConfig(), onPath(bin));
    expect(error.message).toBe('`docker info --format {{json .}}` printed something that is not JSON: "{\\"ServerVersion\\": \\"27.3.1\\", <truncated>"');
  });

  it('passes on a running engine and advises when memory is short', async () => {
    const bin = tempDir();
    writeEngine(bin, { info: '{"ServerVersion":"27.3.1","MemTotal":4294967296}' });
    const result = await runPreflight(kindConfig({ MESHPROOF_INGRESS_PORT: String(await freePort()) }), onPath(bin));
    expect(result.engine).toEqual({ name: 'docker', version: '27.3.1', memoryBytes: 4294967296 });
    expect(result.warnings[0]).toContain('Docker has 4.0 GiB of memory');
  });

  it('uses Podman when Docker is absent', async () => {
    const bin = tempDir();
    writeEngine(bin, { name: 'podman', info: '{"host":{"memTotal":17179869184},"version":{"Version":"5.2.0"}}' });
    const result = await runPreflight(kindConfig({ MESHPROOF_INGRESS_PORT: String(await freePort()) }), onPath(bin));
    expect(result.engine).toEqual({ name: 'podman', version: '5.2.0', memoryBytes: 17179869184 });
    expect(result.warnings).toEqual([]);
  });
});

describe('the ingress host port, before kind is asked to publish it', () => {
  const withPort = (port: number) => loadConfig({ MESHPROOF_TIMEOUT_PREFLIGHT: '3s', MESHPROOF_INGRESS_PORT: String(port) }, tempDir());
  /** What this process is called in /proc: the holder the check must name when the test itself holds the port. */
  const thisProcess = () => readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim();

  it('passes when the port is free, and says so', async () => {
    const bin = tempDir();
    writeEngine(bin);
    const port = await freePort();
    const result = await runPreflight(withPort(port), onPath(bin));
    expect(result.ingress).toEqual({ address: `127.0.0.1:${port}`, state: 'free' });
  });

  it.runIf(process.platform === 'linux')('names the process that holds it, and a free port to move to', async () => {
    const bin = tempDir();
    writeEngine(bin);
    const held = await holdPort();
    try {
      const error = await preflightError(withPort(held.port), onPath(bin));
      expect(error.message).toBe(`127.0.0.1:${held.port}, where kind publishes the lab's ingress gateway, is taken by ${thisProcess()} (pid ${process.pid}).`);
      const suggested = Number(/MESHPROOF_INGRESS_PORT=(\d+)/.exec(error.fix!)?.[1]);
      expect(error.fix).toBe(`Stop it, or give the lab another host port: MESHPROOF_INGRESS_PORT=${suggested} (free now), and Bookinfo is at http://127.0.0.1:${suggested}/productpage.`);
      expect(suggested).toBeGreaterThan(held.port);
      expect(suggested).toBeLessThanOrEqual(held.port + 20);
    } finally {
      await held.release();
    }
  });

  it("accepts the port when this cluster's own kind node publishes the ingress there (the lab is up)", async () => {
    const bin = tempDir();
    const held = await holdPort();
    try {
      writeEngine(bin, { kindNodes: [`meshproof-control-plane\trunning\t127.0.0.1:${held.port}->30080/tcp, 127.0.0.1:41593->6443/tcp`] });
      const result = await runPreflight(withPort(held.port), onPath(bin));
      expect(result.ingress).toEqual({ address: `127.0.0.1:${held.port}`, state: 'lab', node: 'meshproof-control-plane' });
      // The node was found by kind's cluster label, as kind finds it.
      expect(standInCalls(bin, 'docker')).toContain('ps -a --filter label=io.x-k8s.kind.cluster=meshproof --format {{.Names}}\t{{.State}}\t{{.Ports}}');
    } finally {
      await held.release();
    }
  });

  it('names the container that publishes the port when it is not the lab\'s (another kind cluster, say)', async () => {
    const bin = tempDir();
    const held = await holdPort();
    try {
      writeEngine(bin, { containers: [`web\t0.0.0.0:5432->5432/tcp`, `old-lab-control-plane\t127.0.0.1:${held.port}->30080/tcp`] });
      const error = await preflightError(withPort(held.port), onPath(bin));
      expect(error.message).toBe(`127.0.0.1:${held.port}, where kind publishes the lab's ingress gateway, is taken by the container old-lab-control-plane (docker publishes the port for it).`);
      expect(error.fix).toMatch(/^Stop it \(docker stop old-lab-control-plane\), or give the lab another host port/);
    } finally {
      await held.release();
    }
  });

  it('refuses a cluster that publishes the ingress on another port than configured: kind cannot move it', async () => {
    const bin = tempDir();
    writeEngine(bin, { kindNodes: ['meshproof-control-plane\trunning\t127.0.0.1:8080->30080/tcp'] });
    const error = await preflightError(withPort(await freePort()), onPath(bin));
    expect(error.message).toMatch(/^the kind cluster meshproof publishes the ingress on 127\.0\.0\.1:8080, not on 127\.0\.0\.1:\d+ as configured/);
    expect(error.fix).toContain('MESHPROOF_INGRESS_PORT=8080');
  });

  it('says how to start a lab whose node container is stopped', async () => {
    const bin = tempDir();
    writeEngine(bin, { kindNodes: ['meshproof-control-plane\texited\t'] });
    const error = await preflightError(withPort(await freePort()), onPath(bin));
    expect(error.message).toBe('the kind cluster meshproof is not running: its node container meshproof-control-plane is exited.');
    expect(error.fix).toContain('docker start meshproof-control-plane');
  });
});

describe('preflight of the commands that act on the lab (cleanup, apply-feature, reset, monitor)', () => {
  const config = () => loadConfig({ MESHPROOF_TIMEOUT_PREFLIGHT: '3s' }, tempDir());

  it('says there is no kind cluster, and how to get one, without opening (downloading) the cluster tools', async () => {
    const bin = tempDir();
    writeEngine(bin);
    const error = await labPreflightError(config(), onPath(bin));
    expect(error.message).toBe('there is no kind cluster named meshproof (Docker has no container labelled io.x-k8s.kind.cluster=meshproof).');
    expect(error.fix).toMatch(/^Build the lab first: npx meshproof deploy\n/);
    expect(error.fix).toContain('MESHPROOF_TARGET=existing');
  });

  it("asks a running lab's API server once, through the run's kubectl, and says when it does not answer", async () => {
    const bin = tempDir();
    writeEngine(bin, { kindNodes: ['meshproof-control-plane\trunning\t127.0.0.1:8080->30080/tcp'] });
    writeScript(bin, 'kubectl', `echo "$@" >> "${bin}/kubectl.calls"\necho 'The connection to the server 127.0.0.1:41593 was refused - did you specify the right host or port?' >&2\nexit 1`);
    const runner = new ToolRunner({ kind: '/bin/false', helm: '/bin/false', kubectl: path.join(bin, 'kubectl'), istioctl: '/bin/false' }, clusterAccess(config()));
    const error = await labPreflightError(config(), { env: { PATH: bin }, openRunner: async () => runner });
    expect(error.message).toMatch(/^the cluster of context "kind-meshproof" does not answer: `kubectl version -o json` failed \(exit code 1\):\nThe connection to the server 127\.0\.0\.1:41593 was refused/);
    expect(error.fix).toContain('kubectl --context kind-meshproof get nodes');
    expect(standInCalls(bin, 'kubectl')).toEqual(['--context kind-meshproof version -o json']);
  });

  it('passes a lab that runs and answers', async () => {
    const bin = tempDir();
    writeEngine(bin, { kindNodes: ['meshproof-control-plane\trunning\t127.0.0.1:8080->30080/tcp'] });
    writeScript(bin, 'kubectl', `echo '{"serverVersion":{"gitVersion":"v1.36.4"}}'`);
    const runner = new ToolRunner({ kind: '/bin/false', helm: '/bin/false', kubectl: path.join(bin, 'kubectl'), istioctl: '/bin/false' }, clusterAccess(config()));
    const result = await preflightLabCluster(config(), { env: { PATH: bin }, openRunner: async () => runner });
    expect(result.cluster).toEqual({ context: 'kind-meshproof', version: '1.36.4' });
  });
});

describe('preflight for an existing cluster', () => {
  const writeKubeconfig = () => writeLabKubeconfig(tempDir());

  const existing = (kubeconfig: string, extra: NodeJS.ProcessEnv = {}) =>
    loadConfig({ MESHPROOF_TARGET: 'existing', MESHPROOF_KUBECONFIG: kubeconfig, MESHPROOF_TIMEOUT_PREFLIGHT: '2s', ...extra }, tempDir());

  /** The run's runner, with a kubectl that prints `script`'s output and keeps the arguments it was given. */
  function kubectlRunner(config: MeshproofConfig, script: string): PreflightOptions & { argv: () => string } {
    const bin = tempDir();
    writeScript(bin, 'kubectl', `echo "$@" > "${bin}/argv"\n${script}`);
    const runner = new ToolRunner({ kind: '/bin/false', helm: '/bin/false', kubectl: path.join(bin, 'kubectl'), istioctl: '/bin/false' }, clusterAccess(config));
    return { openRunner: async () => runner, argv: () => readFileSync(path.join(bin, 'argv'), 'utf8').trim() };
  }
  const versions = (server: string) => `echo '{"clientVersion":{"gitVersion":"v1.35.8"},"serverVersion":{"gitVersion":"${server}"}}'`;

  it("reads the server version of the selected context through the run's kubectl", async () => {
    const kubeconfig = writeKubeconfig();
    const config = existing(kubeconfig, { MESHPROOF_CONTEXT: 'lab' });
    const kubectl = kubectlRunner(config, versions('v1.35.2-gke.1200'));
    const result = await runPreflight(config, kubectl);
    expect(result.cluster).toEqual({ context: 'lab', server: 'https://127.0.0.1:6443', version: '1.35.2' });
    expect(kubectl.argv()).toBe(`--kubeconfig ${kubeconfig} --context lab version -o json`);
  });

  it('says which context does not answer, what kubectl said, and how to check it', async () => {
    const config = existing(writeKubeconfig());
    const refused = "echo '{\"clientVersion\":{\"gitVersion\":\"v1.35.8\"}}'\necho 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?' >&2\nexit 1";
    const error = await preflightError(config, kubectlRunner(config, refused));
    expect(error.message).toBe(
      'the cluster of context "lab" (https://127.0.0.1:6443) does not answer: `kubectl version -o json` failed (exit code 1):\n' +
        'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?.',
    );
    expect(error.fix).toContain('kubectl --context lab get nodes');
  });

  it('lists the known contexts when the named one is missing, before opening the cluster tools', async () => {
    const error = await preflightError(existing(writeKubeconfig(), { MESHPROOF_CONTEXT: 'prod' }), { openRunner: noRunner });
    expect(error.message).toBe('the kubeconfig has no context named "prod".');
    expect(error.fix).toContain('Known contexts: lab');
  });

  it('refuses a cluster whose Kubernetes version the chosen Istio does not support', async () => {
    const config = existing(writeKubeconfig());
    const error = await preflightError(config, kubectlRunner(config, versions('v1.28.9')));
    expect(error.message).toContain('runs Kubernetes 1.28.9, which Istio 1.31.1 does not support');
  });
});
