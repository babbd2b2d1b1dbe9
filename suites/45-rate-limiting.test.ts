import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { proveRateLimited } from '../helpers/suite/live.ts';
import { observeBurstServedAfter, observeRateLimit } from '../helpers/suite/steps/rate-limiting.ts';

/**
 * A local rate limit on productpage (istio.io's "Enabling Rate Limits using Envoy", fixtures/features/08-rate-limiting.yaml):
 * a bucket of 4 requests in productpage's sidecar, refilled 4 every 60 s; beyond it, HTTP 429.
 */
const rateLimit = featureTest({
  feature: 'rate-limiting',
  // An EnvoyFilter has no route to probe: its own effect, a burst that meets the limiter's 429, which nothing else answers.
  proveLive: ({ env }) => proveRateLimited(env, 'the local rate limit on productpage'),
  // The same burst that met the limit, served in full once the baseline is back.
  controls: { after: observeBurstServedAfter },
});

rateLimit('a burst meets 429s from the limiter, served as often as the bucket holds and refills; requests a refill apart are all served', async ({ run, env, applied }) => {
  await mustPass(run, await observeRateLimit(env, applied));
});
