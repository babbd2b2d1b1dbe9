import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { istioReleases, kindMatrixFor, loadSupportedVersions } from '../../helpers/config/versions.ts';

describe('the conformance workflow', () => {
  const workflow = parse(readFileSync(fromRoot('.github', 'workflows', 'conformance.yml'), 'utf8')) as {
    jobs: { conformance: { strategy: { matrix: { include: { istio: string; kubernetes: string }[] } }; steps: { run?: string }[] } };
  };

  it('covers every supported Istio release on every Kubernetes version it supports with a pinned node image', () => {
    const data = loadSupportedVersions();
    const expected = istioReleases(data).flatMap((istio) =>
      kindMatrixFor(data, istio).map((k) => ({ istio: istio.version.split('.').slice(0, 2).join('.'), kubernetes: k.minor })),
    );
    expect(workflow.jobs.conformance.strategy.matrix.include).toEqual(expected);
  });

  it('runs the README\'s main command', () => {
    const runs = workflow.jobs.conformance.steps.map((s) => s.run ?? '');
    expect(runs).toContain('npm test');
    expect(runs.some((r) => r.startsWith('npm ci'))).toBe(true);
  });
});
