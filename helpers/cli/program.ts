import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { exitOnUserError } from '../errors.ts';

/**
 * The `meshproof` command's declaration: its commands, options and help. Each action loads its own modules when it
 * runs, so `--help` and the commands that only read meshproof's data start in a fraction of a second instead of
 * loading the Kubernetes client, the Allure generator and every schema first (`npm run bench` measures it). Apart
 * from main.ts, which runs it, so the self-tests can read every command's help without starting a process each.
 */

// Two folders up from this file, three from its compiled copy in dist/ (bin/meshproof.js).
const packageJson = [new URL('../../package.json', import.meta.url), new URL('../../../package.json', import.meta.url)].find((url) => existsSync(url))!;
const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;

/** An action whose implementation is loaded on demand, its user errors printed as messages (exitOnUserError). */
function lazy<A extends unknown[]>(load: () => Promise<(...args: A) => unknown>) {
  return async (...args: A): Promise<void> => {
    await exitOnUserError(async () => (await load())(...args));
  };
}

const inspect = () => import('./actions/inspect.ts');
const judge = () => import('./actions/judge.ts');
const offline = () => import('./actions/offline.ts');
const cluster = () => import('./actions/cluster.ts');
const chart = () => import('./actions/chart.ts');
const monitor = () => import('./actions/monitor.ts');

export function meshproofProgram(): Command {
  const program = new Command('meshproof')
    .description(
      'Proves that an Istio service mesh does what its configuration says.\n' +
        'Run the conformance suites with `npm test`; these commands are the lab around them.',
    )
    .version(version, '-V, --version', 'print meshproof’s version')
    .showHelpAfterError()
    // Exit codes mean one thing each: a command line that cannot be parsed (an unknown option, options that
    // contradict each other, a missing argument) is invalid input, 2, like an invalid setting. Help and --version
    // stay 0. Set before the commands are declared, which inherit it.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

  program
    .command('config')
    .description('print the resolved configuration (defaults, meshproof.config.yaml, MESHPROOF_* variables)')
    .action(lazy(async () => (await inspect()).printConfig));

  program
    .command('env')
    .description('list every MESHPROOF_* variable and the setting it sets')
    .action(lazy(async () => (await inspect()).printEnv));

  program
    .command('versions')
    .description('list the supported Istio releases and the Kubernetes versions (kind node images) each is tested on')
    .option('--check', 'ask the publishers (with a short time limit) whether newer patches or minors are out, or a pinned Istio is past its end of life')
    .action(lazy(async () => (await inspect()).printVersions));

  program
    .command('features')
    .description('list the features meshproof proves (the names MESHPROOF_SKIP and MESHPROOF_ONLY take)')
    .option('--checks', 'also list every check of each feature: its id, judge, requests and what it expects')
    .action(lazy(async () => (await inspect()).printFeatures));

  program
    .command('preflight')
    .description('check, within seconds, that a cluster can be had (Docker for kind, or the existing context)')
    .action(lazy(async () => (await cluster()).preflight));

  program
    .command('plan')
    .description('print, without a cluster, everything a run would do: kind config, helm commands and values, manifests, waits, suites')
    .option('--lab', 'plan `meshproof deploy` (traffic generator left running) instead of a conformance run')
    .option('--analyze', "also run `istioctl analyze --use-kube=false` on every feature's files (with the lab's workloads and baseline): exit code 1 on an Error")
    .action(lazy(async () => (await offline()).printPlan));

  program
    .command('deploy')
    .description('build the lab (kind, Istio, addons, Bookinfo, live traffic) for exploring by hand; reuses what is already there')
    .action(lazy(async () => (await cluster()).deploy));

  program
    .command('cleanup')
    .description('remove the lab: namespaces, addon and Istio Helm releases, Istio CRDs (or only the app, only the addons, or the whole kind cluster)')
    .addOption(new Option('--app-only', 'remove only the bookinfo and traffic-gen namespaces; keep Istio and the addons').conflicts(['addonsOnly', 'deleteCluster']))
    .addOption(new Option('--addons-only', 'remove only the observability addons (Prometheus, Grafana, Jaeger, Kiali); keep Istio and the app').conflicts('deleteCluster'))
    .option('--delete-cluster', 'delete the whole kind cluster')
    .action(lazy(async () => (await cluster()).cleanupLab));

  program
    .command('apply-feature')
    .description("apply one of the lab's feature demos as written (e.g. traffic-shifting, fault-injection, mtls-strict)")
    .argument('<name>', 'a demo (fixtures/features/NN-<name>.yaml) or a feature name (`meshproof features`)')
    .action(lazy(async () => (await cluster()).applyFeature));

  program
    .command('reset')
    .description('remove every feature demo and restore the baseline routing (gateway and DestinationRules)')
    .action(lazy(async () => (await cluster()).reset));

  program
    .command('monitor')
    .description(
      'the lab at a glance: `summary` (pods, sidecars, releases, traffic generator), `test` (each component answers) or `full` ' +
        '(the detailed report); without a mode, a menu of them in a terminal, the summary otherwise',
    )
    .argument('[mode]', 'summary, test or full')
    .action(lazy(async () => (await monitor()).monitor));

  program
    .command('judge')
    .description('judge recordings again, offline: prints each verdict; exit code 0 all pass, 1 a verdict fails, 2 a file is invalid')
    .argument('<recording...>', 'recording files (JSON, docs/recordings.md)')
    .option('--strict', "hold each recording to its check's expectation and planned sample size in the catalogue (at the configured α)")
    .action(lazy(async () => (await judge()).judgeFiles));

  program
    .command('chart')
    .description("draw a verdict's chart from its recording, as the report shows it (SVG); several recordings of one feature: their joint chart")
    .argument('<recording...>', 'recording files (JSON, docs/recordings.md)')
    .option('-o, --output <file.svg>', 'write the SVG here (default: standard output)')
    .action(lazy(async () => (await chart()).chartFiles));

  program
    .command('report')
    .description('generate the Allure HTML report of the last run (reports/allure-report/index.html)')
    .action(lazy(async () => (await offline()).buildReport));

  program
    .command('recording-schema')
    .description('print the JSON Schema of the recording format (docs/recording.schema.json is this output)')
    .action(lazy(async () => (await judge()).printRecordingSchema));

  return program;
}
