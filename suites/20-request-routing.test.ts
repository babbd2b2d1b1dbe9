import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { observeUserRouting } from '../helpers/suite/steps/routing.ts';

/** Routing by user (the lab's istio-features/04-request-routing.yaml): jason to reviews v2, everyone else to v1. */
const routing = featureTest({ feature: 'request-routing' });

// productpage forwards end-user only from its login session, so a bare end-user: jason header must change nothing.
routing('user jason is routed to reviews v2; anonymous visitors and a bare end-user header to v1', async ({ run, env }) => {
  await mustPass(run, await observeUserRouting(env));
});
