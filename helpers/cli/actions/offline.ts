import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderFeatureConfigs, validateFeatureConfigs } from '../../apply/feature-config.ts';
import { loadConfig } from '../../config/config.ts';
import { renderPlan } from '../../provision/plan-text.ts';
import { buildStackPlan, validateStackPlan } from '../../provision/stack.ts';
import { generateRunReport } from '../../report/allure-report.ts';

/** The commands that need no cluster: plan (with --analyze, istioctl on the files alone) and report. */

export async function printPlan(options: { lab?: boolean; analyze?: boolean }): Promise<void> {
  const config = loadConfig();
  // Every fixture read and validated: an invalid object fails here, naming file and field.
  const plan = buildStackPlan(config);
  await validateStackPlan(plan);
  // The feature files too: a suite would apply them mid-run, which is too late to learn one is broken.
  const features = await validateFeatureConfigs();
  process.stdout.write(renderPlan(config, plan, { quietTrafficGenerator: !options.lab }));
  process.stdout.write(renderFeatureConfigs(features));
  if (!options.analyze) return;
  // Loaded only when asked for: a plain `meshproof plan` stays quick to start (no process or archive libraries).
  const { analyzeFeatureFiles } = await import('./analyze.ts');
  const verdicts = await analyzeFeatureFiles(config, (line) => process.stderr.write(`${line}\n`));
  const lines = ['', `istioctl ${config.istio.version} analyze --use-kube=false, each feature's files on the lab's workloads and baseline routing:`];
  for (const { feature, verdict } of verdicts) {
    lines.push(`   ${verdict.pass ? '✓' : '✗'} ${feature}: ${verdict.sentence}`);
    for (const warning of verdict.warningLines) lines.push(`       warning: ${warning}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  // Exit codes mean one thing each: 1, a verdict failed.
  if (verdicts.some(({ verdict }) => !verdict.pass)) process.exitCode = 1;
}

/** `npm run report`: the single-file report of the last run (helpers/report/allure-report.ts generateRunReport). */
export async function buildReport(): Promise<void> {
  const config = loadConfig();
  const index = await generateRunReport(config.reportsDir, config.timeouts.reportGenerate);
  process.stdout.write(`report: ${index}\nopen it in a browser: ${pathToFileURL(index).href}\n`);
}
