import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { describeObject } from '../../helpers/config/manifests.ts';
import { loadConfig } from '../../helpers/config/config.ts';
import { fixturesDirEnv, fromRoot } from '../../helpers/config/data-file.ts';
import { validateFeatureConfigs } from '../../helpers/apply/feature-config.ts';
import { MeshproofError } from '../../helpers/errors.ts';
import { buildStackPlan, validateStackPlan } from '../../helpers/provision/stack.ts';
import { featureFixtures, featureNames } from '../../helpers/config/features.ts';
import { analyzeFeatureFiles } from '../../helpers/cli/actions/analyze.ts';
import { useTempDirs } from '../support/temp.ts';
import { cacheTool, standInCalls } from '../support/lab-stand-ins.ts';
import { analysisSamples, analyzeJson } from '../support/istioctl-outputs.ts';

const tempDir = useTempDirs('meshproof-plan-');

function meshproof(args: string[], env: NodeJS.ProcessEnv = {}) {
  return execa(process.execPath, [fromRoot('bin', 'meshproof.js'), ...args], { cwd: tempDir(), env, reject: false, all: true });
}

/**
 * `meshproof plan --analyze` on the shipped fixtures, with an istioctl that finds nothing in the tools cache, run
 * once: three tests read its output. Its folder is its own, as the test's temp folders go after each test.
 */
let shippedPlan: ReturnType<typeof meshproof> | undefined;
function planOfShippedFixtures() {
  if (!shippedPlan) {
    const toolsDir = mkdtempSync(path.join(os.tmpdir(), 'meshproof-plan-tools-'));
    cacheAnalyzingIstioctl(toolsDir);
    shippedPlan = meshproof(['plan', '--analyze'], { MESHPROOF_TOOLS_DIR: toolsDir });
    void shippedPlan.finally(() => rmSync(toolsDir, { recursive: true, force: true }));
  }
  return shippedPlan;
}

describe('the stack plan', () => {
  it.each([
    ['1.31', 'kind'],
    ['1.30', 'kind'],
    ['1.30', 'existing'],
  ])('builds and validates every fixture for Istio %s on %s', (istio, target) => {
    const config = loadConfig({ MESHPROOF_ISTIO_VERSION: istio, MESHPROOF_TARGET: target }, tempDir());
    const plan = buildStackPlan(config);
    const kinds = plan.map((p) => p.step.kind);
    expect(kinds[0]).toBe(target === 'kind' ? 'kind-cluster' : 'helm-release');
    const objects = plan.flatMap((p) => (p.step.kind === 'apply' ? p.step.objects.map((o) => describeObject(o.object)) : []));
    for (const expected of [
      'Telemetry istio-system/mesh-default',
      'Namespace bookinfo',
      'Deployment bookinfo/reviews-v3',
      'Gateway bookinfo/bookinfo-gateway',
      'VirtualService bookinfo/bookinfo',
      'DestinationRule bookinfo/reviews',
      'Deployment meshproof/mesh-client',
      'Deployment meshproof-legacy/legacy-client',
      'CronJob traffic-gen/traffic-generator',
    ]) {
      expect(objects).toContain(expected);
    }
  });
});

describe('meshproof plan', () => {
  it('prints every component in install order and exits 0, without a cluster; with --analyze, Istio\u2019s verdict on each feature', async () => {
    const run = await planOfShippedFixtures();
    expect(run.exitCode, run.all).toBe(0);
    const out = run.stdout;
    const order = [
      'meshproof plan: Istio 1.31.1 on a kind cluster "meshproof" (Kubernetes 1.36.4)',
      'kind create cluster --name meshproof --config -',
      'kindest/node:v1.36.4@sha256:',
      'helm upgrade --install istio-base base',
      'helm upgrade --install istiod istiod',
      'accessLogFile: /dev/stdout',
      'holdApplicationUntilProxyStarts: true',
      'helm upgrade --install istio-ingressgateway gateway',
      'randomSamplingPercentage: 100',
      'helm upgrade --install prometheus prometheus',
      'helm upgrade --install grafana grafana',
      'Deployment istio-system/jaeger',
      'helm upgrade --install kiali kiali-server',
      'image: registry.istio.io/release/examples-bookinfo-reviews-v2:1.20.3',
      'Deployment bookinfo/productpage-v1',
      'Deployment meshproof/mesh-client',
      'CronJob traffic-gen/traffic-generator',
      'pause the traffic generator',
      'every reviews version (v1, v2, v3) answers',
      'Suites, one at a time:',
      'suites/00-mesh-ready.test.ts',
      "istioctl 1.31.1 analyze --use-kube=false, each feature's files on the lab's workloads and baseline routing:",
      '✓ traffic-shifting: istioctl analyze found no error in fixtures/features/01-traffic-shifting.yaml (0 errors, 0 warnings)',
      '✓ mtls-strict: istioctl analyze found no error in fixtures/features/07-mtls-strict.yaml (0 errors, 0 warnings)',
    ];
    let at = -1;
    for (const text of order) {
      const found = out.indexOf(text, at + 1);
      expect(found, `"${text}" after position ${at}`).toBeGreaterThan(at);
      at = found;
    }
  });

  it('fails on an invalid fixture, naming the file, the object and the field', async () => {
    const fixtures = path.join(tempDir(), 'fixtures');
    cpSync(fromRoot('fixtures'), fixtures, { recursive: true });
    const telemetry = path.join(fixtures, 'istio', 'telemetry.yaml');
    writeFileSync(telemetry, readFileSync(telemetry, 'utf8').replace('randomSamplingPercentage: 100', 'randomSamplingPercentage: "100"'));
    const bookinfo = path.join(fixtures, 'bookinfo', 'bookinfo.yaml');
    writeFileSync(bookinfo, readFileSync(bookinfo, 'utf8').replace('replicas: 1', 'replicas: one'));
    const run = await meshproof(['plan'], { MESHPROOF_FIXTURES_DIR: fixtures });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('meshproof: fixtures/istio/telemetry.yaml: Telemetry istio-system/mesh-default: spec.tracing.0.randomSamplingPercentage: must be number');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('names the Deployment and field of a wrong type', async () => {
    const fixtures = path.join(tempDir(), 'fixtures');
    cpSync(fromRoot('fixtures'), fixtures, { recursive: true });
    const bookinfo = path.join(fixtures, 'bookinfo', 'bookinfo.yaml');
    writeFileSync(bookinfo, readFileSync(bookinfo, 'utf8').replace('replicas: 1', 'replicas: one'));
    expect(await planRefusal(fixtures)).toContain('fixtures/bookinfo/bookinfo.yaml: Deployment bookinfo/details-v1: spec.replicas: must be integer');
  });
});

/**
 * What `meshproof plan` refuses a fixtures copy with, asked in-process: the same plan building and feature
 * validation the command runs (helpers/cli/actions/offline.ts), with MESHPROOF_FIXTURES_DIR set only meanwhile.
 * The command's own way of saying it (exit code 2, "meshproof: " and no stack) is proven by the two spawned cases.
 */
async function planRefusal(fixtures: string): Promise<string> {
  const before = process.env[fixturesDirEnv];
  process.env[fixturesDirEnv] = fixtures;
  try {
    await validateStackPlan(buildStackPlan(loadConfig({ [fixturesDirEnv]: fixtures }, tempDir())));
    await validateFeatureConfigs();
  } catch (error) {
    if (!(error instanceof MeshproofError)) throw error;
    expect(error.exitCode).toBe(2);
    return error.message;
  } finally {
    if (before === undefined) delete process.env[fixturesDirEnv];
    else process.env[fixturesDirEnv] = before;
  }
  throw new Error(`plan accepted ${fixtures}`);
}

describe('meshproof plan on the feature files', () => {
  function brokenCopy(file: string, edit: (text: string) => string): string {
    const fixtures = path.join(tempDir(), 'fixtures');
    cpSync(fromRoot('fixtures'), fixtures, { recursive: true });
    const target = path.join(fixtures, file);
    writeFileSync(target, edit(readFileSync(target, 'utf8')));
    return fixtures;
  }

  it('lists every feature configuration it validated', async () => {
    const run = await planOfShippedFixtures();
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout).toContain('Feature configurations');
    expect(run.stdout).toMatch(/- fault-delay: VirtualService bookinfo\/reviews \(fixtures\/features\/04-request-routing\.yaml\), VirtualService bookinfo\/ratings/);
  });

  it('refuses a delay written without a unit, naming the file, the object and the field', async () => {
    const fixtures = brokenCopy('features/02-fault-injection.yaml', (text) => text.replace('fixedDelay: 7s', 'fixedDelay: 7'));
    expect(await planRefusal(fixtures)).toMatch(/^fixtures\/features\/02-fault-injection\.yaml: VirtualService bookinfo\/ratings: spec\.http\.1\.fault\.delay\.fixedDelay: must be string/);
  });

  it("validates the rate limit's EnvoyFilter against Istio's v1alpha3 schema, naming the field it refuses", async () => {
    const listed = await planOfShippedFixtures();
    expect(listed.stdout).toContain('- rate-limiting: EnvoyFilter bookinfo/productpage-local-ratelimit (fixtures/features/08-rate-limiting.yaml)');
    const fixtures = brokenCopy('features/08-rate-limiting.yaml', (text) => text.replace('applyTo: HTTP_FILTER', 'applyTo: HTTP_FILTERS'));
    expect(await planRefusal(fixtures)).toContain('fixtures/features/08-rate-limiting.yaml: EnvoyFilter bookinfo/productpage-local-ratelimit: spec.configPatches.0.applyTo: must be equal to one of the allowed values');
  });

  it('refuses a feature file that is not YAML', async () => {
    const fixtures = brokenCopy('features/07-mtls-strict.yaml', (text) => text.replace('mode: STRICT', 'mode: [STRICT'));
    expect(await planRefusal(fixtures)).toContain('fixtures/features/07-mtls-strict.yaml: not valid YAML');
  });

  it('names a missing feature file instead of printing a stack', async () => {
    const fixtures = brokenCopy('features/06-mirror-traffic.yaml', (text) => text);
    rmSync(path.join(fixtures, 'features', '06-mirror-traffic.yaml'));
    const run = await meshproof(['plan'], { MESHPROOF_FIXTURES_DIR: fixtures });
    expect(run.exitCode, run.all).toBe(2);
    expect(run.stderr).toContain('meshproof: fixtures/features/06-mirror-traffic.yaml: no such file');
    expect(run.stderr).not.toMatch(/ENOENT|^\s+at /m);
  });
});

describe('mergeHelmValues', () => {
  it('merges maps key by key and replaces lists, as helm does with repeated --values', async () => {
    const { mergeHelmValues } = await import('../../helpers/provision/stack.ts');
    const merged = mergeHelmValues(
      { service: { type: 'NodePort', ports: [{ name: 'http2', nodePort: 30080 }] }, autoscaling: { enabled: false } },
      { service: { type: 'ClusterIP', ports: [{ name: 'http2' }] } },
    );
    expect(merged).toEqual({ service: { type: 'ClusterIP', ports: [{ name: 'http2' }] }, autoscaling: { enabled: false } });
  });
});

describe('istioctl analyze of the feature files (plan --analyze)', () => {
  it("runs the release's istioctl analyze --use-kube=false on each feature's files after the lab's context, failing the one with an Error", async () => {
    const toolsDir = tempDir();
    // Istio's analyzers find a missing subset in the fault-injection files (as they would had its VirtualService
    // named reviews v4), nothing elsewhere.
    const broken = path.join(toolsDir, 'broken.json');
    writeFileSync(broken, analyzeJson([analysisSamples.subsetNotFound, analysisSamples.unknownDestinationRuleHost]));
    cacheAnalyzingIstioctl(toolsDir, `  *02-fault-injection*) cat '${broken}';;`);
    const config = loadConfig({ MESHPROOF_TOOLS_DIR: toolsDir }, tempDir());
    const log: string[] = [];

    const verdicts = await analyzeFeatureFiles(config, (line) => log.push(line));

    expect(log).toEqual([`istioctl 1.31.1: using ${path.join(toolsDir, 'istioctl', '1.31.1', 'istioctl')} from the tools cache`]);
    expect(verdicts.map(({ feature }) => feature)).toEqual(featureNames.filter((feature) => featureFixtures[feature].length > 0));
    expect(verdicts.filter(({ verdict }) => !verdict.pass).map(({ feature }) => feature)).toEqual(['fault-delay', 'fault-abort', 'timeouts-retries']);
    expect(verdicts.find(({ feature }) => feature === 'fault-abort')!.verdict.sentence).toBe(
      'istioctl analyze found 1 error, 1 warning in fixtures/features/02-fault-injection.yaml; no error expected: IST0101 on VirtualService bookinfo/reviews: Referenced host+subset in destinationrule not found: "reviews+v4"',
    );
    // No kubeconfig, no context: the files alone, the lab's namespaces, workloads and baseline first, the feature's last.
    const calls = standInCalls(toolsDir, 'istioctl').filter((call) => call.startsWith('analyze'));
    expect(calls.find((call) => call.includes('01-traffic-shifting'))).toMatch(
      /^analyze --use-kube=false -o json \S+\/fixtures\/bookinfo\/namespace\.yaml \S+\/fixtures\/bookinfo\/bookinfo\.yaml \S+\/fixtures\/workloads\/test-clients\.yaml \S+\/fixtures\/bookinfo\/gateway\.yaml \S+\/fixtures\/bookinfo\/destination-rules\.yaml \S+\/fixtures\/features\/01-traffic-shifting\.yaml$/,
    );
  });
});

/** The pinned istioctl as a verified copy in the tools cache, printing `[]` for an analysis unless `cases` says otherwise. */
function cacheAnalyzingIstioctl(toolsDir: string, cases = '') {
  cacheTool(
    toolsDir,
    'istioctl',
    ['case "$*" in', '  version*) echo "client version: 1.31.1";;', cases, `  *) echo '[]';;`, 'esac'].join('\n'),
  );
}
