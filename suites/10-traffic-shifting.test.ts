import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { observeReviewsSplit } from '../helpers/suite/steps.ts';

/** Canary release (the lab's istio-features/01-traffic-shifting.yaml): weighted routing of reviews. */
const canary = featureTest({ feature: 'traffic-shifting' });

const split = '80 % of traffic to reviews v1, 10 % to v2, 10 % to v3';

canary(split, async ({ run, env }) => {
  await mustPass(run, await observeReviewsSplit(env, 'traffic-shifting', split, { 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 }));
});
