import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import type { MeshproofError } from '../../helpers/errors.ts';
import { generateAllureReport, writeAllureEnvironment } from '../../helpers/report/allure-report.ts';
import { runLabel, Status, writeResult } from '../../helpers/report/allure-results.ts';
import { useTempDirs } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-allure-');

describe('the Allure report', () => {
  it('is generated offline from the results of a real vitest run, with the versions and no analytics script', async () => {
    const dir = tempDir();
    // Bare imports in the nested run resolve through the project's own node_modules.
    symlinkSync(fromRoot('node_modules'), path.join(dir, 'node_modules'));
    const results = path.join(dir, 'allure-results');
    writeFileSync(
      path.join(dir, 'canary.test.ts'),
      [
        `import * as allure from 'allure-js-commons';`,
        `import { expect, it } from 'vitest';`,
        `it('80 % of traffic to reviews v1', async () => {`,
        `  await allure.feature('traffic-shifting');`,
        `  await allure.step('reviews-v1 80.9 % of 510; p = 0.61 ≥ α = 1e-4', () => {});`,
        `  await allure.attachment('applied configuration', 'kind: VirtualService', { contentType: 'text/yaml', fileExtension: 'yaml' });`,
        `  expect(1).toBe(1);`,
        `});`,
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'vitest.config.ts'),
      `export default { test: { include: ['canary.test.ts'], reporters: ['default', ['allure-vitest/reporter', { resultsDir: ${JSON.stringify(results)} }]] } };\n`,
    );
    const run = await execa(fromRoot('node_modules', '.bin', 'vitest'), ['run', '--root', dir, '--config', path.join(dir, 'vitest.config.ts')], { cwd: fromRoot(), reject: false, all: true });
    expect(run.exitCode, run.all).toBe(0);
    writeAllureEnvironment(results, { Istio: '1.30.3', Kubernetes: '1.36.4' });

    const index = await generateAllureReport(results, path.join(dir, 'report'), 60_000, { reportName: 'meshproof', singleFile: false });
    expect(existsSync(index)).toBe(true);
    expect(readFileSync(index, 'utf8')).not.toContain('googletagmanager');
    const summary = readFileSync(path.join(dir, 'report', 'summary.json'), 'utf8');
    expect(summary).toContain('"passed":1');
    expect(readdirSync(path.join(dir, 'report'))).toContain('data');
  }, 60_000);

  it('says to run the suites first when there are no results', async () => {
    const error = (await generateAllureReport(path.join(tempDir(), 'none'), path.join(tempDir(), 'out'), 10_000, { reportName: 'meshproof', singleFile: true }).catch((e: unknown) => e)) as MeshproofError;
    expect(error.message).toMatch(/^there are no Allure results in /);
    expect(error.fix).toBe('Run the conformance suites first: npm test');
  });

  it('keeps history across reports, so the next report shows trends per test', async () => {
    const dir = tempDir();
    const results = path.join(dir, 'allure-results');
    const history = path.join(dir, 'allure-history.jsonl');
    const now = Date.now();
    for (const run of [1, 2]) {
      writeResult(results, { name: 'the canary split', key: 'meshproof:test:canary', status: Status.PASSED, labels: [{ name: runLabel, value: `run-${run}` }], start: now, stop: now + 10 });
      await generateAllureReport(results, path.join(dir, `report-${run}`), 60_000, { reportName: 'meshproof', singleFile: true, historyPath: history });
    }
    // One line per report generated, each holding the same test under the same history id: a trend of two.
    const reports = readFileSync(history, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { testResults: Record<string, { fullName: string }> });
    expect(reports).toHaveLength(2);
    const [first, second] = reports.map((r) => Object.entries(r.testResults).map(([id, t]) => [id, t.fullName]));
    expect(first).toEqual(second);
    expect(first).toEqual([[expect.any(String), 'meshproof:test:canary']]);
  }, 60_000);

  it('refuses environment keys the block would cut at a space', () => {
    expect(() => writeAllureEnvironment(tempDir(), { 'Conformance result': 'failed' })).toThrow(/single words, got "Conformance result"/);
    const dir = tempDir();
    writeAllureEnvironment(dir, { Conformance: 'failed (failed: fault-delay)', Istio: '1.31.1' });
    expect(readFileSync(path.join(dir, 'environment.properties'), 'utf8')).toBe('Conformance=failed (failed: fault-delay)\nIstio=1.31.1\n');
  });
});

