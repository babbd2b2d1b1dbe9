import { featureTest, mustPass } from '../helpers/suite/feature-test.ts';
import { labDashboards, observeGrafanaDashboards } from '../helpers/suite/observability-steps.ts';

/** Part 04's Grafana dashboards, with the titles Istio gives them, in folder istio (docs/addons.md). */
const grafana = featureTest({ feature: 'grafana' });

grafana('the Istio Mesh, Service, Workload and Control Plane dashboards are in folder istio, each with panels', async ({ run, env }) => {
  await mustPass(run, await observeGrafanaDashboards(env, 'grafana', labDashboards));
});
