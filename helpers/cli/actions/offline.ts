import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderFeatureConfigs, validateFeatureConfigs } from '../../apply/feature-config.ts';
import { loadConfig } from '../../config/config.ts';
import { renderPlan } from '../../provision/plan-text.ts';
import { buildStackPlan } from '../../provision/stack.ts';
import { generateRunReport } from '../../report/allure-report.ts';

/** The commands that need no cluster: plan and report. */

export function printPlan(options: { lab?: boolean }): void {
  const config = loadConfig();
  // Building the plan reads and validates every fixture: an invalid object fails here, naming file and field.
  const plan = buildStackPlan(config);
  // The feature files too: a suite would apply them mid-run, which is too late to learn one is broken.
  const features = validateFeatureConfigs();
  process.stdout.write(renderPlan(config, plan, { quietTrafficGenerator: !options.lab }));
  process.stdout.write(renderFeatureConfigs(features));
}

/** `npm run report`: the single-file report of the last run (helpers/report/allure-report.ts generateRunReport). */
export async function buildReport(): Promise<void> {
  const config = loadConfig();
  const index = await generateRunReport(config.reportsDir, config.timeouts.reportGenerate);
  process.stdout.write(`report: ${index}\nopen it in a browser: ${pathToFileURL(index).href}\n`);
}
