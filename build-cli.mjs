// Builds the `meshproof` CLI into dist/ (npm's `prepare` runs it at install time; bin/meshproof.js runs the build
// when it is fresh, the TypeScript sources otherwise). One bundle, split at the actions' lazy imports, so a command
// loads a few files instead of the hundreds of small modules zod, yaml, commander and execa ship as: about 0.1 s
// less at every start (`npm run bench` measures it). The packages below stay in node_modules, loaded from there when
// a command needs them: large ones, ones that find files of their own at run time (undici's WebAssembly, vega's
// optional canvas), ones loaded one module at a time on purpose (each kubernetes-models kind, each stdlib
// function), and the test and report tools. Type checking is `npm run typecheck`'s, not this build's.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const loadedFromNodeModules = [
  '@kubernetes-models/*',
  'kubernetes-models',
  'kubernetes-models/*',
  '@kubernetes/client-node',
  '@stdlib/*',
  'allure',
  'allure-js-commons',
  'allure-vitest',
  'undici',
  'vega',
  'vega-lite',
  'vitest',
  'tsx',
];

// A build from scratch: nothing of an earlier layout (tsc's one file per module) is left to be loaded.
rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['helpers/cli/main.ts'],
  outdir: 'dist/helpers/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: loadedFromNodeModules,
  // Bundled CommonJS (yaml's, commander's) calls require for Node's own modules.
  banner: { js: "import { createRequire as __meshproofCreateRequire } from 'node:module'; const require = __meshproofCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
