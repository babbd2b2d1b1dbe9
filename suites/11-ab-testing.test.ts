import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { observeAbSplit } from '../helpers/suite/steps/routing.ts';

/** A/B testing (istio.io's traffic-shifting task at 50/50, fixtures/features/09-ab-testing.yaml): reviews v1 and v3. */
const abTest = featureTest({ feature: 'ab-testing' });

abTest('50 % of traffic to reviews v1, 50 % to v3', async ({ run, env }) => {
  await mustPass(run, await observeAbSplit(env));
});
