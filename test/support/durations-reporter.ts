import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter, TestModule, TestRunEndReason } from 'vitest/node';
import { durationsFile } from './sequencer.ts';

/**
 * Writes each self-test file's duration — its tests and hooks together, and the import before them — to
 * test/self-test-durations.json, longest first, when every file passed: the order a fresh clone starts them in
 * (test/support/sequencer.ts). `npm run bench` runs the self-tests with it. The JSON reporter's start and end leave
 * a file's beforeAll out, which is where the nested runs and the browser's report spend their time.
 */
export default class DurationsReporter implements Reporter {
  private readonly seconds = new Map<string, number>();
  private root = process.cwd();

  onInit(vitest: { config: { root: string } }): void {
    this.root = vitest.config.root;
  }

  onTestModuleEnd(testModule: TestModule): void {
    const { duration, collectDuration, prepareDuration } = testModule.diagnostic();
    const file = path.relative(this.root, testModule.moduleId).split(path.sep).join('/');
    this.seconds.set(file, Math.round((duration + collectDuration + prepareDuration) / 100) / 10);
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>, _errors: ReadonlyArray<unknown>, reason: TestRunEndReason): void {
    if (reason !== 'passed') return;
    const longestFirst = [...this.seconds].sort((a, b) => b[1] - a[1]);
    writeFileSync(durationsFile, `${JSON.stringify(Object.fromEntries(longestFirst), null, 2)}\n`);
  }
}
