import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { observeRouteTimeout } from '../../../helpers/suite/steps/resilience.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The resilience suites' steps (40 circuit-breaker, 50 timeouts-retries) against the simulated mesh, with the
 * lab's files and meshproof's httpbin instruments.
 */
const availability = prometheusAvailability();

describe.skipIf(!availability.available)('the route-timeout steps on a simulated mesh', () => {
  const mesh = useSimulatedMesh({ seed: 12 });

  const timeoutFiles = ['fixtures/features/05-timeout-retry.yaml', 'fixtures/features/02-fault-injection.yaml', 'fixtures/checks/httpbin-retries.yaml'];

  it('judges the 3 s route timeout: nothing waits past it, the cut-off requests are 504 UT; without it, jason waits 7 s', async () => {
    const { env, sim, apply, restore, envWith } = mesh();
    const applied = await apply(timeoutFiles);
    const verdicts = verdictsOf(await observeRouteTimeout(env));
    expect(verdicts.map((v) => v.judge)).toEqual(['latency', 'metric-increase']);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    sim.break({ kind: 'no-timeout' });
    const [tooSlow, noTimeouts] = verdictsOf(await observeRouteTimeout(envWith({ metricPropagation: 2_000 })));
    sim.heal();
    await restore(applied);
    expect(tooSlow!.pass).toBe(false);
    expect(tooSlow!.sentence).toMatch(/max 7(\.\d\d?)? s; expected max ≤ 4\.5 s: not met/);
    expect(noTimeouts!.pass).toBe(false);
  }, 60_000);
});
