import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { observeJaegerTraces } from '../helpers/suite/observability-steps.ts';

/**
 * Part 04's Jaeger steps: select productpage.bookinfo, find traces, and see the end-to-end path across the
 * services. Jaeger names services <app>.<namespace> (pilot bootstrap serviceClusterOrDefault).
 */
const jaeger = featureTest({ feature: 'jaeger' });

jaeger('a /productpage trace runs end to end: productpage → details and productpage → reviews', async ({ run, env }) => {
  await mustPass(
    run,
    await observeJaegerTraces(env, 'jaeger', {
      service: 'productpage.bookinfo',
      path: '/productpage',
      calls: [
        ['productpage.bookinfo', 'details.bookinfo'],
        ['productpage.bookinfo', 'reviews.bookinfo'],
      ],
    }),
  );
});
