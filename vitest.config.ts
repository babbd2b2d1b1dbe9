import { defineConfig } from 'vitest/config';
import { loadConfig } from './helpers/config/config.ts';
import { listSuites } from './helpers/config/suites.ts';
import { DurationSequencer } from './test/support/sequencer.ts';

/**
 * Two projects. `conformance` runs the feature suites against a real mesh: global-setup.ts provisions it
 * and the files run one at a time because they share that one mesh. `self` is the offline self-test suite
 * (real Prometheus, real sockets, real Allure), runnable anywhere.
 */
// Reporters are a root option in vitest; the Allure results belong to conformance runs only, so a run of
// the self-tests alone (`--project self`) keeps the plain reporter.
const selfTestsOnly = process.argv.some((arg, i) => arg === 'self' && process.argv[i - 1] === '--project');

/**
 * The suite files a conformance run loads: the features MESHPROOF_SKIP and MESHPROOF_ONLY leave out are not even
 * imported (the summary and the report still list them as skipped, with the reason). A configuration that does
 * not load is global setup's to report, with its message and exit code 2: every file is included then.
 */
function conformanceSuites(): string[] {
  try {
    return listSuites(loadConfig())
      .filter((suite) => suite.skipReason === undefined)
      .map((suite) => suite.file);
  } catch {
    return ['suites/**/*.test.ts'];
  }
}

export default defineConfig({
  test: {
    // The longest self-tests start first, from test/self-test-durations.json when vitest has no durations of its own.
    sequence: { sequencer: DurationSequencer },
    reporters: selfTestsOnly
      ? ['default']
      : ['default', ['allure-vitest/reporter', { resultsDir: `${process.env.MESHPROOF_REPORTS_DIR ?? 'reports'}/allure-results` }]],
    projects: [
      {
        test: {
          name: 'conformance',
          include: selfTestsOnly ? ['suites/**/*.test.ts'] : conformanceSuites(),
          globalSetup: ['./global-setup.ts'],
          fileParallelism: false,
          sequence: { concurrent: false },
          // Per-test budgets come from the timeouts object inside each suite; this is only the outer bound.
          testTimeout: 900_000,
          hookTimeout: 900_000,
        },
      },
      {
        test: {
          name: 'self',
          include: ['test/**/*.test.ts'],
          // Most self-tests wait on sockets, Prometheus scrapes and injected delays (a fault delay really takes 7 s),
          // not on the CPU: ten files at once keep the run short on a 2-core machine. Measured here, two runs each:
          // 8 workers 86 and 88 s, 10 workers 80 and 86 s, 12 workers 80 and 83 s, for about the same CPU time.
          maxWorkers: 10,
          isolate: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
