import { readdirSync } from 'node:fs';
import type { MeshproofConfig } from '../config/config.ts';
import { resolveDataPath } from '../config/data-file.ts';
import { featureFixtures, isFeatureName } from '../config/features.ts';
import { MeshproofError } from '../errors.ts';
import { applyArgs } from '../provision/provision.ts';
import { runOrFail, type ClusterRunner } from '../provision/runner.ts';
import { restoreBaseline, toYamlStream } from './feature-config.ts';
import { loadFixture, type FixtureObject } from '../config/manifests.ts';
import { validateObjects } from '../config/manifest-schemas.ts';

/**
 * The lab's apply-feature and reset, for a person exploring the mesh: the feature files exactly as written
 * (no probe route), and back to the baseline routing.
 */

/** The lab's demo names, from the file names: 01-traffic-shifting.yaml → traffic-shifting. */
export function labDemos(): Map<string, string> {
  const dir = resolveDataPath('fixtures/features');
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => [f.replace(/^\d+-/, '').replace(/\.yaml$/, ''), `fixtures/features/${f}`]),
  );
}

/** The files a demo name or a meshproof feature name stands for; an unknown name is invalid input (exit code 2). */
export function filesFor(name: string): string[] {
  const demo = labDemos().get(name);
  if (demo) return [demo];
  if (isFeatureName(name) && featureFixtures[name].length > 0) return featureFixtures[name];
  const known = [...labDemos().keys(), ...Object.keys(featureFixtures).filter((f) => featureFixtures[f as keyof typeof featureFixtures].length > 0)];
  throw new MeshproofError(`there is no feature demo named "${name}".`, `Known: ${[...new Set(known)].join(', ')}.`, 2);
}

/** A demo's (or feature's) objects, read and validated: a wrong name or file is said before any cluster is asked. */
export async function labFeatureObjects(name: string): Promise<FixtureObject[]> {
  const objects = filesFor(name).flatMap(loadFixture);
  await validateObjects(objects);
  return objects;
}

/** Applies a demo's objects (labFeatureObjects) as written: no probe route, nothing else changed. */
export async function applyLabFeature(runner: ClusterRunner, config: MeshproofConfig, objects: FixtureObject[]): Promise<void> {
  await runOrFail(runner, 'kubectl', applyArgs, { input: toYamlStream(objects), timeoutMs: config.timeouts.apply });
}

/** Removes every feature demo's objects (and meshproof's own instruments) and puts the baseline routing back. */
export async function resetLab(runner: ClusterRunner, config: MeshproofConfig): Promise<void> {
  const files = new Set([...labDemos().values(), ...Object.values(featureFixtures).flat()]);
  await restoreBaseline(runner, config, { objects: [...files].flatMap(loadFixture) });
}
