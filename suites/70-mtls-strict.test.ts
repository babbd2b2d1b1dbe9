import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { observeStrictMtls, provePlaintextRefused } from '../helpers/suite/steps.ts';

/** STRICT mutual TLS in the bookinfo namespace (the lab's istio-features/07-mtls-strict.yaml). */
const strict = featureTest({
  feature: 'mtls-strict',
  // A PeerAuthentication has no route to probe: its own effect, plaintext refused, can only come from it.
  awaitLive: ({ env }) => provePlaintextRefused(env, 'STRICT mTLS in bookinfo'),
});

strict('plaintext from outside the mesh is refused, mesh traffic is served over mutual TLS', async ({ run, env }) => {
  await mustPass(run, await observeStrictMtls(env, 'mtls-strict'));
});
