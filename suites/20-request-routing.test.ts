import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { observeUserRouting } from '../helpers/suite/steps.ts';

/** Routing by user (the lab's istio-features/04-request-routing.yaml): jason to reviews v2, everyone else to v1. */
const routing = featureTest({ feature: 'request-routing' });

routing('user jason is routed to reviews v2, everyone else to v1', async ({ run, env }) => {
  await mustPass(
    run,
    await observeUserRouting(env, 'request-routing', [
      { who: { user: 'jason' }, servedBy: 'reviews-v2', title: 'user jason (logged in) is served by reviews v2' },
      { who: { anonymous: true }, servedBy: 'reviews-v1', title: 'an anonymous visitor is served by reviews v1' },
      // productpage forwards end-user only from its login session, so the header alone must change nothing.
      { who: { endUserHeader: 'jason' }, servedBy: 'reviews-v1', title: 'an end-user: jason header without a login is served by reviews v1' },
    ]),
  );
});
