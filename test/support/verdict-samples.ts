/**
 * Makes the per-verdict sample recordings in docs/recordings/verdicts/: for every verdict the sound-verdicts work
 * added (the controls, the mTLS outcome, jason's abort rate, the ejection, the retries) and every verdict of the
 * features added since (the rate limit, the A/B test, Kiali as a second witness), one recording of the healthy simulated mesh and one of the
 * mesh broken the way that verdict exists to catch. Each is the real output of the suite's step
 * (helpers/suite/steps/) against test/support/mesh-sim and a real Prometheus, with the files the suites apply: the
 * healthy ejection sample really waited the lab's 3 minutes, the rate limit's its 60 s bucket. Istio's analysis is
 * the exception: the simulated mesh has no istioctl, so its samples are made from what istioctl prints (below).
 * Run: npx tsx test/support/verdict-samples.ts   (about fifteen minutes)
 *      npx tsx test/support/verdict-samples.ts rate-limiting/paced,ab-testing/split   (only those checks)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { meshproofVersion } from '../../helpers/config/version.ts';
import type { Recording } from '../../helpers/record/recording.ts';
import { sendFromPod } from '../../helpers/observe/mesh-client.ts';
import { sendTraffic } from '../../helpers/observe/traffic.ts';
import { allOf, type Observed } from '../../helpers/suite/step-env.ts';
import { observeAbortRate, observeDelayForJasonOnly, observeJasonsTrace } from '../../helpers/suite/steps/faults.ts';
import { observePlaintextServedAfter, observePlaintextServedBefore, observeStrictMtls } from '../../helpers/suite/steps/mtls.ts';
import { observeBurstServedAfter, observeRateLimit } from '../../helpers/suite/steps/rate-limiting.ts';
import { observeCircuitBreaker, observeEjection, observeNoRetriesBefore, observeRetries } from '../../helpers/suite/steps/resilience.ts';
import { observeAbSplit, observeCanarySplit } from '../../helpers/suite/steps/routing.ts';
import { observeKialiErrorRate, observeKialiMtls, observeKialiShares, observeKialiSidecars, observeKialiValidations } from '../../helpers/suite/steps/kiali.ts';
import { parseAnalysis } from '../../helpers/judge/analysis.ts';
import { analysisRecording } from '../../helpers/suite/steps/analysis.ts';
import type { StepEnv } from '../../helpers/suite/step-env.ts';
import { analysisSamples, analyzeJson } from './istioctl-outputs.ts';
import type { Breakage } from './mesh-sim/mesh.ts';
import { startSimHarness } from './mesh-sim/harness.ts';

/** The harness, and the configuration last applied (the ejection step reads its DestinationRule). */
type Harness = Awaited<ReturnType<typeof startSimHarness>> & { lastApplied?: Awaited<ReturnType<Awaited<ReturnType<typeof startSimHarness>>['apply']>> };

interface Sample {
  check: string;
  /**
   * Runs the step on the mesh as it is and returns what it observed. Samples that share this function (and then
   * their files) share one healthy run: a step makes several checks' recordings at once.
   */
  observe: (h: Harness) => Promise<Observed>;
  /** Files applied first (none: the baseline). */
  files?: (h: Harness) => string[];
  broken: { breakage?: Breakage; files?: (h: Harness) => string[]; why: string };
}

const strict = ['fixtures/features/07-mtls-strict.yaml'];
const delay = ['fixtures/features/04-request-routing.yaml', 'fixtures/features/02-fault-injection.yaml'];
const breaker = ['fixtures/features/03-circuit-breaker.yaml', 'fixtures/checks/httpbin-outlier-detection.yaml'];
const retries = ['fixtures/features/05-timeout-retry.yaml', 'fixtures/features/02-fault-injection.yaml', 'fixtures/checks/httpbin-retries.yaml'];
const abortOnlyOthers = (h: Harness) => [
  h.variant('fixtures/features/02-fault-injection.yaml', [['fixedDelay: 7s\n        abort:\n          percentage:\n            value: 10\n          httpStatus: 500\n', 'fixedDelay: 7s\n']]),
];

const observeTrace = (h: Harness) => observeJasonsTrace(h.env);

const rateLimit = ['fixtures/features/08-rate-limiting.yaml'];
const observeRateLimited = (h: Harness) => observeRateLimit(h.env, h.lastApplied!);
const rateLimitWithoutHeader = (h: Harness) => [
  h.variant(rateLimit[0]!, [['              response_headers_to_add:\n                - append_action: OVERWRITE_IF_EXISTS_OR_ADD\n                  header:\n                    key: x-local-rate-limit\n                    value: "true"\n', '']]),
];
const abTest = ['fixtures/features/09-ab-testing.yaml'];
const observeAbTest = (h: Harness) => observeAbSplit(h.env);

// Kiali as a second witness: each feature's own step, then Kiali asked while the feature is applied.
const canary = ['fixtures/features/01-traffic-shifting.yaml'];
const observeCanaryInKiali = async (h: Harness) => {
  const since = Date.now();
  const split = await observeCanarySplit(h.env);
  return allOf(split, await observeKialiShares(h.env, split, since), await observeKialiValidations(h.env, 'traffic-shifting'));
};
// A route to a Service that does not exist: Kiali's KIA1101, an error.
const canaryToNoHost = (h: Harness) => [h.variant(canary[0]!, [['host: reviews\n            subset: v3', 'host: reviews-canary\n            subset: v3']])];
const observeAbortInKiali = async (h: Harness) => {
  const aborts = await observeAbortRate(h.env);
  return allOf(aborts, await observeKialiErrorRate(h.env));
};
const observeStrictInKiali = async (h: Harness) => {
  const since = Date.now();
  const observed = await observeStrictMtls(h.env);
  return allOf(observed, await observeKialiMtls(h.env, since), await observeKialiSidecars(h.env));
};

const samples: Sample[] = [
  { check: 'mtls-strict/plaintext-before', observe: (h) => observePlaintextServedBefore(h.env), broken: { breakage: { kind: 'legacy-client', fails: 'refused' }, why: 'the client outside the mesh cannot connect at all' } },
  { check: 'mtls-strict/plaintext-refused', files: () => strict, observe: (h) => observeStrictMtls(h.env), broken: { breakage: { kind: 'plaintext-accepted' }, why: 'STRICT does not hold' } },
  { check: 'mtls-strict/plaintext-after', observe: (h) => observePlaintextServedAfter(h.envWith({ configLive: 1_000 })), broken: { files: () => strict, why: 'the baseline was not restored' } },
  { check: 'fault-delay/others', files: () => delay, observe: (h) => observeDelayForJasonOnly(h.env), broken: { breakage: { kind: 'end-user-match-ignored' }, why: 'the delay reaches everyone' } },
  { check: 'fault-delay/trace', files: () => delay, observe: observeTrace, broken: { breakage: { kind: 'productpage-waits' }, why: 'productpage waits the full delay for reviews' } },
  { check: 'fault-delay/trace-others', files: () => delay, observe: observeTrace, broken: { breakage: { kind: 'end-user-match-ignored' }, why: 'the delay reaches everyone' } },
  { check: 'fault-abort/jason', files: () => ['fixtures/features/02-fault-injection.yaml'], observe: (h) => observeAbortRate(h.env), broken: { files: abortOnlyOthers, why: "the file aborts only everyone else's calls" } },
  { check: 'circuit-breaker/sequential', files: () => breaker, observe: (h) => observeCircuitBreaker(h.env), broken: { breakage: { kind: 'refuse-everything' }, why: 'the breaker refuses even one request at a time' } },
  { check: 'circuit-breaker/ejection', files: () => breaker, observe: (h) => observeEjection(h.envWith({ ejectionPoll: 2_000 }), h.lastApplied!), broken: { breakage: { kind: 'no-outlier-detection' }, why: 'nothing is ejected' } },
  { check: 'timeouts-retries/no-retries-before', observe: (h) => observeNoRetriesBefore(h.env), broken: { files: () => retries, why: 'the retry policy is still in place' } },
  { check: 'timeouts-retries/retries', files: () => retries, observe: (h) => observeRetries(h.env), broken: { breakage: { kind: 'no-retries' }, why: 'the mesh does not retry' } },
  { check: 'rate-limiting/burst', files: () => rateLimit, observe: observeRateLimited, broken: { files: rateLimitWithoutHeader, why: "the limiter's 429s lack the header the file names" } },
  { check: 'rate-limiting/burst-served', files: () => rateLimit, observe: observeRateLimited, broken: { breakage: { kind: 'rate-limit-ignored' }, why: 'the sidecar does not limit' } },
  { check: 'rate-limiting/paced', files: () => rateLimit, observe: observeRateLimited, broken: { breakage: { kind: 'bucket-never-refills' }, why: 'tokens never come back' } },
  { check: 'rate-limiting/burst-after', observe: (h) => observeBurstServedAfter(h.envWith({ configLive: 1_000 })), broken: { files: () => rateLimit, why: 'the baseline was not restored' } },
  { check: 'ab-testing/split', files: () => abTest, observe: observeAbTest, broken: { breakage: { kind: 'wrong-weights', weights: { v1: 65, v3: 35 } }, why: 'the mesh routes 65/35' } },
  { check: 'ab-testing/counted', files: () => abTest, observe: observeAbTest, broken: { breakage: { kind: 'silent-telemetry', workload: 'reviews-v1' }, why: "reviews-v1's sidecar reports nothing" } },
  { check: 'traffic-shifting/kiali-shares', files: () => canary, observe: observeCanaryInKiali, broken: { breakage: { kind: 'mislabelled', workload: 'reviews-v2', version: 'v3' }, why: "reviews-v2's pod is labelled v3" } },
  { check: 'traffic-shifting/kiali-validations', files: () => canary, observe: observeCanaryInKiali, broken: { files: canaryToNoHost, why: 'a route names a Service that does not exist' } },
  { check: 'fault-abort/kiali-errors', files: () => ['fixtures/features/02-fault-injection.yaml'], observe: observeAbortInKiali, broken: { breakage: { kind: 'no-abort' }, why: 'nothing is aborted' } },
  { check: 'mtls-strict/kiali-mtls', files: () => strict, observe: observeStrictInKiali, broken: { breakage: { kind: 'plaintext-accepted' }, why: 'plaintext is served under STRICT' } },
  { check: 'mtls-strict/kiali-sidecars', files: () => strict, observe: observeStrictInKiali, broken: { breakage: { kind: 'no-sidecar', workload: 'ratings-v1' }, why: 'ratings-v1 runs without its sidecar' } },
];

/**
 * Traffic on every Bookinfo edge before any sample, as the lab's setup (its warm-up) and traffic generator leave
 * it: Prometheus counts a series only from its first scrape, so a Kiali window must not be where its series are born.
 */
async function warmUp(h: Harness): Promise<void> {
  await sendTraffic({ baseUrl: h.env.ingressUrl, path: '/productpage', count: 40, concurrency: 4, deadlineMs: 60_000, requestTimeoutMs: 15_000 });
  await sendFromPod(h.env.meshClient, { url: h.env.meshUrls.productpage, count: 20, concurrency: 4, timeoutMs: 15_000 });
  await sendFromPod(h.env.meshClient, { url: h.env.meshUrls.ratings, count: 20, concurrency: 4, timeoutMs: 15_000 });
  await observePlaintextServedBefore(h.env);
  await h.env.prometheus.snapshotAfterScrape({ metric: 'istio_requests_total' }, { timeoutMs: 15_000, intervalMs: 200 });
}

async function observeOn(h: Harness, sample: Sample, files: string[] | undefined, breakage: Breakage | undefined): Promise<Observed> {
  if (files) h.lastApplied = await h.apply(files);
  if (breakage) h.sim.break(breakage);
  try {
    return await sample.observe(h);
  } finally {
    await h.restoreOutstanding();
  }
}

function recordingFor(sample: Sample, observed: Observed): Recording {
  const recording = observed.recordings.find((r) => r.check === sample.check);
  if (!recording) throw new Error(`${sample.check}: the step made no such recording (it made ${observed.recordings.map((r) => r.check).join(', ')})`);
  return { ...recording, runId: 'sample' };
}

const analysisCheck = 'traffic-shifting/istio-analysis';

/**
 * The recording step of the analysis after every apply (helpers/suite/steps/analysis.ts) on what istioctl 1.31
 * prints for bookinfo (test/support/istioctl-outputs.ts): with the canary as written, nothing (`[]`); with its v3
 * route sent to a subset v4 that no DestinationRule defines, IST0101, an Error.
 */
function makeAnalysisSamples(): Record<string, Recording> {
  const env = { runId: 'sample', versions: { meshproof: meshproofVersion, istio: '1.30.3', kubernetes: '1.36.4' } } as StepEnv;
  const command = 'istioctl analyze -n bookinfo -o json';
  const recording = (printed: string) => analysisRecording(env, 'traffic-shifting', parseAnalysis(command, printed));
  process.stderr.write(`${analysisCheck}: made (broken: a route to a subset no DestinationRule defines)\n`);
  return { 'traffic-shifting.istio-analysis.healthy': recording(analyzeJson([], 'v1.30')), 'traffic-shifting.istio-analysis.broken': recording(analyzeJson([analysisSamples.subsetNotFound], 'v1.30')) };
}

/** The samples of these checks (comma-separated), or of every check. */
export async function makeVerdictSamples(only?: string): Promise<Record<string, Recording>> {
  const wanted = only?.split(',').map((c) => c.trim());
  const unknown = wanted?.filter((c) => c !== analysisCheck && !samples.some((s) => s.check === c)) ?? [];
  if (unknown.length > 0) throw new Error(`no sample for ${unknown.join(', ')}; known: ${[...samples.map((s) => s.check), analysisCheck].join(', ')}`);
  const made: Record<string, Recording> = !wanted || wanted.includes(analysisCheck) ? makeAnalysisSamples() : {};
  if (wanted && !samples.some((s) => wanted.includes(s.check))) return made;
  const h: Harness = await startSimHarness({ seed: 21 });
  await warmUp(h);
  const healthyRuns = new Map<Sample['observe'], Observed>();
  try {
    for (const sample of samples.filter((s) => !wanted || wanted.includes(s.check))) {
      const name = sample.check.replace('/', '.');
      const healthy = healthyRuns.get(sample.observe) ?? (await observeOn(h, sample, sample.files?.(h), undefined));
      healthyRuns.set(sample.observe, healthy);
      made[`${name}.healthy`] = recordingFor(sample, healthy);
      made[`${name}.broken`] = recordingFor(sample, await observeOn(h, sample, sample.broken.files?.(h) ?? sample.files?.(h), sample.broken.breakage));
      process.stderr.write(`${sample.check}: made (broken: ${sample.broken.why})\n`);
    }
  } finally {
    await h.stop();
  }
  return made;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const dir = fromRoot('docs', 'recordings', 'verdicts');
  mkdirSync(dir, { recursive: true });
  for (const [name, rec] of Object.entries(await makeVerdictSamples(process.argv[2]))) {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, `${JSON.stringify(rec, null, 2)}\n`);
    process.stdout.write(`${rec.verdict!.pass ? 'PASS' : 'FAIL'} ${path.relative(fromRoot(), file)}\n     ${rec.verdict!.sentence.slice(0, 240)}\n`);
  }
}
