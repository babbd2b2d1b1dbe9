import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { observeDelayForJasonOnly } from '../../../helpers/suite/steps/faults.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The fault-injection suites' steps (30 fault-delay, 31 fault-abort) against the simulated mesh, with the lab's
 * 02-fault-injection.yaml: the delay really takes 7 s here, because its verdict reads the time.
 */
const availability = prometheusAvailability();
const delayFiles = ['fixtures/features/04-request-routing.yaml', 'fixtures/features/02-fault-injection.yaml'];

describe.skipIf(!availability.available)('the fault-delay steps on a broken simulated mesh', () => {
  const mesh = useSimulatedMesh({ seed: 8 });

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
});
