import { Command } from 'commander';
import { configurationVariables, loadConfig } from '../config/config.ts';
import { featureCatalog } from '../config/features.ts';
import { timeoutNames } from '../config/timeouts.ts';
import { istioReleases, kindMatrixFor, loadSupportedVersions } from '../config/versions.ts';
import { exitOnUserError } from '../errors.ts';
import { formatDuration } from '../gate/poll.ts';
import { runPreflight } from '../provision/preflight.ts';

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
  .action(() => {
    for (const [name, description] of Object.entries(featureCatalog)) process.stdout.write(`${name.padEnd(18)} ${description}\n`);
  });

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

await program.parseAsync(process.argv);
