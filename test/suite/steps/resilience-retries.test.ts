import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { proveLiveFromMesh } from '../../../helpers/suite/live.ts';
import { observeNoRetriesBefore, observeRetries } from '../../../helpers/suite/steps/resilience.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The resilience suites' steps (40 circuit-breaker, 50 timeouts-retries) against the simulated mesh, with the
 * lab's files and meshproof's httpbin instruments.
 */
const availability = prometheusAvailability();

describe.skipIf(!availability.available)('the retry steps on a simulated mesh', () => {
  const mesh = useSimulatedMesh({ seed: 12 });

  const timeoutFiles = ['fixtures/features/05-timeout-retry.yaml', 'fixtures/features/02-fault-injection.yaml', 'fixtures/checks/httpbin-retries.yaml'];

  it('shows 1 + 2 attempts per request with the retry policy, and 1 without it (the control before the apply)', async () => {
    const { env, apply, restore } = mesh();
    const [control] = verdictsOf(await observeNoRetriesBefore(env));
    expect(control!.pass, control!.sentence).toBe(true);
    expect(control!.figures.ratio).toBe(1);
    const applied = await apply(timeoutFiles);
    await proveLiveFromMesh(env, applied, 'httpbin', 'the retries on httpbin');
    const observed = await observeRetries(env);
    await restore(applied);
    const verdicts = verdictsOf(observed);
    expect(observed.recordings.map((r) => r.check)).toEqual(['timeouts-retries/retries-final', 'timeouts-retries/retries', 'timeouts-retries/retries-exhausted']);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    expect(verdicts[1]!.figures).toMatchObject({ ratio: 3, denominator: 88, numerator: 264 });
  }, 40_000);

  it('fails the retries when the mesh does not retry, and the control when the baseline already did', async () => {
    const { sim, apply, restore, envWith } = mesh();
    const applied = await apply(timeoutFiles);
    sim.break({ kind: 'no-retries' });
    const [final, ratio, exhausted] = verdictsOf(await observeRetries(envWith({ metricPropagation: 2_000 })));
    sim.heal();
    expect(final!.pass, final!.sentence).toBe(true);
    expect(ratio!.pass).toBe(false);
    expect(ratio!.sentence).toMatch(/a ratio of 1; exactly 3 expected: not met/);
    expect(exhausted!.pass).toBe(false);
    // A baseline that still has the retry policy (a restore that did not happen) fails the control.
    const [control] = verdictsOf(await observeNoRetriesBefore(envWith({ metricPropagation: 2_000 })));
    await restore(applied);
    expect(control!.pass).toBe(false);
    expect(control!.sentence).toMatch(/a ratio of 3; exactly 1 expected: not met/);
  }, 40_000);
});
