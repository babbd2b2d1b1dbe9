import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { observeEjection } from '../../../helpers/suite/steps/resilience.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The resilience suites' steps (40 circuit-breaker, 50 timeouts-retries) against the simulated mesh, with the
 * lab's files and meshproof's httpbin instruments.
 */
const availability = prometheusAvailability();

describe.skipIf(!availability.available)('the outlier-detection steps on a simulated mesh', () => {
  const mesh = useSimulatedMesh({ seed: 12 });

  const shortEjection = () => mesh().variant('fixtures/checks/httpbin-outlier-detection.yaml', [['baseEjectionTime: 3m', 'baseEjectionTime: 6s']]);

  it('shows one 5xx ejecting httpbin: refused 503 UH for the ejection time, then served again', async () => {
    const { env, apply, restore } = mesh();
    const applied = await apply(['fixtures/features/03-circuit-breaker.yaml', shortEjection()]);
    const observed = await observeEjection(env, applied);
    await restore(applied);
    const [ejection, counted] = verdictsOf(observed);
    expect(ejection!.pass, ejection!.sentence).toBe(true);
    expect(ejection!.sentence).toMatch(/after #1 HTTP 500 in \d+ ms, \d+ of \d+ requests were refused \(status 503 with response flag UH\) until [5-7](\.\d\d?)? s, served again from [6-8](\.\d\d?)? s; expected ejected for 6 s and back by the next 1 s tick: met$/);
    expect(counted!.pass, counted!.sentence).toBe(true);
    expect(observed.recordings[0]!.expectation).toMatchObject({ judge: 'ejection', ejectionMs: 6_000, intervalMs: 1_000 });
  }, 40_000);

  it('fails the ejection when the endpoint keeps serving after the 5xx, and when it never comes back', async () => {
    const { sim, apply, restore, envWith } = mesh();
    const applied = await apply(['fixtures/features/03-circuit-breaker.yaml', shortEjection()]);
    sim.break({ kind: 'no-outlier-detection' });
    const [kept] = verdictsOf(await observeEjection(envWith({ metricPropagation: 2_000 }), applied));
    sim.heal();
    expect(kept!.pass).toBe(false);
    expect(kept!.sentence).toMatch(/was served during the ejection/);
    sim.break({ kind: 'ejection-never-ends' });
    const [never] = verdictsOf(await observeEjection(envWith({ metricPropagation: 2_000 }), applied));
    sim.heal();
    await restore(applied);
    expect(never!.pass).toBe(false);
    expect(never!.sentence).toMatch(/never served again.*still refused after the ejection time/);
  }, 60_000);
});
