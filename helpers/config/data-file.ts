import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { z } from 'zod';
import { ConfigError, describeIssue } from '../errors.ts';

/**
 * The repository root, so data files resolve the same from the CLI, vitest and global-setup: two folders up from
 * this file, or three from the CLI's install-time build in dist/helpers/cli/ (build-cli.mjs).
 */
const twoUp = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const projectRoot = path.basename(twoUp) === 'dist' && !existsSync(path.join(twoUp, 'package.json')) ? path.dirname(twoUp) : twoUp;

export function fromRoot(...segments: string[]): string {
  return path.join(projectRoot, ...segments);
}

export const fixturesDirEnv = 'MESHPROOF_FIXTURES_DIR';

/**
 * Where a data file really is. Files are named as in the repository ("fixtures/bookinfo/bookinfo.yaml");
 * MESHPROOF_FIXTURES_DIR points the `fixtures/` part at a copy a user adapted (their own values, a changed
 * Bookinfo), so the same names appear in plans and errors either way.
 */
export function resolveDataPath(file: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[fixturesDirEnv];
  if (override && file.startsWith('fixtures/')) return path.resolve(override, file.slice('fixtures/'.length));
  return path.resolve(projectRoot, file);
}

const parsedFiles = new Map<string, { stamp: string; value: unknown }>();

/**
 * A data file read and parsed by `parse`, once per version of the file in this process: a run plans the stack,
 * applies and restores fixtures, and a self-test worker builds plans dozens of times, each reading the same files.
 * The file's modification time and size say when it changed; each caller gets a copy of its own to change.
 */
export function readParsed<T>(where: string, parse: (text: string) => T): T {
  const { mtimeMs, size } = statSync(where);
  const stamp = `${mtimeMs}:${size}`;
  let cached = parsedFiles.get(where);
  if (cached?.stamp !== stamp) {
    cached = { stamp, value: parse(readFileSync(where, 'utf8')) };
    parsedFiles.set(where, cached);
  }
  return structuredClone(cached.value) as T;
}

/**
 * Reads one YAML data file (a path relative to the project root, or absolute) and validates it; an invalid
 * file is a ConfigError naming the file and every bad field.
 */
export function loadYamlData<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  let document: unknown;
  try {
    document = readParsed(resolveDataPath(file), parse);
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const result = schema.safeParse(document);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => describeIssue(issue, '(the whole file)'));
    throw new ConfigError(
      `${file} is invalid:\n  ${problems.join('\n  ')}`,
      'Fix the named fields; the comments in the file describe them.',
    );
  }
  return result.data;
}
