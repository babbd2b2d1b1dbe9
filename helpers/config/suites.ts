import { readdirSync } from 'node:fs';
import type { MeshproofConfig } from './config.ts';
import { fromRoot } from './data-file.ts';
import { isFeatureName, type FeatureName } from './features.ts';

export interface SuiteEntry {
  file: string;
  /** The feature a suite proves, from its file name `NN-<feature>.test.ts`; undefined for stack checks. */
  feature: FeatureName | undefined;
  /** Why it will not run, when MESHPROOF_SKIP or MESHPROOF_ONLY excludes it. */
  skipReason: string | undefined;
}

/** Why a feature does not run in this configuration, or undefined when it runs. */
export function featureSkipReason(config: Pick<MeshproofConfig, 'skip' | 'only'>, feature: FeatureName): string | undefined {
  if (config.skip[feature] !== undefined) return `skipped by MESHPROOF_SKIP: ${config.skip[feature]}`;
  if (config.only.length > 0 && !config.only.includes(feature)) return `not in MESHPROOF_ONLY (${config.only.join(', ')})`;
  return undefined;
}

/** The suite files in the order vitest runs them (one at a time, by name). */
export function listSuites(config: Pick<MeshproofConfig, 'skip' | 'only'>): SuiteEntry[] {
  return readdirSync(fromRoot('suites'))
    .filter((file) => file.endsWith('.test.ts'))
    .sort()
    .map((file) => {
      const name = file.replace(/^\d+-/, '').replace(/\.test\.ts$/, '');
      const feature = isFeatureName(name) ? name : undefined;
      return { file: `suites/${file}`, feature, skipReason: feature ? featureSkipReason(config, feature) : undefined };
    });
}
