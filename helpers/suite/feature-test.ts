import path from 'node:path';
import * as allure from 'allure-js-commons';
import { inject, test as base } from 'vitest';
import { applyFeatureConfig, prepareFeatureConfig, restoreBaseline, type AppliedConfig } from '../apply/feature-config.ts';
import { featureCatalog, featureFixtures, type FeatureName } from '../config/features.ts';
import { featureSkipReason } from '../config/suites.ts';
import type { KubeObject } from '../config/manifests.ts';
import { meshproofVersion } from '../config/version.ts';
import { formatDuration } from '../config/timeouts.ts';
import { kubectlExecArgv, podExec } from '../observe/mesh-client.ts';
import { PrometheusClient } from '../observe/prometheus.ts';
import { commandLine, runOrFail, ToolRunner, type ClusterRunner } from '../provision/runner.ts';
import { describeAnalysisMessage, parseAnalysis } from '../judge/analysis.ts';
import type { Recording } from '../record/recording.ts';
import { jointCharts, verdictChart } from '../report/charts.ts';
import { attachChart, describeWithCharts, keepRecording } from '../report/evidence.ts';
import { runLabel } from '../report/allure-results.ts';
import { conformanceEpic } from '../report/finish.ts';
import { collectFailureBundle, writeFailureBundle } from '../report/failure-bundle.ts';
import { proveInEveryProxy, proveLiveViaIngress } from './live.ts';
import { analysisCheckOf, analysisRecording } from './steps/analysis.ts';
import type { MeshproofRun } from './run.ts';
import { bookinfoMeshUrls, endUserHeader, type Observed, type StepEnv } from './step-env.ts';

/**
 * One feature suite, declared (as Gateway API's ConformanceTest): the feature it proves, how its configuration
 * is proven on the data path, and the controls around it. The mechanics live here, once: skipping with the
 * configured reason, the Allure labels, the control before the apply, applying the fixture with its probe
 * route, proving it in every enforcing proxy and on the data path, Istio's analyzers on the namespace (an Error
 * fails the test), restoring the baseline afterwards (whenever anything may have been applied, also when the apply
 * itself failed part-way or the test failed), the control after the restore, and keeping every recording as
 * evidence.
 */
export interface FeatureDeclaration {
  /** The feature proved; the files it applies come from the catalogue (helpers/config/features.ts). */
  feature: FeatureName;
  /**
   * Proves on the data path that the applied configuration is the one serving. The default sends the
   * config-live probe through the gateway, which needs a reviews VirtualService among the files; a feature
   * configured otherwise (a DestinationRule, a PeerAuthentication) declares its own proof.
   */
  proveLive?: (context: { env: StepEnv; applied: AppliedConfig }) => Promise<string | string[]>;
  /** Controls: observations of the baseline right before the apply and right after the restore. */
  controls?: { before?: (env: StepEnv) => Promise<Observed>; after?: (env: StepEnv) => Promise<Observed> };
}

export interface FeatureFixtures {
  run: MeshproofRun;
  runner: ClusterRunner;
  env: StepEnv;
  /** The feature's configuration, applied and proven live before the test body runs. */
  applied: AppliedConfig;
}

/** A verdict that failed: its sentence is the whole message (no matcher diff, no stack for a verdict). */
export class VerdictFailure extends Error {
  override readonly name = 'VerdictFailure';
  /**
   * Marks it as a failed check, not an error: Allure files a test as failed (red) rather than broken when its
   * error carries a matcher result (allure-js-commons getStatusFromError); vitest ignores the field.
   */
  readonly matcherResult: { pass: false; message: string };
  constructor(sentences: string[]) {
    super(sentences.join('\n'));
    this.stack = `${this.name}: ${this.message}`;
    this.matcherResult = { pass: false, message: this.message };
  }
}

export function stepEnvOf(run: MeshproofRun, runner: ClusterRunner): StepEnv {
  const { timeouts } = run.config;
  return {
    config: run.config,
    runId: run.runId,
    meshClient: podExec(runner, { namespace: 'meshproof', deployment: 'mesh-client', container: 'curl' }, timeouts.trafficBatch),
    legacyClient: podExec(runner, { namespace: 'meshproof-legacy', deployment: 'legacy-client', container: 'curl' }, timeouts.trafficBatch),
    meshUrls: bookinfoMeshUrls,
    asUser: endUserHeader,
    ingressUrl: run.mesh.ingressUrl,
    addons: run.mesh.addons,
    prometheus: new PrometheusClient({ url: run.mesh.addons.prometheus, requestTimeoutMs: timeouts.request }),
    versions: { meshproof: meshproofVersion, istio: run.mesh.istioVersion, kubernetes: run.mesh.kubernetesVersion },
    proxyAdmin: async ({ namespace, workload }, path) => {
      const argv = kubectlExecArgv({ namespace, pod: `deploy/${workload}`, container: 'istio-proxy' }, ['pilot-agent', 'request', 'GET', path]);
      return (await runOrFail(runner, 'kubectl', argv, { timeoutMs: timeouts.request })).stdout;
    },
  };
}

export function featureTest(declaration: FeatureDeclaration) {
  const { feature } = declaration;
  const fixtures = featureFixtures[feature];
  const proveLive = declaration.proveLive ?? (({ env, applied }) => proveLiveViaIngress(env, applied, featureCatalog[feature].description));
  return base.extend<FeatureFixtures>({
    run: async ({}, use) => use(inject('meshproof')),
    runner: async ({ run }, use) => use(new ToolRunner(run.tools, run.access)),
    env: async ({ run, runner }, use) => use(stepEnvOf(run, runner)),
    // auto: vitest sets fixtures up only for the tests that name them; the feature's configuration must be in
    // place for every test of the suite, whether or not its body mentions `applied`.
    applied: [
      async ({ run, runner, env, skip, task }, use) => {
        // The labels come first, so that a skipped feature is filed under its feature like the others.
        await allure.epic(conformanceEpic);
        await allure.feature(feature);
        // As HTML from the start: the report prefers a plain description over an HTML one, and the charts come in HTML.
        await allure.descriptionHtml(describeWithCharts(featureCatalog[feature].description, []));
        await allure.parameter('Istio', run.mesh.istioVersion);
        await allure.parameter('Kubernetes', run.mesh.kubernetesVersion);
        // The conformance summary reads this run's results only: a kept allure-results folder holds earlier runs'.
        await allure.label(runLabel, run.runId);
        const skipReason = featureSkipReason(run.config, feature);
        if (skipReason) skip(skipReason);
        keptThisTest.length = 0;
        chartsThisTest.length = 0;
        if (fixtures.length === 0) {
          // The observability features observe the stack as provisioned: nothing to apply or restore.
          await use({ applyId: '', objects: [], yaml: '' });
          await drawCharts(feature);
          return;
        }
        const controlFailures: string[] = [];
        if (declaration.controls?.before) {
          const before = declaration.controls.before;
          controlFailures.push(...(await allure.step('control: the baseline, before the feature', async () => report(run, await before(env)))));
        }
        // Prepared (read and validated) before anything touches the cluster: a broken file changes nothing.
        const prepared = await prepareFeatureConfig(fixtures);
        let failed = false;
        try {
          const applied = await allure.step(`apply ${fixtures.join(', ')}`, async () => {
            await allure.attachment('applied configuration', prepared.yaml, { contentType: 'text/yaml', fileExtension: 'yaml' });
            await allure.parameter('apply id', prepared.applyId);
            return applyFeatureConfig(runner, run.config, prepared);
          });
          await allure.step('prove the new configuration is the one serving', async () => {
            const proven = await proveInEveryProxy(env, applied, featureCatalog[feature].description);
            for (const { proxy, shows } of proven.proxies) await allure.logStep(`${proxy} has ${shows}`);
            // PeerAuthentication and EnvoyFilter leave nothing a route or cluster dump shows: no proxy to prove, so
            // the data path (next) is the only proof, and the step says so instead of "within 0 ms".
            await allure.logStep(
              proven.proxies.length > 0
                ? `every enforcing proxy had apply ${applied.applyId} within ${formatDuration(proven.durationMs)}`
                : `no proxy's route or cluster dump shows this configuration (${[...new Set(applied.objects.map(({ object }) => object.kind))].join(', ')}): the data path proves it`,
            );
            const started = Date.now();
            const seen = [await proveLive({ env, applied })].flat();
            for (const probe of seen) await allure.logStep(`probe: ${probe}`);
            await allure.logStep(`the data path answered as only apply ${applied.applyId} can, within ${formatDuration(Date.now() - started)}`);
          });
          await analyzeOrFail(runner, run, env, feature);
          await use(applied);
        } catch (error) {
          failed = true;
          throw error;
        } finally {
          // The mesh as it was when the test failed: collected before the baseline is restored. vitest has marked
          // the test failed by the time fixtures are torn down (onTestFailed would run too late, after restore).
          if (failed || task.result?.state === 'fail') await keepFailureBundle(run, runner, feature, prepared.objects.map(({ object }) => object));
          // Restored whenever the apply was attempted: a `kubectl apply` that failed part-way may have changed
          // some objects, and every later suite would otherwise run on a half-applied mesh.
          await allure.step('restore the baseline', () => restoreBaseline(runner, run.config, prepared));
        }
        if (declaration.controls?.after) {
          const after = declaration.controls.after;
          controlFailures.push(...(await allure.step('control: the baseline, after the feature', async () => report(run, await after(env)))));
        }
        await drawCharts(feature);
        if (controlFailures.length > 0) throw new VerdictFailure(controlFailures);
      },
      { auto: true },
    ],
  });
}

/**
 * The end of a test: the pictures that need several verdicts (the delayed group beside its control, the mTLS
 * matrix), then every chart of the test drawn in its description, at the top of its page in the report.
 */
async function drawCharts(feature: FeatureName): Promise<void> {
  for (const chart of jointCharts(keptThisTest)) {
    chartsThisTest.push({ title: chart.title, svg: await allure.step(chart.title, () => attachChart(chart)) });
  }
  if (chartsThisTest.length > 0) await allure.descriptionHtml(describeWithCharts(featureCatalog[feature].description, chartsThisTest));
}

export const analyzeArgs = (namespace: string) => ['analyze', '-n', namespace, '-o', 'json'];

/**
 * `istioctl analyze` of the namespace with the feature applied, recorded as the feature's istio-analysis check and
 * judged (helpers/judge/analysis.ts) like every other verdict: the recording kept, a step with the sentence, red
 * when an Error was found, which fails the test before any traffic is judged on a configuration Istio itself calls
 * broken. Warnings are listed in the report; what istioctl printed is attached as it printed it.
 */
async function analyzeOrFail(runner: ClusterRunner, run: MeshproofRun, env: StepEnv, feature: FeatureName): Promise<void> {
  // The namespace the catalogue's check names: bookinfo, where the features apply theirs.
  const { namespace } = analysisCheckOf(feature);
  const args = analyzeArgs(namespace);
  await allure.step(commandLine('istioctl', args), async () => {
    const { stdout } = await runOrFail(runner, 'istioctl', args, { timeoutMs: run.config.timeouts.istioctl });
    await allure.attachment(`istioctl analyze -n ${namespace}`, stdout, { contentType: 'application/json', fileExtension: 'json' });
    const messages = parseAnalysis(commandLine('istioctl', args), stdout);
    for (const m of messages.filter((m) => m.level === 'Warning')) await allure.logStep(`warning: ${describeAnalysisMessage(m)}`);
    await mustPass(run, { recordings: [analysisRecording(env, feature, messages)] });
  });
}

async function keepFailureBundle(run: MeshproofRun, runner: ClusterRunner, feature: FeatureName, objects: KubeObject[]): Promise<void> {
  await allure.step('failure bundle: pods, events, Istio config, istiod and sidecar logs, proxy sync, routes and clusters', async () => {
    const files = await collectFailureBundle(runner, run.config, objects);
    const dir = writeFailureBundle(run.config.reportsDir, feature, files);
    for (const file of files) await allure.attachment(file.name, file.content, { contentType: 'text/plain', fileExtension: 'txt' });
    // Relative to the reports folder: a report is forwarded, and a path of the runner's disk means nothing there.
    await allure.parameter('failure bundle', path.relative(run.config.reportsDir, dir));
  });
}

/**
 * The recordings kept by the test running in this worker (a suite's tests run one at a time), for the charts
 * drawn across them when the test ends.
 */
const keptThisTest: Recording[] = [];
const chartsThisTest: { title: string; svg: string }[] = [];

/**
 * Keeps every recording as evidence, each verdict an Allure step of its own (failed when the verdict fails)
 * with its chart, and returns the sentences of the verdicts that failed.
 */
async function report(run: MeshproofRun, observed: Observed): Promise<string[]> {
  const failures: string[] = [];
  for (const recording of observed.recordings) {
    keptThisTest.push(recording);
    const verdict = recording.verdict!;
    try {
      await allure.step(verdict.sentence, async () => {
        await keepRecording(run.config.reportsDir, recording);
        const chart = verdictChart(recording);
        if (chart) chartsThisTest.push({ title: chart.title, svg: await attachChart(chart) });
        // Thrown inside the step, so the report draws the step failed (red) with the sentence as its message.
        if (!verdict.pass) throw new VerdictFailure([verdict.sentence]);
      });
    } catch (error) {
      if (!(error instanceof VerdictFailure)) throw error;
      failures.push(verdict.sentence);
    }
  }
  return failures;
}

/**
 * Keeps every recording of an observation as evidence and fails the test when any verdict fails, with the
 * sentences as the message. All verdicts are reported before the test fails, so a report shows each.
 */
export async function mustPass(run: MeshproofRun, observed: Observed): Promise<void> {
  const failures = await report(run, observed);
  if (failures.length > 0) throw new VerdictFailure(failures);
}
