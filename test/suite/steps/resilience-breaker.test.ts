import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { proveCircuitBreakerTrips, proveInEveryProxy } from '../../../helpers/suite/live.ts';
import { observeCircuitBreaker } from '../../../helpers/suite/steps/resilience.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The resilience suites' steps (40 circuit-breaker, 50 timeouts-retries) against the simulated mesh, with the
 * lab's files and meshproof's httpbin instruments.
 */
const availability = prometheusAvailability();
const breakerFiles = ['fixtures/features/03-circuit-breaker.yaml', 'fixtures/checks/httpbin-outlier-detection.yaml'];

describe.skipIf(!availability.available)('the circuit-breaker steps on a simulated mesh', () => {
  const mesh = useSimulatedMesh({ seed: 12 });

  it('proves both DestinationRules in their callers, then passes the breaker: served one at a time, overflows under load', async () => {
    const { env, apply, restore } = mesh();
    const applied = await apply(breakerFiles);
    const proven = await proveInEveryProxy(env, applied, 'the circuit breakers');
    expect(proven.proxies.map((p) => `${p.proxy}: ${p.shows}`)).toEqual([
      'bookinfo/productpage-v1: cluster outbound|…||reviews.bookinfo.svc.cluster.local with max_connections 1, max_pending_requests 1, consecutive_5xx 1, interval 1000, base_ejection_time 180000, max_ejection_percent 100',
      'meshproof/mesh-client: cluster outbound|…||reviews.bookinfo.svc.cluster.local with max_connections 1, max_pending_requests 1, consecutive_5xx 1, interval 1000, base_ejection_time 180000, max_ejection_percent 100',
      'meshproof/mesh-client: cluster outbound|…||httpbin.meshproof.svc.cluster.local with max_connections 1, max_pending_requests 1, consecutive_5xx 1, interval 1000, base_ejection_time 180000, max_ejection_percent 100',
    ]);
    await proveCircuitBreakerTrips(env, 'the circuit breaker');
    const verdicts = verdictsOf(await observeCircuitBreaker(env));
    await restore(applied);
    expect(verdicts.map((v) => v.judge)).toEqual(['all-match', 'all-match', 'metric-increase', 'metric-increase']);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
  }, 40_000);

  it('fails the control when the breaker refuses even one request at a time, and the overflow count when nothing overflows', async () => {
    const { sim, apply, restore, envWith } = mesh();
    const applied = await apply(breakerFiles);
    sim.break({ kind: 'refuse-everything' });
    const [sequential, burst] = verdictsOf(await observeCircuitBreaker(envWith({ metricPropagation: 2_000 })));
    sim.heal();
    expect(sequential!.pass).toBe(false);
    expect(sequential!.sentence).toMatch(/^requests to reviews one at a time are all served \(status 200\): 0 of 88 requests; 88 exceptions: #1 HTTP 503 UO/);
    expect(burst!.pass, burst!.sentence).toBe(true); // refusing everything under load is not wrong by itself: the control is what catches it
    sim.break({ kind: 'no-connection-pool' });
    const [, , overflows] = verdictsOf(await observeCircuitBreaker(envWith({ metricPropagation: 2_000 })));
    sim.heal();
    await restore(applied);
    expect(overflows!.pass).toBe(false);
  }, 40_000);

  // The ejection's waits come from the applied DestinationRule: this copy ejects for 6 s, not 3 min.
});
