#!/usr/bin/env node
// meshproof is written in TypeScript. `npm ci` compiles the CLI into dist/ (npm's `prepare` script), and this file
// runs that build when it is at least as new as every source it was built from; otherwise (a checkout being
// edited, an install that skipped the build) tsx compiles the sources on the fly: slower to start, never stale.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'dist', 'helpers', 'cli', 'main.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

function builtIsFresh() {
  try {
    const builtAt = statSync(built).mtimeMs;
    return builtAt >= Math.max(newestSource(path.join(root, 'helpers')), statSync(path.join(root, 'package.json')).mtimeMs);
  } catch {
    return false;
  }
}

if (builtIsFresh()) {
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../helpers/cli/main.ts');
}
