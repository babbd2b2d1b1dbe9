/**
 * Weighted-split bench: how many requests a verdict costs with meshproof's sequential judge versus the flat-band
 * method of Gateway API conformance (`weight.TestWeightedDistribution`: 500 requests, pass when every share is
 * within ±5 points of its weight and exactly the weight > 0 backends were seen, the whole batch tried up to
 * `MaxTestRetries` = 10 times; facts/anchors.md §1b), on simulated meshes with a seeded PRNG.
 *
 * `npm run bench` (bench/run.ts) calls benchWeightedSplit() and prints the lines; `tsx bench/weighted-split.ts`
 * prints them too. The simulators are exported for test/judge/monte-carlo.test.ts.
 */
import { pathToFileURL } from 'node:url';
import mt19937 from '@stdlib/random-base-mt19937';
import type { RequestRecord } from '../helpers/observe/records.ts';
import { judgeSplit, planSplitSampling, type SplitExpectation } from '../helpers/judge/split.ts';

/** A uniform [0, 1) generator from a seeded 32-bit Mersenne Twister (stdlib), so every figure reproduces. */
export function seededUniform(seed: number): () => number {
  const next = mt19937.factory({ seed });
  return () => next() / 4294967296;
}

/** The mesh being simulated: true shares per class in percent (classes may differ from the expectation). */
export interface SimulatedMesh {
  shares: Readonly<Record<string, number>>;
  /** Fraction of requests that fail with HTTP 503 before reaching any class; default 0. */
  failureRate?: number;
}

function classSampler(mesh: SimulatedMesh, uniform: () => number): () => string | null {
  const entries = Object.entries(mesh.shares).filter(([, w]) => w > 0);
  const total = entries.reduce((a, [, w]) => a + w, 0);
  const cumulative: number[] = [];
  let sum = 0;
  for (const [, w] of entries) cumulative.push((sum += w / total));
  const names = entries.map(([name]) => name);
  const failureRate = mesh.failureRate ?? 0;
  return () => {
    if (failureRate > 0 && uniform() < failureRate) return null;
    const u = uniform();
    let i = 0;
    while (i < cumulative.length - 1 && u >= (cumulative[i] ?? 1)) i++;
    return names[i] ?? null;
  };
}

export interface SimulationResult {
  runs: number;
  /** Verdicts that failed the split. */
  failed: number;
  /** Requests each verdict used, one entry per run. */
  requests: number[];
}

/**
 * Run meshproof's full sequential procedure `runs` times: send requests up to each planned look, call
 * judgeSplit with every record so far, stop at the first pass or fail.
 */
export function simulateSequential(expectation: SplitExpectation, mesh: SimulatedMesh, runs: number, seed: number): SimulationResult {
  const plan = planSplitSampling(expectation);
  const uniform = seededUniform(seed);
  const sample = classSampler(mesh, uniform);
  const requests: number[] = [];
  let failed = 0;
  for (let run = 0; run < runs; run++) {
    const records: RequestRecord[] = [];
    for (let j = 0; j < plan.looks.length; j++) {
      const target = plan.looks[j] ?? 0;
      while (records.length < target) {
        const cls = sample();
        records.push(
          cls === null
            ? { startedAt: records.length, latencyMs: 1, status: 503 }
            : { startedAt: records.length, latencyMs: 1, status: 200, classification: cls },
        );
      }
      const { decision } = judgeSplit(expectation, records, { final: j === plan.looks.length - 1 });
      if (decision === 'continue') continue;
      if (decision === 'fail') failed++;
      requests.push(records.length);
      break;
    }
  }
  return { runs, failed, requests };
}

/** Gateway API conformance's method, simulated from its source (`conformance/utils/weight/weight.go`). */
export function simulateGatewayApi(
  weights: Readonly<Record<string, number>>,
  mesh: SimulatedMesh,
  runs: number,
  seed: number,
  { batch = 500, tolerance = 0.05, attempts = 10 } = {},
): SimulationResult {
  const uniform = seededUniform(seed);
  const sample = classSampler(mesh, uniform);
  const expected = Object.entries(weights).map(([name, w]) => [name, w / 100] as const);
  const active = expected.filter(([, w]) => w > 0).length;
  const requests: number[] = [];
  let failed = 0;
  for (let run = 0; run < runs; run++) {
    let passed = false;
    let used = 0;
    for (let attempt = 0; attempt < attempts && !passed; attempt++) {
      const seen = new Map<string, number>();
      let broken = false;
      for (let i = 0; i < batch; i++) {
        const cls = sample();
        // A request error or an unexpected backend aborts the batch in weight.go; the requests were still sent.
        if (cls === null || !(cls in weights)) broken = true;
        else seen.set(cls, (seen.get(cls) ?? 0) + 1);
      }
      used += batch;
      if (broken || seen.size !== active) continue;
      passed = expected.every(([name, w]) => {
        const got = seen.get(name);
        if (got === undefined) return w === 0;
        return Math.abs(got / batch - w) <= tolerance;
      });
    }
    if (!passed) failed++;
    requests.push(used);
  }
  return { runs, failed, requests };
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

/** Nearest-rank percentile: the smallest value with at least q of the values at or below it. */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

const HEALTHY: SimulatedMesh = { shares: { 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 } };
const SHIFTED: SimulatedMesh = { shares: { 'reviews-v1': 70, 'reviews-v2': 20, 'reviews-v3': 10 } };
const RUNS = 2000;

/** The bench's printed lines; the ratio (meshproof / Gateway API mean requests on the healthy mesh) is last. */
export async function benchWeightedSplit(): Promise<string[]> {
  const expectation: SplitExpectation = { weights: HEALTHY.shares };
  const plan = planSplitSampling(expectation);
  const started = performance.now();
  const ours = {
    healthy: simulateSequential(expectation, HEALTHY, RUNS, 1),
    shifted: simulateSequential(expectation, SHIFTED, RUNS, 2),
  };
  const theirs = {
    healthy: simulateGatewayApi(HEALTHY.shares, HEALTHY, RUNS, 3),
    shifted: simulateGatewayApi(HEALTHY.shares, SHIFTED, RUNS, 4),
  };
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const describe = (r: SimulationResult) => `mean ${mean(r.requests).toFixed(0)}, p95 ${percentile(r.requests, 0.95)} requests per verdict`;
  const rate = (k: number, n: number) => `${k}/${n} = ${(k / n).toFixed(4)}`;
  const ratioHealthy = mean(ours.healthy.requests) / mean(theirs.healthy.requests);
  const ratioShifted = mean(ours.shifted.requests) / mean(theirs.shifted.requests);
  return [
    `weighted split 80/10/10, ${RUNS} simulated verdicts per row (seeded mt19937, ${seconds} s); meshproof plan: α = 1e-4, ` +
      `10-point shift at power ≥ 0.999, looks at ${plan.looks.join(', ')}`,
    `meshproof sequential, healthy 80/10/10: ${describe(ours.healthy)}; false failures ${rate(ours.healthy.failed, RUNS)}`,
    `meshproof sequential, shifted 70/20/10: ${describe(ours.shifted)}; detected ${rate(ours.shifted.failed, RUNS)}`,
    `Gateway API 500 × ±5 points × ≤10 tries, healthy 80/10/10: ${describe(theirs.healthy)}; false failures ${rate(theirs.healthy.failed, RUNS)}`,
    `Gateway API 500 × ±5 points × ≤10 tries, shifted 70/20/10: ${describe(theirs.shifted)}; detected ${rate(theirs.shifted.failed, RUNS)}`,
    `ratio meshproof / Gateway API mean requests: ${ratioHealthy.toFixed(2)} healthy (${ratioShifted.toFixed(2)} shifted)`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void benchWeightedSplit().then((lines) => {
    for (const line of lines) console.log(line);
  });
}
