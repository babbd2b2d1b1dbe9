import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { observeMirroring, observeUserRouting } from '../../../helpers/suite/steps/routing.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The routing by user and mirroring steps (20 request-routing, 60 mirroring) against the simulated mesh, passing on
 * the healthy mesh and failing on a mesh broken the way each verdict exists to catch. Apart from routing.test.ts
 * (the weighted splits) so that the two files' waits run side by side.
 */
const availability = prometheusAvailability();

describe.skipIf(!availability.available)('the user-routing and mirroring steps on a simulated mesh', () => {
  const mesh = useSimulatedMesh({ seed: 5 });

  it('passes routing by user: jason (logged in) to v2, anonymous and a bare end-user header to v1', async () => {
    const { env, apply, restore } = mesh();
    const applied = await apply(['fixtures/features/04-request-routing.yaml']);
    const verdicts = verdictsOf(await observeUserRouting(env));
    await restore(applied);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    expect(verdicts.filter((v) => v.judge === 'all-match').map((v) => v.figures.n)).toEqual([88, 88, 88]);
  });

  it('fails routing by user on a mesh whose end-user match holds for everyone: the anonymous visitor reaches v2', async () => {
    const { env, sim, apply, restore } = mesh();
    const applied = await apply(['fixtures/features/04-request-routing.yaml']);
    sim.break({ kind: 'end-user-match-ignored' });
    const [jason, , anonymous] = verdictsOf(await observeUserRouting(env));
    sim.heal();
    await restore(applied);
    expect(jason!.pass, jason!.sentence).toBe(true);
    expect(anonymous!.pass).toBe(false);
    expect(anonymous!.sentence).toMatch(/^an anonymous visitor is served by reviews v1 \(served by reviews-v1 with status 200\): 0 of 88 requests; 88 exceptions: #1 HTTP 200 reviews-v2/);
  });

  it('passes mirroring, and fails it when no copy reaches v3', async () => {
    const { env, sim, apply, restore, envWith } = mesh();
    const applied = await apply(['fixtures/features/06-mirror-traffic.yaml']);
    const healthy = verdictsOf(await observeMirroring(env));
    for (const verdict of healthy) expect(verdict.pass, verdict.sentence).toBe(true);
    sim.break({ kind: 'no-mirror' });
    const [primary, counted, copies] = verdictsOf(await observeMirroring(envWith({ metricPropagation: 3_000 })));
    sim.heal();
    await restore(applied);
    expect(primary!.pass && counted!.pass).toBe(true);
    expect(copies!.pass).toBe(false);
    expect(copies!.sentence).toMatch(/reviews-v3 received a copy of each of the 88 requests: .* rose by 0 /);
  });
});
