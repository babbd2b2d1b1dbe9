import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { observeDelayForJasonOnly, observeJasonsTrace } from '../../../helpers/suite/steps/faults.ts';
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
    const { sim, apply, restore, envWith, env } = mesh();
    const applied = await apply(delayFiles);
    sim.break({ kind: 'end-user-match-ignored' });
    // The trace step side by side with the delay step: it waits the same 7 s, so it adds no time of its own.
    const [delayed, traced] = await Promise.all([observeDelayForJasonOnly(envWith({ metricPropagation: 3_000 })), observeJasonsTrace(env)]);
    const [jason, , others] = verdictsOf(delayed);
    const [trace, traceOthers] = verdictsOf(traced);
    sim.heal();
    // Everyone is routed to reviews v2 and delayed: jason's trace still holds, the anonymous page's shows the delay.
    expect(trace!.pass, trace!.sentence).toBe(true);
    expect(traceOthers!.pass).toBe(false);
    expect(traceOthers!.sentence).toMatch(/1 call from reviews to ratings in the trace of GET \/productpage anonymous \([0-9a-f]{32}\), the longest 7(\.\d\d?)? s, [^:]*: 1 at or above half the 7 s delay/);
    expect(jason!.pass, jason!.sentence).toBe(true);
    expect(others!.pass).toBe(false);
    expect(others!.sentence).toMatch(/^calls to ratings without end-user: jason are not delayed: 20 requests took min 7(\.\d\d?)? s/);
    sim.break({ kind: 'no-delay' });
    const hurried = envWith({ metricPropagation: 2_000, traceArrival: 1_500 });
    const [undelayed, tracedUndelayed] = await Promise.all([observeDelayForJasonOnly(hurried), observeJasonsTrace(hurried)]);
    const [short, unreported] = verdictsOf(undelayed);
    const [noDelayTrace] = verdictsOf(tracedUndelayed);
    sim.heal();
    expect(noDelayTrace!.pass).toBe(false);
    expect(noDelayTrace!.sentence).toMatch(/took less than the 7 s delay/);
    await restore(applied);
    expect(short!.pass).toBe(false);
    expect(short!.sentence).toMatch(/10 took less than 7 s/);
    expect(unreported!.pass).toBe(false);
  }, 40_000);
});
