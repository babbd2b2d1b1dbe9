import * as allure from 'allure-js-commons';
import { describe, expect, inject, it } from 'vitest';
import { httpRequest } from '../helpers/net/http.ts';
import { kubernetesServerVersion, ToolRunner } from '../helpers/provision/runner.ts';
import { runLabel } from '../helpers/report/allure-results.ts';

/**
 * The stack every feature suite stands on: it shows the setup phases in the report and proves, once more
 * from inside the run, that the cluster and the ingress are what the configuration asked for.
 */
describe('the mesh under test', () => {
  const { config, access, mesh, tools, runId } = inject('meshproof');

  // The setup phases themselves are a test of their own, written when the run ends (helpers/report/finish.ts).
  it('was provisioned as configured', async () => {
    await allure.epic('meshproof');
    await allure.feature('setup');
    await allure.label(runLabel, runId);
    await allure.parameter('Istio', mesh.istioVersion);
    await allure.parameter('Kubernetes', mesh.kubernetesVersion);
    const version = await kubernetesServerVersion(new ToolRunner(tools, access), config.timeouts.preflight);
    expect(version).toBe(mesh.kubernetesVersion);
    if (config.target === 'kind') expect(version).toBe(config.kubernetes?.version);
  });

  it('serves Bookinfo through the ingress gateway', async () => {
    const { status, body } = await httpRequest(`${mesh.ingressUrl}/productpage`, { timeoutMs: config.timeouts.request });
    expect(status).toBe(200);
    expect(body).toContain('<title>Simple Bookstore App</title>');
  });
});
