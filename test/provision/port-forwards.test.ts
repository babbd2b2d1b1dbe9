import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MeshproofError } from '../../helpers/errors.ts';
import { httpRequest } from '../../helpers/net/http.ts';
import { HostForwards, type HostForwardsOptions } from '../../helpers/provision/provision.ts';
import { LocalPortTakenError, ToolRunner } from '../../helpers/provision/runner.ts';
import { freePort, holdPort, standInCalls, writePortForwardKubectl } from '../support/lab-stand-ins.ts';
import { useTempDirs, writeScript } from '../support/temp.ts';

/**
 * The production runner's port-forwards, with a kubectl that really listens (test/support/lab-stand-ins.ts):
 * real sockets, real ports, real processes.
 */
const tempDir = useTempDirs('meshproof-forwards-');
const access = { kubeconfig: undefined, context: 'kind-meshproof' };

function runnerWith(kubectl: string, env: NodeJS.ProcessEnv = process.env): ToolRunner {
  return new ToolRunner({ kind: '/bin/false', helm: '/bin/false', kubectl, istioctl: '/bin/false' }, access, env);
}

describe('kubectl port-forward through the production runner', () => {
  it('listens on the local port asked for, and carries requests', async () => {
    const runner = runnerWith(writePortForwardKubectl(tempDir()));
    const port = await freePort();
    const forward = await runner.portForward('istio-system', 'svc/kiali', 20001, 5_000, port);
    try {
      expect(forward.url).toBe(`http://127.0.0.1:${port}`);
      expect((await httpRequest(`${forward.url}/kiali`, { timeoutMs: 2_000 })).body).toBe('svc/kiali:20001');
    } finally {
      await forward.close();
    }
  });

  it('refuses a local port that is taken, in kubectl\'s words, so the caller can take another', async () => {
    const runner = runnerWith(writePortForwardKubectl(tempDir()));
    const held = await holdPort();
    try {
      const error = await runner.portForward('istio-system', 'svc/grafana', 3000, 5_000, held.port).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LocalPortTakenError);
      expect((error as LocalPortTakenError).port).toBe(held.port);
      expect((error as Error).message).toContain('unable to listen on any of the requested ports');
    } finally {
      await held.release();
    }
  });

  it('says at once why kubectl exited, instead of waiting out its deadline', async () => {
    const bin = tempDir();
    const runner = runnerWith(writePortForwardKubectl(bin), { ...process.env, STAND_IN_MISSING: 'svc/kiali' });
    const started = Date.now();
    const error = await runner.portForward('istio-system', 'svc/kiali', 20001, 30_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshproofError);
    expect((error as Error).message).toBe('kubectl port-forward to istio-system/svc/kiali:20001 exited: Error from server (NotFound): services "kiali" not found');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(standInCalls(bin, 'kubectl')).toHaveLength(1);
  });

  it('gives up on a kubectl that never starts forwarding, with what it printed', async () => {
    const bin = tempDir();
    const kubectl = writeScript(bin, 'kubectl', `echo 'E1102 10:00:00 portforward.go: waiting for the API server'\nexec sleep 30`);
    const error = await runnerWith(kubectl).portForward('istio-system', 'svc/kiali', 20001, 500).catch((e: unknown) => e);
    expect((error as Error).message).toBe('kubectl port-forward to istio-system/svc/kiali:20001 did not start forwarding within 500 ms; it printed: E1102 10:00:00 portforward.go: waiting for the API server');
  });
});

describe("the lab's port-forwards: the lab's ports when free, another when not, each URL said", () => {
  async function preferred(): Promise<HostForwardsOptions['preferredPorts']> {
    return { ingress: await freePort(), prometheus: await freePort(), grafana: await freePort(), jaeger: await freePort(), kiali: await freePort() };
  }

  it('takes every preferred port that is free, and prints where each UI is', async () => {
    const ports = await preferred();
    const said: string[] = [];
    const forwards = new HostForwards(runnerWith(writePortForwardKubectl(tempDir())), { timeoutMs: 5_000, preferredPorts: ports, log: (line) => said.push(line) });
    try {
      const urls = await forwards.addons();
      expect(urls).toEqual({
        prometheus: `http://127.0.0.1:${ports.prometheus}`,
        grafana: `http://127.0.0.1:${ports.grafana}`,
        jaeger: `http://127.0.0.1:${ports.jaeger}`,
        kiali: `http://127.0.0.1:${ports.kiali}`,
      });
      expect(said).toEqual([
        `Prometheus port-forward: http://127.0.0.1:${ports.prometheus}`,
        `Grafana port-forward: http://127.0.0.1:${ports.grafana}`,
        `Jaeger port-forward: http://127.0.0.1:${ports.jaeger}/jaeger`,
        `Kiali port-forward: http://127.0.0.1:${ports.kiali}/kiali`,
      ]);
      expect(forwards.opened.map((f) => `${f.target} ${f.localPort}:${f.remotePort}`)).toContain(`svc/tracing ${ports.jaeger}:80`);
    } finally {
      await forwards.close();
    }
  });

  it('takes another free port when the preferred one is taken, and says by whom', async () => {
    const ports = await preferred();
    const held = await holdPort();
    ports.grafana = held.port;
    const said: string[] = [];
    const forwards = new HostForwards(runnerWith(writePortForwardKubectl(tempDir())), { timeoutMs: 5_000, preferredPorts: ports, log: (line) => said.push(line) });
    try {
      const urls = await forwards.addons();
      const grafanaPort = Number(new URL(urls.grafana).port);
      expect(grafanaPort).not.toBe(held.port);
      expect((await httpRequest(`${urls.grafana}/api/health`, { timeoutMs: 2_000 })).body).toBe('svc/grafana:3000');
      const line = said.find((l) => l.startsWith('Grafana'))!;
      expect(line).toMatch(new RegExp(`^Grafana port-forward: http://127\\.0\\.0\\.1:${grafanaPort} \\(${held.port}, the lab's port, is taken by `));
      if (process.platform === 'linux') expect(line).toContain(`${readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim()} (pid ${process.pid}))`);
      // The control: the ports that were free are the preferred ones.
      expect(urls.kiali).toBe(`http://127.0.0.1:${ports.kiali}`);
    } finally {
      await forwards.close();
      await held.release();
    }
  });

  it('takes another port when the preferred one is taken between the check and kubectl\'s bind', async () => {
    const ports = await preferred();
    const said: string[] = [];
    const runner = runnerWith(writePortForwardKubectl(tempDir()), { ...process.env, STAND_IN_TAKEN: String(ports.kiali) });
    const forwards = new HostForwards(runner, { timeoutMs: 5_000, preferredPorts: ports, log: (line) => said.push(line) });
    try {
      const urls = await forwards.addons();
      expect(urls.kiali).not.toBe(`http://127.0.0.1:${ports.kiali}`);
      expect((await httpRequest(`${urls.kiali}/kiali/api/status`, { timeoutMs: 2_000 })).body).toBe('svc/kiali:20001');
      expect(said.at(-1)).toBe(`Kiali port-forward: ${urls.kiali}/kiali (${ports.kiali}, the lab's port, was taken)`);
    } finally {
      await forwards.close();
    }
  });

  it('reports an addon that cannot be forwarded, and forwards the others (for monitor)', async () => {
    const forwards = new HostForwards(runnerWith(writePortForwardKubectl(tempDir()), { ...process.env, STAND_IN_MISSING: 'svc/kiali' }), {
      timeoutMs: 5_000,
      preferredPorts: await preferred(),
    });
    try {
      const urls = await forwards.addonsOrWhyNot();
      expect(urls.kiali).toBeInstanceOf(MeshproofError);
      expect((urls.kiali as Error).message).toContain('services "kiali" not found');
      expect(typeof urls.grafana).toBe('string');
    } finally {
      await forwards.close();
    }
  });
});
