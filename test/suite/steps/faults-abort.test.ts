import { describe, expect, it } from 'vitest';
import { allOf, verdictsOf } from '../../../helpers/suite/step-env.ts';
import { observeKialiErrorRate, observeKialiValidations } from '../../../helpers/suite/steps/kiali.ts';
import { proveLiveFromMesh } from '../../../helpers/suite/live.ts';
import { observeAbortRate } from '../../../helpers/suite/steps/faults.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The fault-injection suites' steps (30 fault-delay, 31 fault-abort) against the simulated mesh, with the lab's
 * 02-fault-injection.yaml: the delay really takes 7 s here, because its verdict reads the time.
 */
const availability = prometheusAvailability();

describe.skipIf(!availability.available)('the fault-abort steps on a simulated mesh', () => {
  const mesh = useSimulatedMesh({ seed: 8 });

  const fastDelay = () => mesh().variant('fixtures/features/02-fault-injection.yaml', [['fixedDelay: 7s', 'fixedDelay: 100ms']]);

  it("judges 10 % aborts for everyone else and for jason, each Envoy's own fault reply, counted as FI and DI,FI", async () => {
    const { env, apply, restore } = mesh();
    const applied = await apply([fastDelay()]);
    await proveLiveFromMesh(env, applied, 'ratings', 'the faults on ratings');
    const observed = await observeAbortRate(env);
    // Kiali, asked while the faults are applied, draws about 10 % of the calls to ratings failing.
    const kiali = allOf(await observeKialiErrorRate(env), await observeKialiValidations(env, 'fault-abort'));
    await restore(applied);
    expect(kiali.recordings.map((r) => r.check)).toEqual(['fault-abort/kiali-errors', 'fault-abort/kiali-validations']);
    for (const verdict of verdictsOf(kiali)) expect(verdict.pass, verdict.sentence).toBe(true);
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
    const { env, sim, apply, restore, envWith } = mesh();
    const applied = await apply([fastDelay()]);
    sim.break({ kind: 'no-abort' });
    const observed = await observeAbortRate(envWith({ metricPropagation: 2_000 }));
    const [kiali] = verdictsOf(await observeKialiErrorRate(env));
    sim.heal();
    await restore(applied);
    const [rate, answered, counted] = verdictsOf(observed);
    expect(rate!.pass).toBe(false);
    expect(kiali!.pass).toBe(false);
    expect(kiali!.sentence).toMatch(/0\.0 % \(≈ 0 of \d+ requests; 99\.99 % CI 0\.0–[\d.]+ %\), expected 10 %, [\d.]+–[\d.]+ % for rates .*; the interval misses it: Kiali's error rate differs$/);
    expect(answered!.pass, answered!.sentence).toBe(true);
    expect(counted!.pass).toBe(false);
  }, 40_000);
});
