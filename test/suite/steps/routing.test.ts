import { describe, expect, it } from 'vitest';
import { judgeRecording } from '../../../helpers/judge/rejudge.ts';
import { parseRecording } from '../../../helpers/record/recording.ts';
import { allOf, verdictsOf, type Observed } from '../../../helpers/suite/step-env.ts';
import { observeKialiShares, observeKialiValidations } from '../../../helpers/suite/steps/kiali.ts';
import { proveInEveryProxy, proveLiveViaIngress } from '../../../helpers/suite/live.ts';
import { observeAbSplit, observeCanarySplit } from '../../../helpers/suite/steps/routing.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The routing suites' steps (10 traffic-shifting, 11 ab-testing, 20 request-routing, 60 mirroring) against the simulated mesh:
 * the lab's files applied as a suite applies them, each verdict shown passing on the healthy mesh and failing on
 * a mesh broken the way that verdict exists to catch.
 */
const availability = prometheusAvailability();

/** A recording is valid in the format and judged offline as it was when made (Kiali's answer is kept whole). */
function expectReJudgeable(observed: Observed): void {
  for (const recording of observed.recordings) expect(judgeRecording(parseRecording(JSON.parse(JSON.stringify(recording)), recording.title))).toEqual(recording.verdict);
}

describe.skipIf(!availability.available)('the routing steps on a simulated mesh', () => {
  const mesh = useSimulatedMesh({ seed: 4 });

  it('proves the canary live in every proxy and on the data path, then passes 80/10/10 in the responses and in Prometheus', async () => {
    const { env, apply, restore } = mesh();
    const applied = await apply(['fixtures/features/01-traffic-shifting.yaml']);
    const proven = await proveInEveryProxy(env, applied, 'the canary');
    expect(proven.proxies.map((p) => p.proxy)).toEqual(['bookinfo/productpage-v1', 'meshproof/mesh-client']);
    await proveLiveViaIngress(env, applied, 'the canary');
    const since = Date.now();
    const observed = await observeCanarySplit(env);
    const verdicts = verdictsOf(observed);
    expect(verdicts.map((v) => v.judge)).toEqual(['weighted-split', 'metric-increase', 'metric-increase', 'metric-increase']);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    expect(observed.recordings.map((r) => r.check)).toEqual(['traffic-shifting/split', 'traffic-shifting/counted', 'traffic-shifting/counted', 'traffic-shifting/counted']);
    // Kiali, asked during the feature, draws productpage → reviews at the shares the responses showed.
    const kiali = allOf(await observeKialiShares(env, observed, since), await observeKialiValidations(env, 'traffic-shifting'));
    expect(kiali.recordings.map((r) => r.check)).toEqual(['traffic-shifting/kiali-shares', 'traffic-shifting/kiali-validations']);
    for (const verdict of verdictsOf(kiali)) expect(verdict.pass, verdict.sentence).toBe(true);
    expectReJudgeable(kiali);
    await restore(applied);
  });

  it("fails Kiali's shares when reviews-v2's pod is labelled v3: its requests are graphed as v3's, not as the responses showed", async () => {
    const { env, sim, apply, restore, envWith } = mesh();
    const applied = await apply(['fixtures/features/01-traffic-shifting.yaml']);
    sim.break({ kind: 'mislabelled', workload: 'reviews-v2', version: 'v3' });
    const since = Date.now();
    const observed = await observeCanarySplit(envWith({ metricPropagation: 2_000 }));
    const [shares] = verdictsOf(await observeKialiShares(env, observed, since));
    sim.heal();
    await restore(applied);
    expect(verdictsOf(observed)[0]!.pass, 'the responses still show 80/10/10').toBe(true);
    expect(shares!.pass).toBe(false);
    expect(shares!.sentence).toMatch(/reviews-v2 0\.0 % .*reviews-v3 .*outside the responses' 99\.99 % interval: Kiali tells another split than the responses/);
  });

  it('fails a 70/20/10 mesh on the split, while Prometheus agrees with what was served', async () => {
    const { env, sim, apply, restore } = mesh();
    const applied = await apply(['fixtures/features/01-traffic-shifting.yaml']);
    sim.break({ kind: 'wrong-weights', weights: { v1: 70, v2: 20, v3: 10 } });
    const [split, ...counted] = verdictsOf(await observeCanarySplit(env));
    sim.heal();
    await restore(applied);
    expect(split!.pass).toBe(false);
    expect(split!.sentence).toMatch(/the split differs/);
    for (const verdict of counted) expect(verdict.pass, verdict.sentence).toBe(true);
  });

  it('says that requests failed, not that the split differs, when a weighted subset has no endpoints', async () => {
    const { env, sim, apply, restore } = mesh();
    const applied = await apply(['fixtures/features/01-traffic-shifting.yaml']);
    // A DestinationRule without subset v2: the canary's 10 % to v2 find no endpoint (503 no healthy upstream).
    const [rule] = sim.objects('DestinationRule').filter((o) => o.metadata.name === 'reviews');
    const withoutV2 = structuredClone(rule!);
    (withoutV2.spec as { subsets: { name: string }[] }).subsets = (withoutV2.spec as { subsets: { name: string }[] }).subsets.filter((s) => s.name !== 'v2');
    sim.apply([withoutV2]);
    const [split] = verdictsOf(await observeCanarySplit(env));
    sim.apply([rule!]);
    await restore(applied);
    expect(split!.pass).toBe(false);
    expect(split!.sentence).toMatch(/^\d+ of \d+ requests failed or were unclassified \(\d+× HTTP 503\): #\d+ HTTP 503 reviews-unavailable in /);
    expect(split!.sentence).toMatch(/requests failed, so the split is not shown/);
    expect(split!.sentence).not.toContain('the split differs');
  });

  it('fails the count of a version whose sidecar reports nothing', async () => {
    const { apply, restore, sim, envWith } = mesh();
    const applied = await apply(['fixtures/features/01-traffic-shifting.yaml']);
    sim.break({ kind: 'silent-telemetry', workload: 'reviews-v3' });
    const verdicts = verdictsOf(await observeCanarySplit(envWith({ metricPropagation: 3_000 })));
    sim.heal();
    await restore(applied);
    const v3 = verdicts.find((v) => v.sentence.includes('reviews-v3 served'))!;
    expect(v3.pass).toBe(false);
    expect(v3.sentence).toMatch(/destination_version="v3" rose by 0 /);
  });

  it('passes the A/B test at 50/50 of v1 and v3 by the same per-request test, and fails a mesh that routes 65/35', async () => {
    const { env, sim, apply, restore } = mesh();
    const applied = await apply(['fixtures/features/09-ab-testing.yaml']);
    await proveLiveViaIngress(env, applied, 'the A/B test');
    const observed = await observeAbSplit(env);
    expect(observed.recordings.map((r) => r.check)).toEqual(['ab-testing/split', 'ab-testing/counted', 'ab-testing/counted']);
    const healthy = verdictsOf(observed);
    for (const verdict of healthy) expect(verdict.pass, verdict.sentence).toBe(true);
    expect(observed.recordings[0]!.requests.every((r) => r.classification === 'reviews-v1' || r.classification === 'reviews-v3')).toBe(true);
    sim.break({ kind: 'wrong-weights', weights: { v1: 65, v3: 35 } });
    const [split] = verdictsOf(await observeAbSplit(env));
    sim.heal();
    await restore(applied);
    expect(split!.pass).toBe(false);
    expect(split!.sentence).toMatch(/the split differs/);
  }, 40_000);
});
