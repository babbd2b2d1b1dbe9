import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { proveCircuitBreakerTrips, proveInEveryProxy, proveLiveFromMesh } from '../../../helpers/suite/live.ts';
import { observeCircuitBreaker, observeEjection, observeNoRetriesBefore, observeRetries, observeRouteTimeout } from '../../../helpers/suite/steps/resilience.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The resilience suites' steps (40 circuit-breaker, 50 timeouts-retries) against the simulated mesh, with the
 * lab's files and meshproof's httpbin instruments.
 */
const availability = prometheusAvailability();
const breakerFiles = ['fixtures/features/03-circuit-breaker.yaml', 'fixtures/checks/httpbin-outlier-detection.yaml'];

describe.skipIf(!availability.available)('the resilience steps on a simulated mesh', () => {
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
