import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { proveInEveryProxy, proveLiveFromMesh, proveLiveViaIngress } from '../../../helpers/suite/live.ts';
import { observeAbortRate, observeDelayForJasonOnly, observeJasonSeesReviewsUnavailable } from '../../../helpers/suite/steps/faults.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The fault-injection suites' steps (30 fault-delay, 31 fault-abort) against the simulated mesh, with the lab's
 * 02-fault-injection.yaml: the delay really takes 7 s here, because its verdict reads the time.
 */
const availability = prometheusAvailability();
const delayFiles = ['fixtures/features/04-request-routing.yaml', 'fixtures/features/02-fault-injection.yaml'];

describe.skipIf(!availability.available)('the fault-injection steps on a simulated mesh', () => {
  const mesh = useSimulatedMesh({ seed: 8 });

  it("proves the ratings faults in reviews v2's and v3's sidecars too, then measures jason's 7 s and nobody else's", async () => {
    const { env, apply, restore } = mesh();
    const applied = await apply(delayFiles);
    const proven = await proveInEveryProxy(env, applied, 'the delay for jason');
    expect(proven.proxies.map((p) => p.proxy).sort()).toEqual([
      'bookinfo/productpage-v1',
      'bookinfo/reviews-v2',
      'bookinfo/reviews-v3',
      'meshproof/mesh-client',
      'meshproof/mesh-client',
    ]);
    await proveLiveViaIngress(env, applied, 'the reviews route');
    await proveLiveFromMesh(env, applied, 'ratings', 'the ratings faults');
    const verdicts = verdictsOf(await observeDelayForJasonOnly(env));
    await restore(applied);
    expect(verdicts.map((v) => v.judge)).toEqual(['latency', 'metric-increase', 'latency']);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
  }, 40_000);

  it('fails the control when the delay reaches everyone, and the delay itself when there is none', async () => {
    const { sim, apply, restore, envWith } = mesh();
    const applied = await apply(delayFiles);
    sim.break({ kind: 'end-user-match-ignored' });
    const [jason, , others] = verdictsOf(await observeDelayForJasonOnly(envWith({ metricPropagation: 3_000 })));
    sim.heal();
    expect(jason!.pass, jason!.sentence).toBe(true);
    expect(others!.pass).toBe(false);
    expect(others!.sentence).toMatch(/^calls to ratings without end-user: jason are not delayed: 20 requests took min 7(\.\d\d?)? s/);
    sim.break({ kind: 'no-delay' });
    const [short, unreported] = verdictsOf(await observeDelayForJasonOnly(envWith({ metricPropagation: 2_000 })));
    sim.heal();
    await restore(applied);
    expect(short!.pass).toBe(false);
    expect(short!.sentence).toMatch(/10 took less than 7 s/);
    expect(unreported!.pass).toBe(false);
  }, 40_000);

  it('sees what jason sees: reviews unavailable on every request, productpage having given up after 2 × 3 s', async () => {
    const { env, sim, apply, restore } = mesh();
    const applied = await apply(delayFiles);
    const [seen] = verdictsOf(await observeJasonSeesReviewsUnavailable(env));
    expect(seen!.pass, seen!.sentence).toBe(true);
    sim.break({ kind: 'no-delay' });
    const [healthy] = verdictsOf(await observeJasonSeesReviewsUnavailable(env));
    sim.heal();
    await restore(applied);
    expect(healthy!.pass).toBe(false);
  }, 40_000);

  // The abort verdicts do not read the delay, so this copy delays jason 100 ms instead of 7 s.
  const fastDelay = () => mesh().variant('fixtures/features/02-fault-injection.yaml', [['fixedDelay: 7s', 'fixedDelay: 100ms']]);

  it("judges 10 % aborts for everyone else and for jason, each Envoy's own fault reply, counted as FI and DI,FI", async () => {
    const { env, apply, restore } = mesh();
    const applied = await apply([fastDelay()]);
    await proveLiveFromMesh(env, applied, 'ratings', 'the faults on ratings');
    const observed = await observeAbortRate(env);
    await restore(applied);
    const verdicts = verdictsOf(observed);
    expect(observed.recordings.map((r) => r.check)).toEqual([
      'fault-abort/others',
      'fault-abort/others-answered',
      'fault-abort/others-counted',
      'fault-abort/jason',
      'fault-abort/jason-counted',
    ]);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    expect(verdicts[0]!.figures.n).toBe(594);
  }, 40_000);

  it("fails jason's rate when the file aborts only everyone else's calls, as the lab's text does not say", async () => {
    const { env, apply, restore, envWith } = mesh();
    const othersOnly = mesh().variant(fastDelay(), [['fixedDelay: 100ms\n        abort:\n          percentage:\n            value: 10\n          httpStatus: 500\n', 'fixedDelay: 100ms\n']]);
    const applied = await apply([othersOnly]);
    await proveLiveFromMesh(env, applied, 'ratings', 'the faults on ratings');
    const verdicts = verdictsOf(await observeAbortRate(envWith({ metricPropagation: 2_000 })));
    await restore(applied);
    expect(verdicts[0]!.pass, verdicts[0]!.sentence).toBe(true);
    expect(verdicts[3]!.pass).toBe(false);
    expect(verdicts[3]!.sentence).toMatch(/0\.0 % .* of 594, expected 10 %; p .* < α = 1e-4: the rate differs/);
    expect(verdicts[4]!.pass).toBe(false);
  }, 40_000);

  it('fails the rate and the count when no call is aborted', async () => {
    const { sim, apply, restore, envWith } = mesh();
    const applied = await apply([fastDelay()]);
    sim.break({ kind: 'no-abort' });
    const [rate, answered, counted] = verdictsOf(await observeAbortRate(envWith({ metricPropagation: 2_000 })));
    sim.heal();
    await restore(applied);
    expect(rate!.pass).toBe(false);
    expect(answered!.pass, answered!.sentence).toBe(true);
    expect(counted!.pass).toBe(false);
  }, 40_000);
});
