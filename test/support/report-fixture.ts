import { symlinkSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { generateRunReport } from '../../helpers/report/allure-report.ts';
import { runNestedSuites, type NestedRun } from './nested-run.ts';

/**
 * A conformance run with every kind of ending a report must show, made by the real mechanics (featureTest,
 * mustPass, finishRun, the Allure reporter) from the shipped sample recordings: features that pass (with a chart
 * of every verdict kind between them), one that fails, one skipped by MESHPROOF_SKIP and six that never ran.
 */
const samples = fromRoot('docs', 'recordings');
const verdicts = path.join(samples, 'verdicts');

function suite(feature: string, title: string, files: string[], declaration = `{ feature: '${feature}', proveLive: async () => 'the stand-in ingress answered 418 from the probe route' }`): string {
  return [
    `import { readFileSync } from 'node:fs';`,
    `import { featureTest, mustPass } from ${JSON.stringify(fromRoot('helpers', 'suite', 'feature-test.ts'))};`,
    // The samples' observations, as this run's recordings.
    `const recorded = (file, runId) => ({ ...JSON.parse(readFileSync(file, 'utf8')), runId });`,
    `const test = featureTest(${declaration});`,
    `test(${JSON.stringify(title)}, async ({ run }) => {`,
    `  await mustPass(run, { recordings: ${JSON.stringify(files)}.map((file) => recorded(file, run.runId)) });`,
    `});`,
  ].join('\n');
}

export const reportSuites: Record<string, string> = {
  // The canary proves itself through the ingress, as the real suite does: the stand-in answers its probe.
  '10-traffic-shifting.test.ts': suite('traffic-shifting', '80 % of traffic to reviews v1, 10 % to v2, 10 % to v3', [path.join(samples, 'healthy-weighted-split.json')], `{ feature: 'traffic-shifting' }`),
  '30-fault-delay.test.ts': suite('fault-delay', "jason's calls to ratings are delayed by 7 s; nobody else's are", [path.join(samples, 'healthy-latency.json'), path.join(verdicts, 'fault-delay.others.broken.json')]),
  '31-fault-abort.test.ts': suite('fault-abort', '10 % of calls to ratings are answered HTTP 500', [path.join(samples, 'healthy-rate.json'), path.join(verdicts, 'fault-abort.jason.healthy.json')]),
  '40-circuit-breaker.test.ts': suite('circuit-breaker', 'one at a time every request is served; one 5xx ejects httpbin', [
    path.join(verdicts, 'circuit-breaker.sequential.healthy.json'),
    path.join(verdicts, 'circuit-breaker.ejection.healthy.json'),
  ]),
  '50-timeouts-retries.test.ts': suite('timeouts-retries', 'each request to httpbin /status/503 is tried 1 + 2 times', [
    path.join(verdicts, 'timeouts-retries.no-retries-before.healthy.json'),
    path.join(verdicts, 'timeouts-retries.retries.healthy.json'),
  ]),
  '60-mirroring.test.ts': suite('mirroring', 'reviews v3 receives a copy of each request', []),
  '70-mtls-strict.test.ts': suite('mtls-strict', 'plaintext from outside the mesh is refused', [
    path.join(verdicts, 'mtls-strict.plaintext-before.healthy.json'),
    path.join(verdicts, 'mtls-strict.plaintext-refused.healthy.json'),
    path.join(verdicts, 'mtls-strict.plaintext-after.healthy.json'),
  ]),
  '80-prometheus.test.ts': suite('prometheus', 'Istio metrics count the requests', [path.join(samples, 'healthy-metric-increase.json')]),
};

/** Answers every config-live probe from the probe route (418), as a gateway with the new configuration does. */
export async function startIngressStandIn(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.statusCode = String(req.headers['user-agent']).startsWith('meshproof-probe/') ? 418 : 200;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The nested run and its single-file report. */
export async function makeReport(dir: string, ingressUrl: string): Promise<{ run: NestedRun; index: string }> {
  // The nested vitest resolves its reporter from the folder it runs in.
  symlinkSync(fromRoot('node_modules'), path.join(dir, 'node_modules'));
  const run = await runNestedSuites({ dir, suites: reportSuites, ingressUrl, env: { MESHPROOF_SKIP: 'mirroring=the lab has no v3 capacity today' } });
  const index = await generateRunReport(run.reportsDir, 120_000);
  return { run, index };
}
