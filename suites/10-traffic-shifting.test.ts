import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { observeCanarySplit } from '../helpers/suite/steps/routing.ts';

/** Canary release (the lab's istio-features/01-traffic-shifting.yaml): weighted routing of reviews. */
const canary = featureTest({ feature: 'traffic-shifting' });

canary('80 % of traffic to reviews v1, 10 % to v2, 10 % to v3', async ({ run, env }) => {
  await mustPass(run, await observeCanarySplit(env));
});
