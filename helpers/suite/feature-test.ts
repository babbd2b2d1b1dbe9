import * as allure from 'allure-js-commons';
import { expect, inject, test as base } from 'vitest';
import { applyFeatureConfig, restoreBaseline, type AppliedConfig } from '../apply/feature-config.ts';
import { featureCatalog, featureFixtures, type FeatureName } from '../config/features.ts';
import { featureSkipReason } from '../config/suites.ts';
import type { Verdict } from '../judge/verdict.ts';
import { PrometheusClient } from '../observe/prometheus.ts';
import { ToolRunner, type ClusterRunner } from '../provision/runner.ts';
import { keepRecording } from '../report/evidence.ts';
import { collectFailureBundle, writeFailureBundle } from '../report/failure-bundle.ts';
import type { MeshproofRun } from './run.ts';
import { meshproofVersion } from '../config/version.ts';
import { bookinfoMeshUrls, endUserHeader, proveLiveViaIngress, type Observed, type StepEnv } from './steps.ts';
import { podExec } from '../observe/mesh-client.ts';

/**
 * One feature suite, declared (as Gateway API's ConformanceTest): the feature it proves and the fixture files it
 * applies. The mechanics live here, once: skipping with the configured reason, the Allure labels, applying the
 * fixture with its probe route, the config-live gate, restoring the baseline afterwards (also when the test
 * fails), and keeping every recording as evidence.
 */
export interface FeatureDeclaration {
  /** The feature proved; the lab's files it applies come from featureFixtures (helpers/config/features.ts). */
  feature: FeatureName;
  /**
   * Proves the applied configuration is the one serving. The default sends the config-live probe through the
   * gateway, which needs a VirtualService among the files; a feature configured otherwise (a DestinationRule,
   * a PeerAuthentication) declares its own proof.
   */
  awaitLive?: (context: { env: StepEnv; runner: ClusterRunner; applied: AppliedConfig }) => Promise<void>;
}

export interface FeatureFixtures {
  run: MeshproofRun;
  runner: ClusterRunner;
  env: StepEnv;
  /** The feature's configuration, applied and proven live before the test body runs. */
  applied: AppliedConfig;
}

export function featureTest(declaration: FeatureDeclaration) {
  const { feature } = declaration;
  const fixtures = featureFixtures[feature];
  const awaitLive =
    declaration.awaitLive ?? (({ env, applied }: { env: StepEnv; applied: AppliedConfig }) => proveLiveViaIngress(env, applied, featureCatalog[feature]));
  return base.extend<FeatureFixtures>({
    run: async ({}, use) => use(inject('meshproof')),
    runner: async ({ run }, use) => use(new ToolRunner(run.tools, run.access)),
    env: async ({ run, runner }, use) =>
      use({
        meshClient: podExec(runner, { namespace: 'meshproof', deployment: 'mesh-client', container: 'curl' }, run.config.timeouts.trafficBatch),
        legacyClient: podExec(runner, { namespace: 'meshproof-legacy', deployment: 'legacy-client', container: 'curl' }, run.config.timeouts.trafficBatch),
        meshUrls: bookinfoMeshUrls,
        asUser: endUserHeader,
        config: run.config,
        ingressUrl: run.mesh.ingressUrl,
        addons: run.mesh.addons,
        prometheus: new PrometheusClient({ url: run.mesh.addons.prometheus, requestTimeoutMs: run.config.timeouts.request }),
        versions: { meshproof: meshproofVersion, istio: run.mesh.istioVersion, kubernetes: run.mesh.kubernetesVersion },
      }),
    // auto: vitest sets fixtures up only for the tests that name them; the feature's configuration must be in
    // place for every test of the suite, whether or not its body mentions `applied`.
    applied: [
      async ({ run, runner, env, skip, task }, use) => {
        const skipReason = featureSkipReason(run.config, feature);
        if (skipReason) skip(skipReason);
        await allure.epic('Istio conformance');
        await allure.feature(feature);
        await allure.description(featureCatalog[feature]);
        await allure.parameter('Istio', run.mesh.istioVersion);
        await allure.parameter('Kubernetes', run.mesh.kubernetesVersion);
        if (fixtures.length === 0) {
          // The observability features observe the stack as provisioned: nothing to apply or restore.
          await use({ applyId: '', objects: [], yaml: '' });
          return;
        }
        const applied = await allure.step(`apply ${fixtures.join(', ')}`, async () => {
          const done = await applyFeatureConfig(runner, run.config, fixtures);
          await allure.attachment('applied configuration', done.yaml, { contentType: 'text/yaml', fileExtension: 'yaml' });
          return done;
        });
        let failed = false;
        try {
          await allure.step('prove the new configuration is the one serving', () => awaitLive({ env, runner, applied }));
          await use(applied);
        } catch (error) {
          failed = true;
          throw error;
        } finally {
          // The mesh as it was when the test failed: collected before the baseline is restored. vitest has marked
          // the test failed by the time fixtures are torn down (onTestFailed would run too late, after restore).
          if (failed || task.result?.state === 'fail') await keepFailureBundle(run, runner, feature);
          await allure.step('restore the baseline', () => restoreBaseline(runner, run.config, applied));
        }
      },
      { auto: true },
    ],
  });
}

async function keepFailureBundle(run: MeshproofRun, runner: ClusterRunner, feature: FeatureName): Promise<void> {
  await allure.step('failure bundle: pods, events, Istio config, istiod and sidecar logs', async () => {
    const files = await collectFailureBundle(runner, run.config);
    const dir = writeFailureBundle(run.config.reportsDir, feature, files);
    for (const file of files) await allure.attachment(file.name, file.content, { contentType: 'text/plain', fileExtension: 'txt' });
    await allure.parameter('failure bundle', dir);
  });
}

/**
 * Keeps every recording of an observation as evidence and fails the test on the first verdict that fails,
 * with its sentence as the message. All verdicts are reported before any assertion, so a report shows each.
 */
export async function mustPass(run: MeshproofRun, observed: Observed): Promise<void> {
  const verdicts: Verdict[] = [];
  for (const recording of observed.recordings) {
    await allure.step(`${recording.verdict!.pass ? '✓' : '✗'} ${recording.verdict!.sentence}`, async () => {
      await keepRecording(run.config.reportsDir, recording);
    });
    verdicts.push(recording.verdict!);
  }
  for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
}
