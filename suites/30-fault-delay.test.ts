import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { observeInMeshDelay, observeUserFacingFault, proveReviewsAndRatingsLive } from '../helpers/suite/steps.ts';

/**
 * A 7 s delay on ratings for user jason (the lab's istio-features/02-fault-injection.yaml, with jason routed to
 * reviews v2 by 04-request-routing.yaml, as the istio.io fault-injection task does).
 */
const delay = featureTest({
  feature: 'fault-delay',
  // The ratings route lives in reviews' sidecar, behind the reviews route: each gets its own probe.
  awaitLive: ({ env, applied }) => proveReviewsAndRatingsLive(env, applied, 'the delay for jason'),
});

delay("jason's calls to ratings are delayed by 7 s", async ({ run, env }) => {
  await mustPass(run, await observeInMeshDelay(env, 'fault-delay', { user: 'jason', delayMs: 7_000, title: "jason's requests to reviews v2 wait 7 s for ratings" }));
});

delay('jason sees "reviews unavailable": productpage gives up after 2 × 3 s', async ({ run, env }) => {
  await mustPass(
    run,
    await observeUserFacingFault(env, 'fault-delay', { user: 'jason', classification: 'reviews-unavailable', title: 'every reviews request by jason answers "reviews unavailable"' }),
  );
});
