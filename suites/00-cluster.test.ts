import { describe, expect, inject, it } from 'vitest';
import { istioSupportsKubernetes } from '../helpers/config/versions.ts';
import { fetchServerVersion, loadKubeConfig } from '../helpers/provision/preflight.ts';

describe('the cluster', () => {
  it('answers, and runs a Kubernetes version the configured Istio supports', async () => {
    const config = inject('meshproofConfig');
    const kc = loadKubeConfig(config);
    const version = await fetchServerVersion(kc, config.timeouts.preflight);
    expect(istioSupportsKubernetes(config.istio, version), `Kubernetes ${version} with Istio ${config.istio.version}`).toBe(true);
    if (config.target === 'kind') expect(version).toBe(config.kubernetes?.version);
  });
});
