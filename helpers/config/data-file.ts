import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';

/** The repository root, so data files resolve the same from the CLI, vitest and global-setup. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function fromRoot(...segments: string[]): string {
  return path.join(projectRoot, ...segments);
}

/** Reads one YAML data file (relative to the project root) and validates it; errors name file and field. */
export function loadYamlData<S extends z.ZodType>(relativePath: string, schema: S): z.infer<S> {
  const text = readFileSync(fromRoot(relativePath), 'utf8');
  const result = schema.safeParse(parse(text));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new ConfigError(`${relativePath} is invalid:\n  ${problems.join('\n  ')}`, 'Fix the data file; it is part of meshproof, so this is a bug if you did not edit it.');
  }
  return result.data;
}
