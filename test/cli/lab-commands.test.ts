import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { cacheTool, standInCalls, writeEngine, writeKubeconfig } from '../support/lab-stand-ins.ts';
import { useTempDirs } from '../support/temp.ts';

/**
 * The lab's commands as a person types them, where no cluster can be had: a wrong argument is refused with exit
 * code 2 and a missing cluster is said the way preflight says it — both within seconds, before kind, helm or
 * kubectl would be downloaded and before a cluster is asked anything.
 */
const tempDir = useTempDirs('meshproof-lab-cli-');

interface Lab {
  bin: string;
  toolsDir: string;
  run(args: string[], env?: Record<string, string>): ReturnType<typeof execa>;
}

function lab(): Lab {
  const bin = tempDir();
  const toolsDir = path.join(tempDir(), 'tools');
  const home = tempDir();
  const cwd = tempDir();
  return {
    bin,
    toolsDir,
    run: (args, env = {}) =>
      execa(process.execPath, [fromRoot('bin', 'meshproof.js'), ...args], {
        cwd,
        env: { PATH: `${bin}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}/usr/bin:/bin`, HOME: home, MESHPROOF_TOOLS_DIR: toolsDir, ...env },
        extendEnv: false,
        reject: false,
        timeout: 60_000,
      }),
  };
}

const nothingDownloaded = (toolsDir: string) => !existsSync(toolsDir) || readdirSync(toolsDir).length === 0;
const stackTrace = /^\s+at .+:\d+:\d+\)?$/m;

describe('arguments are checked before anything else, with exit code 2', () => {
  it.each([
    [['cleanup', '--app-only', '--delete-cluster'], "error: option '--app-only' cannot be used with option '--delete-cluster'"],
    [['cleanup', '--app-only', '--addons-only'], "error: option '--app-only' cannot be used with option '--addons-only'"],
    [['cleanup', '--addons-only', '--delete-cluster'], "error: option '--addons-only' cannot be used with option '--delete-cluster'"],
    [['cleanup', '--everything'], "error: unknown option '--everything'"],
    [['monitor', 'everything'], 'meshproof: monitor has no mode "everything".'],
    [['apply-feature', 'chaos'], 'meshproof: there is no feature demo named "chaos".'],
    [['cleanup', '--delete-cluster'], 'meshproof: --delete-cluster deletes a kind cluster, but MESHPROOF_TARGET is existing.', { MESHPROOF_TARGET: 'existing' }],
  ] as [string[], string, Record<string, string>?][])('meshproof %j', async (args, said, env) => {
    const { run, bin, toolsDir } = lab();
    writeEngine(bin);
    const result = await run(args, env);
    expect(result.exitCode, String(result.stderr)).toBe(2);
    expect(result.stderr).toContain(said);
    expect(result.stderr).not.toMatch(stackTrace);
    expect(standInCalls(bin, 'docker')).toEqual([]);
    expect(nothingDownloaded(toolsDir)).toBe(true);
  });

  it('lists every demo and feature name apply-feature knows', async () => {
    const { run } = lab();
    const result = await run(['apply-feature', 'chaos']);
    expect(result.stderr).toMatch(/Known: traffic-shifting, fault-injection, circuit-breaker, request-routing, timeout-retry, mirror-traffic, mtls-strict, .*fault-delay/);
  });
});

describe('a lab whose cluster is missing', () => {
  it.each([[['reset']], [['monitor', 'summary']], [['monitor', 'test']], [['apply-feature', 'fault-injection']], [['cleanup']], [['cleanup', '--addons-only']]])(
    'meshproof %j says there is no kind cluster and how to build one, asking only the engine',
    async (args) => {
      const { run, bin, toolsDir } = lab();
      writeEngine(bin);
      const started = Date.now();
      const result = await run(args);
      expect(result.exitCode, String(result.stderr)).toBe(1);
      expect(result.stderr).toContain('meshproof: there is no kind cluster named meshproof (Docker has no container labelled io.x-k8s.kind.cluster=meshproof).');
      expect(result.stderr).toContain('Build the lab first: npx meshproof deploy');
      expect(result.stderr).not.toMatch(stackTrace);
      expect(standInCalls(bin, 'docker')).toEqual(['info --format {{json .}}', 'ps -a --filter label=io.x-k8s.kind.cluster=meshproof --format {{.Names}}\t{{.State}}\t{{.Ports}}']);
      expect(nothingDownloaded(toolsDir)).toBe(true);
      expect(Date.now() - started).toBeLessThan(20_000);
    },
  );

  it('cleanup --delete-cluster has nothing to delete, and says so', async () => {
    const { run, bin, toolsDir } = lab();
    writeEngine(bin);
    const result = await run(['cleanup', '--delete-cluster']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('there is no kind cluster named meshproof: nothing to delete.');
    expect(nothingDownloaded(toolsDir)).toBe(true);
  });

  it('on an existing context that does not answer: one question, its answer and the advice — not a port-forward retried until a deadline', async () => {
    const { run, toolsDir } = lab();
    const kubeconfig = writeKubeconfig(tempDir());
    cacheTool(toolsDir, 'kubectl', `echo 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?' >&2\nexit 1`);
    cacheTool(toolsDir, 'helm', 'exit 1');
    const started = Date.now();
    const result = await run(['monitor', 'test'], { MESHPROOF_TARGET: 'existing', MESHPROOF_KUBECONFIG: kubeconfig });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('meshproof: the cluster of context "lab" (https://127.0.0.1:6443) does not answer: `kubectl version -o json` failed (exit code 1):');
    expect(result.stderr).toContain('Check it with: kubectl --context lab get nodes');
    const asked = standInCalls(toolsDir, 'kubectl');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/ version -o json$/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
