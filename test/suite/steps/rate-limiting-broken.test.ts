import { describe, expect, it } from 'vitest';
import { PollTimeoutError } from '../../../helpers/wait/poll.ts';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { proveRateLimited } from '../../../helpers/suite/live.ts';
import { localRateLimitOf, observeRateLimit } from '../../../helpers/suite/steps/rate-limiting.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The rate-limiting suite's steps (45 rate-limiting) against a simulated mesh that gets the limit wrong: a sidecar
 * that does not limit, a bucket that never refills. Apart from rate-limiting.test.ts (the healthy mesh) so that the
 * two files' waits for the bucket run side by side.
 */
const availability = prometheusAvailability();
const limitFile = 'fixtures/features/08-rate-limiting.yaml';

describe.skipIf(!availability.available)('the rate-limiting steps on a simulated mesh that gets the limit wrong', () => {
  const mesh = useSimulatedMesh({ seed: 9 });

  // The steps wait for the bucket as the applied file fills it: these copies refill 4 tokens every 3 s or 6 s, not
  // every 60 s. The slower one spaces the paced requests (1.65 s) wider than Prometheus takes to count the burst, so
  // a paced request sent without its wait would meet the empty bucket.
  const fastRefill = (every = '3s') => mesh().variant(limitFile, [['fill_interval: 60s', `fill_interval: ${every}`]]);

  it('fails the served count, and never proves the limit live, when the sidecar does not limit', async () => {
    const { env, sim, apply, envWith } = mesh();
    const applied = await apply([fastRefill()]);
    sim.break({ kind: 'rate-limit-ignored' });
    const notLive = await proveRateLimited(envWith({ configLive: 3_000 }), 'the local rate limit').catch((e: unknown) => e);
    expect(notLive).toBeInstanceOf(PollTimeoutError);
    expect((notLive as Error).message).toMatch(/last seen: none of 40 requests to productpage refused by the limiter: HTTP 200/);
    const [burst, served, paced] = verdictsOf(await observeRateLimit(env, applied));
    // Serving everything breaks no request's promise: the count is what catches it, and the paced control passes.
    expect(burst!.pass, burst!.sentence).toBe(true);
    expect(paced!.pass, paced!.sentence).toBe(true);
    expect(served!.pass).toBe(false);
    // The upper bound grows with the burst's duration (a refill may land during it), which a loaded machine stretches.
    expect(served!.sentence).toMatch(/the client saw 40 served and 0 refused by the limiter: .* rose by 40 over .*; between 4 and \d+ expected$/);
  }, 40_000);

  it('fails the paced control when tokens never come back, and the burst when the limiter answers without its header', async () => {
    const { env, sim, apply, restore } = mesh();
    const applied = await apply([fastRefill()]);
    sim.break({ kind: 'bucket-never-refills' });
    const [, , paced] = verdictsOf(await observeRateLimit(env, applied));
    sim.heal();
    await restore(applied);
    expect(paced!.pass).toBe(false);
    expect(paced!.sentence).toMatch(/\(status 200\): 0 of 5 requests; 5 exceptions: #1 HTTP 429 RL in /);
    // A limiter configured without response_headers_to_add refuses the same requests, but not as the file says.
    const headerless = mesh().variant(fastRefill(), [['              response_headers_to_add:\n                - append_action: OVERWRITE_IF_EXISTS_OR_ADD\n                  header:\n                    key: x-local-rate-limit\n                    value: "true"\n', '']]);
    const withoutHeader = await apply([headerless]);
    expect(localRateLimitOf(withoutHeader).headers).toEqual({});
    const [burst] = verdictsOf(await observeRateLimit(env, withoutHeader));
    await restore(withoutHeader);
    expect(burst!.pass).toBe(false);
    expect(burst!.sentence).toMatch(/: [4-6] of 40 requests; 3\d exceptions: #\d+ HTTP 429 RL in /);
  }, 40_000);
});
