import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { provePlaintextRefused } from '../helpers/suite/live.ts';
import { allOf } from '../helpers/suite/step-env.ts';
import { observeKialiMtls, observeKialiSidecars, observeKialiValidations } from '../helpers/suite/steps/kiali.ts';
import { observePlaintextServedAfter, observePlaintextServedBefore, observeStrictMtls } from '../helpers/suite/steps/mtls.ts';

/** STRICT mutual TLS in the bookinfo namespace (the lab's istio-features/07-mtls-strict.yaml). */
const strict = featureTest({
  feature: 'mtls-strict',
  // A PeerAuthentication has no route to probe: its own effect, plaintext refused by every server sidecar.
  proveLive: ({ env }) => provePlaintextRefused(env, 'STRICT mTLS in bookinfo'),
  // The same client and URL served in plaintext just before STRICT, and again once the baseline is back.
  controls: { before: observePlaintextServedBefore, after: observePlaintextServedAfter },
});

strict('plaintext from outside the mesh is refused, mesh traffic is served over mutual TLS, and Kiali shows every edge locked', async ({ run, env }) => {
  const since = Date.now();
  const observed = await observeStrictMtls(env);
  const kiali = allOf(await observeKialiMtls(env, since), await observeKialiSidecars(env), await observeKialiValidations(env, 'mtls-strict'));
  await mustPass(run, allOf(observed, kiali));
});
