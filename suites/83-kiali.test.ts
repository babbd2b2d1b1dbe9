import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { labGraph, observeKialiGraph, observeKialiStatus } from '../helpers/suite/observability-steps.ts';

/** Kiali: running, and drawing Bookinfo's calls with live traffic and the mTLS lock on every edge. */
const kiali = featureTest({ feature: 'kiali' });

kiali('Kiali is running', async ({ run, env }) => {
  await mustPass(run, await observeKialiStatus(env, 'kiali'));
});

kiali('the bookinfo graph has live, mutual-TLS edges productpage → details, → reviews, and reviews v2 and v3 → ratings', async ({ run, env }) => {
  await mustPass(run, await observeKialiGraph(env, 'kiali', labGraph));
});
