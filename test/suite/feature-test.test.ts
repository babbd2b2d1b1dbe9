import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../helpers/config/config.ts';
import { fromRoot } from '../../helpers/config/data-file.ts';
import type { MeshproofRun } from '../../helpers/suite/run.ts';
import { failureBundleCommands, istioctlBundleCommands } from '../../helpers/report/failure-bundle.ts';
import { judgeRecording } from '../../helpers/judge/rejudge.ts';
import { readRecording } from '../../helpers/record/recording.ts';
import { analysisSamples, analyzeJson } from '../support/istioctl-outputs.ts';
import { startIngressStandIn } from '../support/report-fixture.ts';
import { writeScript } from '../support/temp.ts';

/**
 * featureTest, the mechanics every suite relies on, run for real: a nested vitest run of a tiny suite, with a
 * kubectl stand-in that logs each call and a gateway stand-in that answers every config-live probe with 418.
 */
const tempRoots: string[] = [];
let gateway: Awaited<ReturnType<typeof startIngressStandIn>>;
let gatewayUrl: string;

beforeAll(async () => {
  gateway = await startIngressStandIn();
  gatewayUrl = gateway.url;
});
afterAll(async () => {
  await gateway.close();
  for (const root of tempRoots) rmSync(root, { recursive: true, force: true });
});

/**
 * The kubectl stand-in: logs every call with its stdin; `exec … pilot-agent request GET config_dump…` prints a
 * route dump holding the last applied probe route (a proxy that has the apply), unless LAGGING is set; an
 * apply fails when FAIL_APPLY is set, after logging it (a half-applied change).
 */
function kubectlStandIn(dir: string, log: string, behaviour: Record<string, string>): string {
  return writeScript(
    dir,
    'kubectl',
    [
      ...Object.entries(behaviour).map(([name, value]) => `${name}='${value}'`),
      `case "$*" in`,
      `  *pilot-agent*)`,
      `    echo "ARGS $*" >> '${log}'`,
      `    route=$(grep -o 'meshproof-live-probe-[0-9a-f]*' '${log}' | tail -n 1)`,
      `    [ -n "$LAGGING" ] && route=default`,
      `    printf '{"configs":[{"route_config":{"name":"9080","virtual_hosts":[{"name":"reviews.bookinfo.svc.cluster.local:9080","routes":[{"name":"%s"}]}]}}]}' "$route"`,
      `    exit 0;;`,
      `esac`,
      `{ echo "ARGS $*"; cat; echo; } >> '${log}'`,
      `case "$*" in *apply*) [ -n "$FAIL_APPLY" ] && { echo 'error: the server rejected object 2 of 2' >&2; exit 1; };; esac`,
      'exit 0',
    ].join('\n'),
  );
}

/**
 * The istioctl stand-in: logs each call to the same log ("ISTIOCTL …"); `analyze` prints `analysis` (by default
 * nothing found, `[]`, as istioctl prints it), anything else a line saying what was asked (the failure bundle's commands).
 */
function istioctlStandIn(dir: string, log: string, analysis = '[]'): string {
  return writeScript(
    dir,
    'istioctl',
    [`echo "ISTIOCTL $*" >> '${log}'`, `case "$*" in`, `  *' analyze '*) echo '${analysis}';;`, `  *) echo "(stand-in istioctl: $*)";;`, `esac`].join('\n'),
  );
}

/** One nested suite: its body, its declaration, its settings, and how its kubectl stand-in misbehaves. */
interface NestedCase {
  body: string;
  declaration?: string;
  /** Settings of this case's run (loadConfig's environment), e.g. a short config-live deadline. */
  settings?: Record<string, string>;
  /** FAIL_APPLY or LAGGING for its kubectl stand-in. */
  kubectl?: Record<string, string>;
  /** What its istioctl stand-in prints for `analyze` (one line of JSON, no single quote). */
  analysis?: string;
}

interface NestedOutcome {
  /** Whether the nested file passed, as vitest's exit code would say for it alone. */
  exitCode: 0 | 1;
  /** Every error and failure message of the file, and the status of each of its tests. */
  all: string;
  calls: string;
  reportsDir: string;
}

/**
 * Runs every case as its own vitest project of ONE nested vitest run: each project has its own provided run
 * (configuration, kubectl stand-in and its log), so the cases stay apart while vitest starts once, not once a
 * case. The JSON reporter says, per file, what the default reporter would print for that file run alone.
 */
async function runSuites(cases: Record<string, NestedCase>): Promise<Record<string, NestedOutcome>> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'meshproof-feature-test-'));
  tempRoots.push(root);
  const projects = Object.entries(cases).map(([name, c]) => {
    const dir = path.join(root, name);
    mkdirSync(dir);
    const log = path.join(dir, 'kubectl.log');
    const kubectl = kubectlStandIn(dir, log, c.kubectl ?? {});
    const istioctl = istioctlStandIn(dir, log, c.analysis);
    const config = loadConfig({ MESHPROOF_TIMEOUT_CONFIG_LIVE: '5s', MESHPROOF_TIMEOUT_CONFIG_LIVE_POLL: '20ms', ...c.settings, MESHPROOF_REPORTS_DIR: path.join(dir, 'reports') }, dir);
    const run: MeshproofRun = {
      runId: 'nested-run',
      config,
      access: { kubeconfig: undefined, context: 'kind-meshproof' },
      mesh: { ingressUrl: gatewayUrl, addons: { prometheus: gatewayUrl, grafana: gatewayUrl, jaeger: gatewayUrl, kiali: gatewayUrl }, kubernetesVersion: '1.36.4', istioVersion: '1.30.3' },
      tools: { kind: '/bin/false', helm: '/bin/false', kubectl, istioctl },
    };
    const suite = path.join(dir, `${name}.test.ts`);
    writeFileSync(
      suite,
      [
        `import { featureTest, mustPass } from '${fromRoot('helpers', 'suite', 'feature-test.ts')}';`,
        `import { recordingOf } from '${fromRoot('helpers', 'suite', 'step-env.ts')}';`,
        `const canary = featureTest(${c.declaration ?? "{ feature: 'traffic-shifting' }"});`,
        c.body,
      ].join('\n'),
    );
    return { name, suite, log, reportsDir: config.reportsDir, project: { test: { name, include: [suite], provide: { meshproof: run }, testTimeout: 30000 } } };
  });
  const results = path.join(root, 'results.json');
  writeFileSync(path.join(root, 'vitest.config.ts'), `export default { test: { projects: ${JSON.stringify(projects.map((p) => p.project))} } };\n`);
  await execa(fromRoot('node_modules', '.bin', 'vitest'), ['run', '--config', path.join(root, 'vitest.config.ts'), '--root', root, '--reporter=json', `--outputFile=${results}`], {
    cwd: fromRoot(),
    reject: false,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  const report = JSON.parse(readFileSync(results, 'utf8')) as {
    testResults: { name: string; status: string; message?: string; assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
  };
  const outcomes: Record<string, NestedOutcome> = {};
  for (const { name, suite, log, reportsDir } of projects) {
    const file = report.testResults.find((r) => r.name === suite);
    if (!file) throw new Error(`the nested run has no result for ${name}`);
    const tests = file.assertionResults;
    const all = [...(file.message ? [file.message] : []), ...tests.flatMap((t) => [`${t.title}: ${t.status}`, ...t.failureMessages])].join('\n');
    outcomes[name] = { exitCode: file.status === 'passed' ? 0 : 1, all, calls: existsSync(log) ? readFileSync(log, 'utf8') : '', reportsDir };
  }
  return outcomes;
}

const commands = (calls: string) =>
  calls
    .split('\n')
    .filter((l) => l.startsWith('ARGS '))
    .map((l) => l.replace(/^ARGS (--context \S+ )?/, ''));
const istioctlCommands = (calls: string) =>
  calls
    .split('\n')
    .filter((l) => l.startsWith('ISTIOCTL '))
    .map((l) => l.replace(/^ISTIOCTL (--context \S+ )?/, ''));
const verbs = (calls: string) => commands(calls).map((c) => (c.includes('pilot-agent') ? `proxy ${/deploy\/(\S+)/.exec(c)![1]}` : c.split(' ')[0]!));

/** A recording the control returns, failed the way the mTLS control fails when the client never reached the mesh. */
const failedControl = `async (env) => ({ recordings: [recordingOf(env, 'traffic-shifting', 'control', 'the baseline serves plaintext', { judge: 'all-match', description: 'the baseline serves plaintext', matcher: { status: 200 } }, [{ startedAt: 0, latencyMs: 2, status: 0, curlExitCode: 6 }], [])] })`;

describe('featureTest', () => {
  let outcomes: Record<string, NestedOutcome>;
  beforeAll(async () => {
    outcomes = await runSuites({
      restores: { body: `canary('a test', async ({ run }) => { if (!run) throw new Error('no run'); });` },
      failedApply: { body: `canary('a test', async () => {});`, kubectl: { FAIL_APPLY: '1' } },
      lagging: { body: `canary('a test', async () => { throw new Error('must not run'); });`, kubectl: { LAGGING: '1' }, settings: { MESHPROOF_TIMEOUT_CONFIG_LIVE: '400ms' } },
      failedControl: { body: `canary('a test', async () => {});`, declaration: `{ feature: 'traffic-shifting', controls: { after: ${failedControl} } }` },
      // Istio's analysis finds an Error: its verdict fails the test as any verdict does, before the body runs.
      failedVerdict: { body: `canary('a test', async () => { throw new Error('must not run'); });`, analysis: JSON.stringify(JSON.parse(analyzeJson([analysisSamples.subsetNotFound]))) },
      // A verdict of the body fails it, with its sentence alone.
      failing: { body: `canary('a failing test', async ({ run, env }) => { await mustPass(run, await (${failedControl})(env)); });` },
      skipped: { body: `canary('a test', async () => {});`, settings: { MESHPROOF_SKIP: 'traffic-shifting=not today' } },
    });
  }, 60_000);

  it('applies the feature with its probe route, proves it live and restores the baseline, for a test that never names `applied`', () => {
    const { calls, exitCode, all } = outcomes.restores!;
    expect(exitCode, all).toBe(0);
    expect(commands(calls)[0]).toBe('apply --server-side --field-manager=meshproof --force-conflicts -f -');
    // Both callers of reviews are asked for their routes before any traffic: productpage and the mesh client.
    expect(verbs(calls)).toEqual(['apply', 'proxy productpage-v1', 'proxy mesh-client', 'delete', 'apply']);
    // Istio's analyzers read the namespace once the feature is proven live, and find nothing: a passed verdict, kept.
    expect(istioctlCommands(calls)).toEqual(['analyze -n bookinfo -o json']);
    const [kept] = readdirSync(path.join(outcomes.restores!.reportsDir, 'recordings'));
    expect(readRecording(path.join(outcomes.restores!.reportsDir, 'recordings', kept!))).toMatchObject({ check: 'traffic-shifting/istio-analysis', analysis: [], verdict: { pass: true } });
    expect(commands(calls)[1]).toBe('exec -n bookinfo deploy/productpage-v1 -c istio-proxy -- pilot-agent request GET config_dump?resource=dynamic_route_configs');
    expect(calls).toMatch(/name: meshproof-live-probe-[0-9a-f]{8}/);
    expect(calls).toContain('weight: 80');
  });

  it('restores the baseline when the apply itself fails part-way, and fails with the apply error', () => {
    const { calls, exitCode, all } = outcomes.failedApply!;
    expect(exitCode).toBe(1);
    expect(all).toContain('the server rejected object 2 of 2');
    expect(verbs(calls).filter((v) => v !== 'get' && v !== 'logs')).toEqual(['apply', 'delete', 'apply']);
  });

  it('names the proxy that never gets the new configuration, and sends no traffic', () => {
    const { calls, exitCode, all } = outcomes.lagging!;
    expect(exitCode).toBe(1);
    expect(all).toMatch(/did not reach every proxy within 400 ms: 2 lag \(bookinfo\/productpage-v1 wants route meshproof-live-probe-[0-9a-f]{8} for reviews\.bookinfo\.svc\.cluster\.local; it has routes for reviews\.bookinfo\.svc\.cluster\.local: default/);
    expect(all).not.toContain('must not run');
    expect(verbs(calls).at(-1)).toBe('apply'); // restored all the same
  });

  it('runs the control after the restore, and fails the test with its sentence', () => {
    const { calls, exitCode, all } = outcomes.failedControl!;
    expect(exitCode).toBe(1);
    expect(all).toContain('the baseline serves plaintext (status 200): 0 of 1 requests; 1 exception: #1 the name did not resolve (curl exit code 6)');
    expect(all).not.toMatch(/expected false to be true|AssertionError/);
    expect(verbs(calls).slice(-2)).toEqual(['delete', 'apply']);
  });

  it("fails on Istio's analysis like on any verdict, before the body runs: its sentence alone, its recording kept", () => {
    const { exitCode, all, calls, reportsDir } = outcomes.failedVerdict!;
    expect(exitCode).toBe(1);
    const sentence = 'istioctl analyze found 1 error, 0 warnings in namespace bookinfo; no error expected: IST0101 on VirtualService bookinfo/reviews';
    expect(all).toContain(`VerdictFailure: ${sentence}`);
    expect(all).not.toMatch(/expected false to be true|AssertionError|toBe\(|must not run/);
    // Kept where every recording of the run is (mustPass → keepRecording), judged again the same from it alone.
    const kept = readdirSync(path.join(reportsDir, 'recordings')).map((f) => readRecording(path.join(reportsDir, 'recordings', f)));
    expect(kept.map((r) => [r.check, r.runId, r.analysis?.map((m) => m.code)])).toEqual([['traffic-shifting/istio-analysis', 'nested-run', ['IST0101']]]);
    expect(judgeRecording(kept[0]!)).toEqual(kept[0]!.verdict);
    expect(verbs(calls).slice(-2)).toEqual(['delete', 'apply']); // restored all the same
  });

  it('collects a failure bundle, then restores the baseline, when a verdict of the test fails, with its sentence alone', () => {
    const { calls, reportsDir, exitCode, all } = outcomes.failing!;
    expect(exitCode).toBe(1);
    expect(all).toContain('VerdictFailure: the baseline serves plaintext (status 200): 0 of 1 requests');
    expect(all).not.toMatch(/expected false to be true|AssertionError|toBe\(/);
    const issued = commands(calls).filter((c) => !c.includes('pilot-agent'));
    expect(issued[0]).toMatch(/^apply /);
    expect(issued.slice(1, -2)).toEqual(failureBundleCommands.map(({ args }) => args.join(' ')));
    expect(issued.slice(-2).map((c) => c.split(' ')[0])).toEqual(['delete', 'apply']);
    const [bundle] = readdirSync(path.join(reportsDir, 'failures'));
    expect(bundle).toMatch(/^traffic-shifting-/);
    // istiod's sync of every proxy, and the routes and clusters of both callers of reviews, the proxies that route it.
    const proxies = [
      { namespace: 'bookinfo', workload: 'productpage-v1' },
      { namespace: 'meshproof', workload: 'mesh-client' },
    ];
    expect(istioctlCommands(calls)).toEqual(['analyze -n bookinfo -o json', ...istioctlBundleCommands(proxies).map(({ args }) => args.join(' '))]);
    expect(istioctlCommands(calls)).toContain('proxy-config routes deployment/productpage-v1.bookinfo -o json');
    const files = [...failureBundleCommands, ...istioctlBundleCommands(proxies)].map(({ name }) => `${name}.txt`);
    expect(readdirSync(path.join(reportsDir, 'failures', bundle!))).toEqual(files.sort());
  });

  it('skips a feature MESHPROOF_SKIP names, touching nothing', () => {
    const { calls, exitCode, all } = outcomes.skipped!;
    expect(exitCode, all).toBe(0);
    expect(all).toBe('a test: skipped');
    expect(commands(calls)).toEqual([]);
  });
});
