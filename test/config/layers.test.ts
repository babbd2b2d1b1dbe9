import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';

/**
 * Imports flow with the pipeline: a module of helpers/ may import from its own layer or one before it, never
 * from a later one. An import that runs back up ties an early stage to a later one, so that neither can be
 * changed, tested or read alone. The order, first to last, and why each layer sits where it does:
 */
const layers: readonly { name: string; why: string }[] = [
  { name: 'errors.ts', why: 'errors a user can act on and how an error is worded: every layer reports errors, so it imports none' },
  {
    name: 'config',
    why: 'what is known before anything runs: settings, timeouts and the duration format, the catalogue, the fixtures and what Bookinfo answers mean',
  },
  { name: 'wait', why: 'the bounded poll every stage waits with; above config only for the duration format of its failure message' },
  { name: 'net', why: 'one HTTP request and the reader of Prometheus answers, for every stage; above config for the same reason as wait' },
  { name: 'provision', why: 'the first stage: the cluster, Istio, the add-ons and Bookinfo, and the waits until they serve' },
  { name: 'apply', why: "a feature's configuration, with its live-probe route, applied to the provisioned mesh (with provision's runner)" },
  { name: 'gate', why: 'proof that what apply applied is the configuration serving, before anything is observed' },
  { name: 'observe', why: "traffic and evidence from the mesh the gate proved: request records, metrics, the add-ons' answers" },
  { name: 'judge', why: 'pure verdicts over what observe recorded: no I/O, so a recording can be judged again offline' },
  { name: 'record', why: "an observation kept with its expectation and verdict; it checks the expectation with the judge's own schema" },
  { name: 'report', why: 'what a person reads after a run: charts, evidence, the summary, all drawn from recordings' },
  { name: 'suite', why: 'orchestration: each feature test runs the stages in order, so it may use them all' },
  { name: 'cli', why: 'the meshproof command, on top of everything it offers' },
];

const helpersDir = fromRoot('helpers');
const layerIndex = new Map(layers.map(({ name }, index) => [name, index]));

/** helpers/observe/traffic.ts → "observe"; helpers/errors.ts → "errors.ts". */
function layerOf(file: string): string {
  return path.relative(helpersDir, file).split(path.sep)[0]!;
}

function typescriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return typescriptFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every relative module a source names: static imports and re-exports (types too), and dynamic import(). */
function relativeImports(source: string): string[] {
  // Either quote: the house writes single quotes, but an import in double quotes must not slip past.
  const fromClauses = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?(['"])(\.[^'"]+)\1/g;
  const dynamic = /\bimport\(\s*(['"])(\.[^'"]+)\1\s*\)/g;
  return [...source.matchAll(fromClauses), ...source.matchAll(dynamic)].map((match) => match[2]!);
}

/** Each import of `files` that runs back up the layers, as a sentence that says how. */
function backArrows(files: readonly { file: string; source: string }[]): string[] {
  const found: string[] = [];
  for (const { file, source } of files) {
    const from = layerOf(file);
    for (const specifier of relativeImports(source)) {
      const target = path.resolve(path.dirname(file), specifier);
      if (!target.startsWith(helpersDir + path.sep)) continue;
      const to = layerOf(target);
      if ((layerIndex.get(to) ?? -1) > (layerIndex.get(from) ?? -1)) {
        found.push(`${path.relative(fromRoot(), file)} imports ${path.relative(fromRoot(), target)}: ${from} comes before ${to}`);
      }
    }
  }
  return found;
}

describe('the layers of helpers/', () => {
  const files = typescriptFiles(helpersDir).map((file) => ({ file, source: readFileSync(file, 'utf8') }));

  it('places every folder and file at the top of helpers/ in the order', () => {
    const unplaced = readdirSync(helpersDir).filter((name) => !layerIndex.has(name));
    expect(unplaced).toEqual([]);
  });

  it('has no import that runs back up the pipeline', () => {
    expect(backArrows(files)).toEqual([]);
  });

  it('reads the imports it judges, of every kind', () => {
    const imports = files.flatMap(({ source }) => relativeImports(source));
    // A reader that found nothing would pass any tree: these are imports of each kind the code has.
    expect(imports.length).toBeGreaterThan(200);
    const readiness = files.find(({ file }) => file.endsWith(path.join('provision', 'readiness.ts')))!;
    expect(relativeImports(readiness.source)).toEqual(expect.arrayContaining(['../net/http.ts', '../config/timeouts.ts']));
    // The CLI's lazy imports: `() => import('./actions/judge.ts')`.
    const program = files.find(({ file }) => file.endsWith(path.join('cli', 'program.ts')))!;
    expect(relativeImports(program.source)).toContain('./actions/judge.ts');
  });

  it('names an import that runs back up, whatever its form', () => {
    const observe = path.join(helpersDir, 'observe', 'example.ts');
    const sources = [
      "import { judgeSplit } from '../judge/split.ts';",
      "import type { Recording } from '../record/recording.ts';",
      "export { verdictChart } from '../report/charts.ts';",
      "import {\n  featureTest,\n} from '../suite/feature-test.ts';",
      "const main = () => import('../cli/main.ts');",
      'import { renderSvg } from "../report/charts.ts";',
    ];
    const found = sources.flatMap((source) => backArrows([{ file: observe, source }]));
    expect(found).toEqual([
      'helpers/observe/example.ts imports helpers/judge/split.ts: observe comes before judge',
      'helpers/observe/example.ts imports helpers/record/recording.ts: observe comes before record',
      'helpers/observe/example.ts imports helpers/report/charts.ts: observe comes before report',
      'helpers/observe/example.ts imports helpers/suite/feature-test.ts: observe comes before suite',
      'helpers/observe/example.ts imports helpers/cli/main.ts: observe comes before cli',
      'helpers/observe/example.ts imports helpers/report/charts.ts: observe comes before report',
    ]);
    expect(backArrows([{ file: observe, source: "import { httpRequest } from '../net/http.ts';\nimport { x } from './records.ts';" }])).toEqual([]);
  });

  it('are the rows of the README layout, in the same order', () => {
    const readme = readFileSync(fromRoot('README.md'), 'utf8');
    const layout = readme.slice(readme.indexOf('## Layout'));
    const rows = [...layout.matchAll(/^\| `helpers\/([^`/]+)\/?` \|/gm)].map((match) => match[1]);
    expect(rows).toEqual(layers.map(({ name }) => name));
  });
});
