import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { observeLabQueries } from '../helpers/suite/observability-steps.ts';

/**
 * Part 04's Prometheus queries (helpers/suite/observability-steps.ts `labQueries`), after Bookinfo traffic: the
 * request rate, P99 latency and error rate answer for every Bookinfo service. The TCP bytes query answers
 * empty, and its verdict says so: Bookinfo has no TCP traffic for Istio to count.
 */
const prometheus = featureTest({ feature: 'prometheus' });

prometheus('request rate, P99 latency and error rate for every Bookinfo service; TCP bytes sent empty', async ({ run, env }) => {
  await mustPass(run, await observeLabQueries(env, 'prometheus', { namespace: 'bookinfo', services: ['productpage', 'details', 'reviews', 'ratings'] }));
});
