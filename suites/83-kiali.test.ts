import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { observeKialiGraph, observeKialiStatus } from '../helpers/suite/observability-steps.ts';

/** Kiali: running, and drawing Bookinfo's calls with live traffic and the mTLS lock on every edge. */
const kiali = featureTest({ feature: 'kiali' });

kiali('Kiali is running', async ({ run, env }) => {
  await mustPass(run, await observeKialiStatus(env, 'kiali'));
});

kiali('the bookinfo graph has live, mutual-TLS edges productpage → details, → reviews, and reviews v2 and v3 → ratings', async ({ run, env }) => {
  await mustPass(
    run,
    await observeKialiGraph(env, 'kiali', {
      namespace: 'bookinfo',
      // Only reviews v2 and v3 call ratings (samples/bookinfo reviews: ENABLE_RATINGS); the baseline routes
      // reviews round-robin, so a batch of product pages reaches both.
      edges: [
        { from: 'productpage', to: 'details' },
        { from: 'productpage', to: 'reviews' },
        { from: 'reviews-v2', to: 'ratings' },
        { from: 'reviews-v3', to: 'ratings' },
      ],
    }),
  );
});
