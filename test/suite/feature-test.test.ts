import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../helpers/config/config.ts';
import { fromRoot } from '../../helpers/config/data-file.ts';
import type { MeshproofRun } from '../../helpers/suite/run.ts';
import { failureBundleCommands } from '../../helpers/report/failure-bundle.ts';
import { useTempDirs, writeScript } from '../support/temp.ts';

/**
 * featureTest, the mechanics every suite relies on, run for real: a nested vitest run of a tiny suite, with a
 * kubectl stand-in that logs each call and a gateway stand-in that answers every config-live probe with 418.
 */
const tempDir = useTempDirs('meshproof-feature-test-');
let gateway: http.Server;
let gatewayUrl: string;

beforeAll(async () => {
  gateway = http.createServer((req, res) => {
    res.statusCode = String(req.headers['user-agent']).startsWith('meshproof-probe/') ? 418 : 200;
    res.end('{}');
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => gateway.close(() => resolve())));

async function runSuite(body: string, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir();
  const log = path.join(dir, 'kubectl.log');
  const kubectl = writeScript(dir, 'kubectl', `{ echo "ARGS $*"; cat; echo; } >> '${log}'`);
  const config = loadConfig({ ...env, MESHPROOF_TIMEOUT_CONFIG_LIVE: '5s', MESHPROOF_TIMEOUT_CONFIG_LIVE_POLL: '20ms', MESHPROOF_REPORTS_DIR: path.join(dir, 'reports') }, dir);
  const run: MeshproofRun = {
    config,
    access: { kubeconfig: undefined, context: 'kind-meshproof' },
    mesh: { ingressUrl: gatewayUrl, addons: { prometheus: gatewayUrl, grafana: gatewayUrl, jaeger: gatewayUrl, kiali: gatewayUrl }, kubernetesVersion: '1.36.4', istioVersion: '1.30.3' },
    tools: { kind: '/bin/false', helm: '/bin/false', kubectl },
    setupPhases: [],
  };
  const suite = path.join(dir, 'canary.test.ts');
  writeFileSync(suite, `import { featureTest } from '${fromRoot('helpers', 'suite', 'feature-test.ts')}';\nconst canary = featureTest({ feature: 'traffic-shifting' });\n${body}\n`);
  writeFileSync(
    path.join(dir, 'vitest.config.ts'),
    `export default { test: { include: [${JSON.stringify(suite)}], provide: { meshproof: ${JSON.stringify(run)} }, testTimeout: 30000 } };\n`,
  );
  const result = await execa(fromRoot('node_modules', '.bin', 'vitest'), ['run', '--config', path.join(dir, 'vitest.config.ts'), '--root', dir], {
    cwd: fromRoot(),
    reject: false,
    all: true,
    env: { ...process.env, ...env },
  });
  let calls = '';
  try {
    calls = readFileSync(log, 'utf8');
  } catch {
    calls = '';
  }
  return { result, calls, reportsDir: config.reportsDir };
}

const commands = (calls: string) => calls.split('\n').filter((l) => l.startsWith('ARGS ')).map((l) => l.replace(/^ARGS (--context \S+ )?/, ''));

describe('featureTest', () => {
  it('applies the feature with its probe route, proves it live and restores the baseline, for a test that never names `applied`', async () => {
    const { result, calls } = await runSuite(`canary('a test', async ({ run }) => { if (!run) throw new Error('no run'); });`);
    expect(result.exitCode, result.all).toBe(0);
    expect(commands(calls)).toEqual([
      'apply --server-side --field-manager=meshproof --force-conflicts -f -',
      'delete --ignore-not-found --wait=true -f -',
      'apply --server-side --field-manager=meshproof --force-conflicts -f -',
    ]);
    expect(calls).toMatch(/name: meshproof-live-probe-[0-9a-f]{8}/);
    expect(calls).toContain('weight: 80');
  });

  it('collects a failure bundle, then restores the baseline, when the test fails', async () => {
    const { result, calls, reportsDir } = await runSuite(`canary('a failing test', async () => { throw new Error('the split differs'); });`);
    expect(result.exitCode).toBe(1);
    expect(result.all).toContain('the split differs');
    const issued = commands(calls);
    expect(issued[0]).toMatch(/^apply /);
    expect(issued.slice(1, -2)).toEqual(failureBundleCommands.map(({ args }) => args.join(' ')));
    expect(issued.slice(-2).map((c) => c.split(' ')[0])).toEqual(['delete', 'apply']);
    const [bundle] = readdirSync(path.join(reportsDir, 'failures'));
    expect(bundle).toMatch(/^traffic-shifting-/);
    expect(readdirSync(path.join(reportsDir, 'failures', bundle!))).toEqual(failureBundleCommands.map(({ name }) => `${name}.txt`).sort());
  });

  it('skips a feature MESHPROOF_SKIP names, touching nothing', async () => {
    const { result, calls } = await runSuite(`canary('a test', async () => {});`, { MESHPROOF_SKIP: 'traffic-shifting=not today' });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/1 skipped/);
    expect(commands(calls)).toEqual([]);
  });
});
