import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { proveLiveFromMesh } from '../helpers/suite/live.ts';
import { allOf } from '../helpers/suite/step-env.ts';
import { observeAbortRate } from '../helpers/suite/steps/faults.ts';
import { observeKialiErrorRate, observeKialiValidations } from '../helpers/suite/steps/kiali.ts';

/** HTTP 500 for 10 % of all requests to ratings (the lab's istio-features/02-fault-injection.yaml). */
const abort = featureTest({
  feature: 'fault-abort',
  // Only a ratings route changes; the in-mesh client reaches ratings directly, through its own sidecar.
  proveLive: ({ env, applied }) => proveLiveFromMesh(env, applied, 'ratings', 'the faults on ratings'),
});

abort("10 % of calls to ratings are answered HTTP 500 by the proxy, jason's and everyone else's, and Kiali shows them failing", async ({ run, env }) => {
  const aborts = await observeAbortRate(env);
  await mustPass(run, allOf(aborts, await observeKialiErrorRate(env), await observeKialiValidations(env, 'fault-abort')));
});
