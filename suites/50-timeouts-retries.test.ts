import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { proveLiveFromMesh, proveLiveViaIngress } from '../helpers/suite/live.ts';
import { observeNoRetriesBefore, observeRetries, observeRouteTimeout } from '../helpers/suite/steps/resilience.ts';

/**
 * A 3 s timeout and 2 retries on reviews (the lab's istio-features/05-timeout-retry.yaml). Bookinfo's reviews is
 * never slow by itself, so jason's 7 s ratings delay (02-fault-injection.yaml) slows reviews v2 past the timeout;
 * it never answers 5xx either, so the lab's retry block is shown on meshproof's httpbin answering 503.
 */
const resilience = featureTest({
  feature: 'timeouts-retries',
  proveLive: async ({ env, applied }) => [
    await proveLiveViaIngress(env, applied, 'the reviews timeout'),
    await proveLiveFromMesh(env, applied, 'ratings', 'the ratings delay'),
    await proveLiveFromMesh(env, applied, 'httpbin', 'the retries on httpbin'),
  ],
  controls: { before: observeNoRetriesBefore },
});

resilience('no request to reviews waits past 3 s; the ones cut off are 504 UT', async ({ run, env }) => {
  await mustPass(run, await observeRouteTimeout(env));
});

resilience('a request answered 503 is tried 1 + 2 times, and the client sees the last 503, flagged URX', async ({ run, env }) => {
  await mustPass(run, await observeRetries(env));
});
