import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { fromRoot } from '../config/data-file.ts';
import { MeshproofError } from '../errors.ts';

/**
 * The Allure HTML report of a run. The environment block carries the versions the run was made on; the report
 * makes no outside request: Allure's Awesome plugin embeds an analytics script, removed after generation.
 */
export function writeAllureEnvironment(resultsDir: string, environment: Record<string, string>): void {
  mkdirSync(resultsDir, { recursive: true });
  const lines = Object.entries(environment).map(([key, value]) => `${key}=${value.replace(/\n/g, ' ')}`);
  writeFileSync(path.join(resultsDir, 'environment.properties'), `${lines.join('\n')}\n`);
}

export async function generateAllureReport(resultsDir: string, outputDir: string, timeoutMs: number): Promise<string> {
  if (!existsSync(resultsDir) || readdirSync(resultsDir).length === 0) {
    throw new MeshproofError(`there are no Allure results in ${resultsDir}.`, 'Run the conformance suites first: npm test');
  }
  const run = await execa(fromRoot('node_modules', '.bin', 'allure'), ['generate', resultsDir, '-o', outputDir], {
    cwd: fromRoot(),
    reject: false,
    all: true,
    timeout: timeoutMs,
  });
  const index = path.join(outputDir, 'index.html');
  if (run.exitCode !== 0 || !existsSync(index)) {
    throw new MeshproofError(`allure generate failed (exit code ${run.exitCode}):\n${(run.all ?? '').split('\n').slice(-10).join('\n')}`);
  }
  const html = readFileSync(index, 'utf8');
  writeFileSync(index, html.replace(/<script[^>]*googletagmanager[\s\S]*?<\/script>\s*(<script>[^<]*gtag[\s\S]*?<\/script>)?/g, ''));
  return index;
}
