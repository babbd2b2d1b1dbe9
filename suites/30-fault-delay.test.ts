import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { proveLiveFromMesh, proveLiveViaIngress } from '../helpers/suite/live.ts';
import { observeDelayForJasonOnly, observeJasonSeesReviewsUnavailable, observeJasonsTrace } from '../helpers/suite/steps/faults.ts';

/**
 * A 7 s delay on ratings for user jason (the lab's istio-features/02-fault-injection.yaml, with jason routed to
 * reviews v2 by 04-request-routing.yaml, as the istio.io fault-injection task does), and for nobody else.
 */
const delay = featureTest({
  feature: 'fault-delay',
  // The ratings route lives in reviews' sidecars, behind the reviews route: each gets its own probe.
  proveLive: async ({ env, applied }) => [
    await proveLiveViaIngress(env, applied, 'the reviews route for jason'),
    await proveLiveFromMesh(env, applied, 'ratings', 'the ratings faults'),
  ],
});

delay("jason's calls to ratings are delayed by 7 s; nobody else's are", async ({ run, env }) => {
  await mustPass(run, await observeDelayForJasonOnly(env));
});

delay('jason sees "reviews unavailable": productpage gives up after 2 × 3 s', async ({ run, env }) => {
  await mustPass(run, await observeJasonSeesReviewsUnavailable(env));
});

delay("a trace of jason's page shows the 7 s ratings call and productpage giving up on reviews after 2 × 3 s; an anonymous page's does not", async ({ run, env }) => {
  await mustPass(run, await observeJasonsTrace(env));
});
