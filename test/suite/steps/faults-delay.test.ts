import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { proveInEveryProxy, proveLiveFromMesh, proveLiveViaIngress } from '../../../helpers/suite/live.ts';
import { observeDelayForJasonOnly, observeJasonSeesReviewsUnavailable, observeJasonsTrace } from '../../../helpers/suite/steps/faults.ts';
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

  it('sees what jason sees: reviews unavailable on every request, productpage having given up after 2 × 3 s, and so does his trace', async () => {
    const { env, sim, apply, restore } = mesh();
    const applied = await apply(delayFiles);
    // The trace step waits the same delay as jason's pages: side by side, it costs this test about one second more.
    const [seenBy, traced] = await Promise.all([observeJasonSeesReviewsUnavailable(env), observeJasonsTrace(env)]);
    const [seen] = verdictsOf(seenBy);
    expect(seen!.pass, seen!.sentence).toBe(true);
    const [trace, control] = traced.recordings;
    expect(trace!.verdict!.pass, trace!.verdict!.sentence).toBe(true);
    expect(control!.verdict!.pass, control!.verdict!.sentence).toBe(true);
    // The spans carry the simulation's real times: reviews-v2's call to ratings lasts the delay, productpage's two calls
    // to reviews end unanswered (DC) at its 3 s timeout, and the anonymous page never reaches ratings.
    expect(trace!.verdict!.sentence).toMatch(
      /reviews-v2's calls? to ratings took 7(\.\d\d?)? s, (200|500)[^;]*; at least the 7 s delay expected; productpage's 2 calls to reviews ended after 3(\.\d\d?)? s, no answer \(DC\) and 3(\.\d\d?)? s, no answer \(DC\)/,
    );
    expect(trace!.traces![0]!.spans.map((s) => s.service)).toEqual(expect.arrayContaining(['istio-ingressgateway.istio-system', 'productpage.bookinfo', 'reviews.bookinfo', 'details.bookinfo']));
    expect(control!.verdict!.sentence).toMatch(/has no call from reviews to ratings \(its calls: istio-ingressgateway(-\w+)? → productpage, productpage-v1 → details, productpage-v1 → reviews\)/);
    sim.break({ kind: 'no-delay' });
    const [healthy] = verdictsOf(await observeJasonSeesReviewsUnavailable(env));
    sim.heal();
    await restore(applied);
    expect(healthy!.pass).toBe(false);
  }, 40_000);

  // The abort verdicts do not read the delay, so this copy delays jason 100 ms instead of 7 s.
});
