import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { observeMirroring } from '../helpers/suite/steps/routing.ts';

/** Shadow traffic (the lab's istio-features/06-mirror-traffic.yaml): v1 serves, v3 gets a copy of each request. */
const mirror = featureTest({ feature: 'mirroring' });

mirror('live traffic is answered by reviews v1 and mirrored to v3', async ({ run, env }) => {
  await mustPass(run, await observeMirroring(env));
});
