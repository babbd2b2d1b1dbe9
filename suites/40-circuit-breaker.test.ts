import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { proveCircuitBreakerTrips } from '../helpers/suite/live.ts';
import { observeCircuitBreaker, observeEjection } from '../helpers/suite/steps/resilience.ts';

/**
 * A circuit breaker on reviews: 1 connection, 1 pending request, ejection after 1 consecutive 5xx (the lab's
 * istio-features/03-circuit-breaker.yaml); the ejection shown on meshproof's httpbin under the same values.
 */
const breaker = featureTest({
  feature: 'circuit-breaker',
  // A DestinationRule has no route to probe; a 503 from reviews can only be the breaker's overflow.
  proveLive: ({ env }) => proveCircuitBreakerTrips(env, 'the circuit breaker on reviews'),
});

breaker('one at a time every request is served; concurrent ones beyond 1 connection and 1 pending are refused as overflows (503 UO)', async ({ run, env }) => {
  await mustPass(run, await observeCircuitBreaker(env));
});

breaker('after 1 consecutive 5xx the endpoint is ejected: refused (503 UH) for the ejection time, then served again', async ({ run, env, applied }) => {
  await mustPass(run, await observeEjection(env, applied));
});
