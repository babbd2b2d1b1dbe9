import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { proveInEveryProxy, proveRateLimited } from '../../../helpers/suite/live.ts';
import { observeBurstServedAfter, observeRateLimit } from '../../../helpers/suite/steps/rate-limiting.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The rate-limiting suite's steps (45 rate-limiting) against the simulated mesh, whose productpage sidecar runs the
 * EnvoyFilter's token bucket (test/support/mesh-sim/local-rate-limit.ts).
 */
const availability = prometheusAvailability();
const limitFile = 'fixtures/features/08-rate-limiting.yaml';

describe.skipIf(!availability.available)('the rate-limiting steps on a simulated mesh', () => {
  const mesh = useSimulatedMesh({ seed: 8 });

  // The steps wait for the bucket as the applied file fills it: these copies refill 4 tokens every 3 s or 6 s, not
  // every 60 s. The slower one spaces the paced requests (1.65 s) wider than Prometheus takes to count the burst, so
  // a paced request sent without its wait would meet the empty bucket.
  const fastRefill = (every = '3s') => mesh().variant(limitFile, [['fill_interval: 60s', `fill_interval: ${every}`]]);

  it('proves the limit by its effect, then a burst into a full bucket is served the bucket and its refill, no more; paced requests all pass; after the restore, all of the burst', async () => {
    const { env, apply, restore } = mesh();
    const applied = await apply([fastRefill('6s')]);
    expect((await proveInEveryProxy(env, applied, 'the rate limit')).proxies).toEqual([]); // an EnvoyFilter is proven by its effect
    expect(await proveRateLimited(env, 'the local rate limit')).toMatch(/^\d+ of 40 requests to productpage refused by the limiter \(status 429 with x-local-rate-limit: true with response flag RL\)$/);
    const observed = await observeRateLimit(env, applied);
    await restore(applied);
    const [burst, served, paced] = verdictsOf(observed);
    expect(observed.recordings.map((r) => r.check)).toEqual(['rate-limiting/burst', 'rate-limiting/burst-served', 'rate-limiting/paced']);
    for (const verdict of [burst, served, paced]) expect(verdict!.pass, verdict!.sentence).toBe(true);
    const refused = observed.recordings[0]!.requests.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(30);
    expect(refused.every((r) => r.body === 'local_rate_limited' && r.headers?.['x-local-rate-limit'] === 'true')).toBe(true);
    expect(served!.figures).toMatchObject({ atLeast: 4 });
    expect(served!.figures.increase).toBe(40 - refused.length);
    expect(served!.sentence).toMatch(/after 6\.6 s untouched the bucket holds 4, and 4 more come every 6 s; 40 requests, 20 at a time, over [\d.]+ m?s; the client saw \d served and \d\d refused by the limiter/);
    expect(paced!.sentence).toMatch(/\(one per 1\.65 s, the bucket refilling one every 1\.5 s\) \(status 200\): all 5 of 5 requests$/);
    // Each paced request went out at least a refill period after the one before it was answered, the first after the burst.
    const sent = observed.recordings.map((r) => r.requests);
    const burstEnd = Math.max(...sent[0]!.map((r) => r.startedAt + r.latencyMs));
    const pacedStarts = sent[2]!.map((r) => r.startedAt);
    expect(pacedStarts[0]! - burstEnd).toBeGreaterThanOrEqual(1_500);
    for (let i = 1; i < pacedStarts.length; i++) expect(pacedStarts[i]! - (pacedStarts[i - 1]! + sent[2]![i - 1]!.latencyMs)).toBeGreaterThanOrEqual(1_500);
    const [after] = verdictsOf(await observeBurstServedAfter(env));
    expect(after!.pass, after!.sentence).toBe(true);
  }, 60_000);

  it('fails the control after the restore when the limit is still in place', async () => {
    const { apply, restore, envWith } = mesh();
    const applied = await apply([fastRefill()]);
    const [after] = verdictsOf(await observeBurstServedAfter(envWith({ configLive: 1_000 })));
    await restore(applied);
    expect(after!.pass).toBe(false);
    expect(after!.sentence).toMatch(/^after the baseline is back, the same burst is served in full \(status 200\): \d of 40 requests; (3\d|40) exceptions: #\d+ HTTP 429 RL/);
  }, 20_000);
});
