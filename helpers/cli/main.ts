import path from 'node:path';
import { Command } from 'commander';
import { configurationVariables, loadConfig, type MeshproofConfig } from '../config/config.ts';
import { featureCatalog, type CheckSpec } from '../config/features.ts';
import { plannedRequests } from '../judge/rates.ts';
import { timeoutNames } from '../config/timeouts.ts';
import { istioReleases, kindMatrixFor, loadSupportedVersions } from '../config/versions.ts';
import { exitOnUserError, MeshproofError } from '../errors.ts';
import { formatDuration } from '../gate/poll.ts';
import { runPreflight } from '../provision/preflight.ts';
import { cleanup, type CleanupScope } from '../provision/cleanup.ts';
import { clusterAccess, openClusterRunner } from '../provision/cluster.ts';
import { renderPlan } from '../provision/plan-text.ts';
import { HostForwards, ingressUrlOnHost, provisionStack } from '../provision/provision.ts';
import { monitorSummary, monitorTest } from '../provision/monitor.ts';
import { buildStackPlan } from '../provision/stack.ts';
import type { ClusterRunner } from '../provision/runner.ts';
import { PhaseTracker, stderrLog } from '../report/progress.ts';
import { judgeRecording } from '../judge/rejudge.ts';
import { strictProblems } from '../judge/strict.ts';
import { applyLabFeature, resetLab } from '../apply/lab.ts';
import { renderFeatureConfigs, validateFeatureConfigs } from '../apply/feature-config.ts';
import { InvalidRecordingError, readRecording, recordingJsonSchema, type Recording } from '../record/recording.ts';
import { generateAllureReport } from '../report/allure-report.ts';

// `meshproof … | head` closes the pipe early: that is the reader being done, not an error to print.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

/** A command that acts on the cluster: config, the pinned tools wired to the configured context, then `body`. */
function onCluster(body: (config: MeshproofConfig, runner: ClusterRunner, phases: PhaseTracker) => Promise<void>) {
  return () =>
    exitOnUserError(async () => {
      const config = loadConfig();
      const phases = new PhaseTracker(stderrLog);
      const runner = await openClusterRunner(config, clusterAccess(config), (line) => phases.note(line));
      await body(config, runner, phases);
    });
}

const program = new Command('meshproof')
  .description(
    'Proves that an Istio service mesh does what its configuration says.\n' +
      'Run the conformance suites with `npm test`; these commands are the lab around them.',
  )
  .showHelpAfterError();

program
  .command('config')
  .description('print the resolved configuration (defaults, meshproof.config.yaml, MESHPROOF_* variables)')
  .action(() =>
    exitOnUserError(() => {
      const config = loadConfig();
      const shown = {
        ...config,
        istio: config.istio.version,
        kubernetes: config.kubernetes ? `${config.kubernetes.version} (${config.kubernetes.nodeImage})` : '(the cluster decides)',
        timeouts: Object.fromEntries(timeoutNames.map((n) => [n, formatDuration(config.timeouts[n])])),
      };
      process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    }),
  );

program
  .command('env')
  .description('list every MESHPROOF_* variable and the setting it sets')
  .action(() => {
    for (const { env, key } of configurationVariables()) process.stdout.write(`${env.padEnd(40)} ${key}\n`);
  });

program
  .command('versions')
  .description('list the supported Istio releases and the Kubernetes versions (kind node images) each is tested on')
  .action(() =>
    exitOnUserError(() => {
      const data = loadSupportedVersions();
      for (const istio of istioReleases(data)) {
        process.stdout.write(`Istio ${istio.version}: supports Kubernetes ${istio.kubernetes.join(', ')}\n`);
        for (const k of kindMatrixFor(data, istio)) process.stdout.write(`  kind node ${k.nodeImage}\n`);
      }
    }),
  );

program
  .command('features')
  .description('list the features meshproof proves (the names MESHPROOF_SKIP and MESHPROOF_ONLY take)')
  .option('--checks', 'also list every check of each feature: its id, judge, requests and what it expects')
  .action((options: { checks?: boolean }) =>
    exitOnUserError(() => {
      const alpha = options.checks ? loadConfig().alpha : 0;
      for (const [name, spec] of Object.entries(featureCatalog)) {
        process.stdout.write(`${name.padEnd(18)} ${spec.description}\n`);
        if (!options.checks) continue;
        for (const [id, check] of Object.entries(spec.checks as Record<string, CheckSpec>)) {
          const requests = 'requests' in check && check.judge !== 'counter-ratio' ? `, ${plannedRequests(check.requests, alpha, 'expectedRate' in check ? check.expectedRate : undefined)} requests` : '';
          const concurrency = 'concurrency' in check ? `, ${check.concurrency} at a time` : '';
          const control = check.control ? ` [control ${check.control}]` : '';
          process.stdout.write(`  ${`${name}/${id}`.padEnd(36)} ${check.judge}${requests}${concurrency}${control}: ${check.title}\n`);
        }
      }
    }),
  );

program
  .command('preflight')
  .description('check, within seconds, that a cluster can be had (Docker for kind, or the existing context)')
  .action(() =>
    exitOnUserError(async () => {
      const config = loadConfig();
      const result = await runPreflight(config);
      if (result.engine) process.stdout.write(`${result.engine.name} ${result.engine.version} answers; kind can create the cluster.\n`);
      if (result.cluster) process.stdout.write(`context ${result.cluster.context} answers: Kubernetes ${result.cluster.version} at ${result.cluster.server}.\n`);
      for (const warning of result.warnings) process.stdout.write(`warning: ${warning}\n`);
    }),
  );

program
  .command('plan')
  .description('print, without a cluster, everything a run would do: kind config, helm commands and values, manifests, waits, suites')
  .option('--lab', 'plan `meshproof deploy` (traffic generator left running) instead of a conformance run')
  .action((options: { lab?: boolean }) =>
    exitOnUserError(() => {
      const config = loadConfig();
      // Building the plan reads and validates every fixture: an invalid object fails here, naming file and field.
      const plan = buildStackPlan(config);
      // The feature files too: a suite would apply them mid-run, which is too late to learn one is broken.
      const features = validateFeatureConfigs();
      process.stdout.write(renderPlan(config, plan, { quietTrafficGenerator: !options.lab }));
      process.stdout.write(renderFeatureConfigs(features));
    }),
  );

program
  .command('deploy')
  .description('build the lab (kind, Istio, addons, Bookinfo, live traffic) for exploring by hand; reuses what is already there')
  .action(() =>
    exitOnUserError(async () => {
      const config = loadConfig();
      const phases = new PhaseTracker(stderrLog);
      await phases.run('preflight', async () => {
        for (const warning of (await runPreflight(config)).warnings) phases.note(`warning: ${warning}`);
      });
      const access = clusterAccess(config);
      const runner = await openClusterRunner(config, access, (line) => phases.note(line));
      const stack = await provisionStack({ config, runner, phases, quietTrafficGenerator: false });
      await stack.close();
      const ctx = `--context ${access.context}`;
      process.stdout.write(
        [
          '',
          `The lab is up (Istio ${stack.istioVersion}, Kubernetes ${stack.kubernetesVersion}), in ${phases.total()}.`,
          config.target === 'kind'
            ? `Bookinfo:   ${stack.ingressUrl}/productpage`
            : `Bookinfo:   kubectl ${ctx} port-forward -n istio-system svc/istio-ingressgateway 8080:80   then http://localhost:8080/productpage`,
          `Kiali:      kubectl ${ctx} port-forward -n istio-system svc/kiali 20001:20001   then http://localhost:20001/kiali`,
          `Grafana:    kubectl ${ctx} port-forward -n istio-system svc/grafana 3000:3000    then http://localhost:3000`,
          `Jaeger:     kubectl ${ctx} port-forward -n istio-system svc/tracing 16686:80     then http://localhost:16686/jaeger`,
          `Prometheus: kubectl ${ctx} port-forward -n istio-system svc/prometheus 9090:9090 then http://localhost:9090`,
          '',
        ].join('\n'),
      );
    }),
  );

program
  .command('cleanup')
  .description('remove the lab: namespaces, addon and Istio Helm releases, Istio CRDs (or only the app, or the whole kind cluster)')
  .option('--app-only', 'remove only the bookinfo and traffic-gen namespaces; keep Istio and the addons')
  .option('--delete-cluster', 'delete the whole kind cluster')
  .action((options: { appOnly?: boolean; deleteCluster?: boolean }) => {
    const scope: CleanupScope = options.deleteCluster ? 'cluster' : options.appOnly ? 'app' : 'lab';
    return onCluster(async (config, runner, phases) => {
      if (scope === 'cluster' && config.target !== 'kind') {
        throw new MeshproofError('--delete-cluster deletes a kind cluster; MESHPROOF_TARGET is existing.', 'Use `meshproof cleanup` to remove the lab from that cluster.');
      }
      await cleanup(scope, config, runner, phases);
      phases.note(`cleanup done in ${phases.total()}`);
    })();
  });

program
  .command('apply-feature')
  .description('apply one of the lab\'s feature demos as written (e.g. traffic-shifting, fault-injection, mtls-strict)')
  .argument('<name>', 'a demo (fixtures/features/NN-<name>.yaml) or a feature name (`meshproof features`)')
  .action((name: string) =>
    onCluster(async (config, runner) => {
      const objects = await applyLabFeature(runner, config, name);
      process.stdout.write(`applied ${objects.map(({ object, file }) => `${object.kind} ${object.metadata.namespace}/${object.metadata.name} (${file})`).join(', ')}\n`);
      process.stdout.write('Istio pushes it to the sidecars within seconds; `npx meshproof reset` restores the baseline routing.\n');
    })(),
  );

program
  .command('reset')
  .description('remove every feature demo and restore the baseline routing (gateway and DestinationRules)')
  .action(
    onCluster(async (config, runner) => {
      await resetLab(runner, config);
      process.stdout.write('baseline routing restored: no feature VirtualServices, PeerAuthentication or DestinationRule changes remain.\n');
    }),
  );

program
  .command('monitor')
  .description('the lab at a glance: `summary` (pods, sidecars, releases, traffic generator) or `test` (each component answers)')
  .argument('[view]', 'summary or test', 'summary')
  .action((view: string) => {
    if (view !== 'summary' && view !== 'test') {
      return exitOnUserError(() => {
        throw new MeshproofError(`monitor has no view "${view}".`, 'Use `meshproof monitor summary` or `meshproof monitor test`.');
      });
    }
    return onCluster(async (config, runner) => {
      if (view === 'summary') {
        process.stdout.write(await monitorSummary(runner, config));
        return;
      }
      const forwards = new HostForwards(runner, config.timeouts.preflight);
      try {
        const urls = { ingress: await forwards.ingress(ingressUrlOnHost(buildStackPlan(config))), ...(await forwards.addons()) };
        const checks = await monitorTest(urls, config);
        for (const check of checks) process.stdout.write(`${check.ok ? '✓' : '✗'} ${check.component.padEnd(32)} ${check.seen}\n`);
        if (checks.some((c) => !c.ok)) process.exitCode = 1;
      } finally {
        await forwards.close();
      }
    })();
  });

program
  .command('judge')
  .description('judge recordings again, offline: prints each verdict; exit code 0 all pass, 1 a verdict fails, 2 a file is invalid')
  .argument('<recording...>', 'recording files (JSON, docs/recordings.md)')
  .option('--strict', "hold each recording to its check's expectation and planned sample size in the catalogue (at the configured α)")
  .action((files: string[], options: { strict?: boolean }) =>
    exitOnUserError(() => {
      const alpha = options.strict ? loadConfig().alpha : undefined;
      const tally = { passed: 0, failed: 0, invalid: 0 };
      const invalid = (file: string, problems: string[]) => {
        tally.invalid += 1;
        process.stdout.write(`INVALID  ${file}\n      ${problems.join('\n      ')}\n`);
      };
      for (const file of files) {
        let recording: Recording;
        try {
          recording = readRecording(file);
        } catch (error) {
          if (!(error instanceof InvalidRecordingError)) throw error;
          invalid(file, error.problems);
          continue;
        }
        const problems = alpha === undefined ? [] : strictProblems(recording, alpha);
        if (problems.length > 0) {
          invalid(file, problems.map((p) => `--strict: ${p}`));
          continue;
        }
        const verdict = judgeRecording(recording);
        tally[verdict.pass ? 'passed' : 'failed'] += 1;
        const changed = recording.verdict && recording.verdict.pass !== verdict.pass ? ` (recorded as ${recording.verdict.pass ? 'PASS' : 'FAIL'})` : '';
        process.stdout.write(`${verdict.pass ? 'PASS' : 'FAIL'}  ${recording.feature}: ${recording.title}${changed}\n      ${verdict.sentence}\n      ${file}\n`);
      }
      process.stdout.write(`${tally.passed} passed, ${tally.failed} failed, ${tally.invalid} invalid\n`);
      process.exitCode = tally.invalid > 0 ? 2 : tally.failed > 0 ? 1 : 0;
    }),
  );

program
  .command('report')
  .description('generate the Allure HTML report of the last run (reports/allure-report/index.html)')
  .action(() =>
    exitOnUserError(async () => {
      const config = loadConfig();
      const index = await generateAllureReport(path.join(config.reportsDir, 'allure-results'), path.join(config.reportsDir, 'allure-report'), config.timeouts.apply);
      process.stdout.write(`report: ${index}\nserve it with: npx allure open ${path.dirname(index)}\n`);
    }),
  );

program
  .command('recording-schema')
  .description('print the JSON Schema of the recording format (docs/recording.schema.json is this output)')
  .action(() => {
    process.stdout.write(`${JSON.stringify(recordingJsonSchema(), null, 2)}\n`);
  });

await program.parseAsync(process.argv);
