import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { proveInEveryProxy, proveLiveFromMesh, proveLiveViaIngress } from '../../../helpers/suite/live.ts';
import { observeDelayForJasonOnly, observeJasonSeesReviewsUnavailable } from '../../../helpers/suite/steps/faults.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The fault-injection suites' steps (30 fault-delay, 31 fault-abort) against the simulated mesh, with the lab's
 * 02-fault-injection.yaml: the delay really takes 7 s here, because its verdict reads the time.
 */
const availability = prometheusAvailability();
const delayFiles = ['fixtures/features/04-request-routing.yaml', 'fixtures/features/02-fault-injection.yaml'];

describe.skipIf(!availability.available)('the fault-delay steps on a simulated mesh', () => {
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
});
