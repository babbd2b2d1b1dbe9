import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { observeAbortRate, proveLiveFromMesh } from '../helpers/suite/steps.ts';

/** HTTP 500 for 10 % of the calls to ratings (the lab's istio-features/02-fault-injection.yaml, everyone but jason). */
const abort = featureTest({
  feature: 'fault-abort',
  // Only a ratings route changes; the in-mesh client reaches ratings directly, through its own sidecar.
  awaitLive: ({ env, applied }) => proveLiveFromMesh(env, applied, 'ratings', 'the faults on ratings'),
});

abort('10 % of calls to ratings are answered HTTP 500 by the proxy', async ({ run, env }) => {
  await mustPass(run, await observeAbortRate(env, 'fault-abort', { status: 500, rate: 0.1, title: '10 % of calls to ratings answered HTTP 500' }));
});
