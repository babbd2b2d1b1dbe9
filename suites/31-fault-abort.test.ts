import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { proveLiveFromMesh } from '../helpers/suite/live.ts';
import { observeAbortRate } from '../helpers/suite/steps/faults.ts';

/** HTTP 500 for 10 % of all requests to ratings (the lab's istio-features/02-fault-injection.yaml). */
const abort = featureTest({
  feature: 'fault-abort',
  // Only a ratings route changes; the in-mesh client reaches ratings directly, through its own sidecar.
  proveLive: ({ env, applied }) => proveLiveFromMesh(env, applied, 'ratings', 'the faults on ratings'),
});

abort("10 % of calls to ratings are answered HTTP 500 by the proxy, jason's and everyone else's", async ({ run, env }) => {
  await mustPass(run, await observeAbortRate(env));
});
