import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { allOf } from '../helpers/suite/step-env.ts';
import { observeKialiShares, observeKialiValidations } from '../helpers/suite/steps/kiali.ts';
import { observeCanarySplit } from '../helpers/suite/steps/routing.ts';

/** Canary release (the lab's istio-features/01-traffic-shifting.yaml): weighted routing of reviews. */
const canary = featureTest({ feature: 'traffic-shifting' });

canary('80 % of traffic to reviews v1, 10 % to v2, 10 % to v3, and Kiali draws the same shares', async ({ run, env }) => {
  const since = Date.now();
  const split = await observeCanarySplit(env);
  // "Observe in Kiali", while the canary is applied: its graph of the same requests, and its config validations.
  await mustPass(run, allOf(split, await observeKialiShares(env, split, since), await observeKialiValidations(env, 'traffic-shifting')));
});
