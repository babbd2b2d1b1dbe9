import { stringify } from 'yaml';
import type { MeshproofConfig } from '../config/config.ts';
import { featureFixtures, featureNames, type FeatureName } from '../config/features.ts';
import { newApplyId, withLiveProbe } from './live-probe.ts';
import { applyArgs } from '../provision/provision.ts';
import { runOrFail, type ClusterRunner } from '../provision/runner.ts';
import { describeObject, loadFixture, type FixtureObject, type KubeObject } from '../config/manifests.ts';
import { validateObjects } from '../config/manifest-schemas.ts';

/**
 * Applying one feature's Istio configuration, and restoring the baseline after it. The fixture is the file a
 * person applies in the lab; meshproof adds only the live-probe route (helpers/apply/live-probe.ts) to each
 * VirtualService, under this apply's id.
 */

/** The lab's baseline routing config: what `meshproof reset` and every suite's cleanup return to. */
export const baselineFiles = ['fixtures/bookinfo/gateway.yaml', 'fixtures/bookinfo/destination-rules.yaml'];

export interface AppliedConfig {
  applyId: string;
  /** The objects as applied (with the probe routes), for the report. */
  objects: FixtureObject[];
  /** The applied YAML, as the report attaches it. */
  yaml: string;
}

const identity = (o: KubeObject) => `${o.apiVersion.split('/')[0]}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export function toYamlStream(objects: FixtureObject[]): string {
  return objects.map(({ object }) => stringify(object)).join('---\n');
}

/** Reads and validates a feature's fixture files and gives every VirtualService this apply's probe route. */
export async function prepareFeatureConfig(files: string[], applyId: string = newApplyId()): Promise<AppliedConfig> {
  const objects = files.flatMap(loadFixture).map(({ file, object }) => ({ file, object: withLiveProbe(object, applyId) }));
  await validateObjects(objects);
  return { applyId, objects, yaml: toYamlStream(objects) };
}

/** Applies a prepared configuration (prepareFeatureConfig) with server-side apply. */
export async function applyFeatureConfig(runner: ClusterRunner, config: MeshproofConfig, prepared: AppliedConfig): Promise<AppliedConfig> {
  await runOrFail(runner, 'kubectl', applyArgs, { input: prepared.yaml, timeoutMs: config.timeouts.apply });
  return prepared;
}

/**
 * Puts the baseline back: objects the baseline also declares (the reviews DestinationRule a circuit breaker
 * changed) are applied again as the baseline has them, and server-side apply under the same field manager
 * drops the fields the feature added; objects only the feature had are deleted.
 */
export async function restoreBaseline(runner: ClusterRunner, config: MeshproofConfig, applied: Pick<AppliedConfig, 'objects'>): Promise<void> {
  const baseline = baselineFiles.flatMap(loadFixture);
  const inBaseline = new Set(baseline.map(({ object }) => identity(object)));
  const seen = new Set<string>();
  const featureOnly = applied.objects.filter(({ object }) => {
    const id = identity(object);
    if (inBaseline.has(id) || seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  if (featureOnly.length > 0) {
    await runOrFail(runner, 'kubectl', ['delete', '--ignore-not-found', '--wait=true', '-f', '-'], {
      input: toYamlStream(featureOnly),
      timeoutMs: config.timeouts.apply,
    });
  }
  await runOrFail(runner, 'kubectl', applyArgs, { input: toYamlStream(baseline), timeoutMs: config.timeouts.apply });
}

/** Every feature's configuration, read and validated as a suite would apply it (probe routes included). */
export async function validateFeatureConfigs(): Promise<{ feature: FeatureName; applied: AppliedConfig }[]> {
  // One feature after another: the first invalid file in catalogue order is the one named.
  const validated: { feature: FeatureName; applied: AppliedConfig }[] = [];
  for (const feature of featureNames.filter((name) => featureFixtures[name].length > 0)) {
    validated.push({ feature, applied: await prepareFeatureConfig(featureFixtures[feature]) });
  }
  return validated;
}

/** The plan's last section: what each feature suite applies, validated. */
export function renderFeatureConfigs(features: { feature: FeatureName; applied: AppliedConfig }[]): string {
  const lines = ['', 'Feature configurations (each suite applies its own with a config-live probe route, then restores the baseline; all validated):'];
  for (const { feature, applied } of features) {
    lines.push(`   - ${feature}: ${applied.objects.map(({ object, file }) => `${describeObject(object)} (${file})`).join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
