import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { applyFeatureConfig, prepareFeatureConfig, restoreBaseline } from '../../helpers/apply/feature-config.ts';
import { loadConfig } from '../../helpers/config/config.ts';
import { probeUserAgent } from '../../helpers/apply/live-probe.ts';
import { FakeCluster } from '../support/fake-cluster.ts';
import { useTempDirs } from '../support/temp.ts';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const tempDir = useTempDirs('meshproof-feature-config-');
const canary = 'fixtures/features/01-traffic-shifting.yaml';

describe('applying a feature configuration', () => {
  it('validates the fixture and gives each VirtualService this apply\'s probe route, first', async () => {
    const prepared = await prepareFeatureConfig([canary], 'abc12345');
    const [vs] = prepared.objects;
    const http = (vs!.object.spec as { http: { name?: string; match?: unknown }[] }).http;
    expect(http[0]!.name).toBe('meshproof-live-probe-abc12345');
    expect(JSON.stringify(http[0]!.match)).toContain(probeUserAgent('abc12345', 'reviews'));
    expect(http).toHaveLength(2);
    expect(prepared.yaml).toContain('weight: 80');
  });

  it('applies with server-side apply under meshproof\'s field manager', async () => {
    const cluster = new FakeCluster();
    const applied = await applyFeatureConfig(cluster, loadConfig({}, tempDir()), await prepareFeatureConfig([canary]));
    expect(cluster.calls).toHaveLength(1);
    expect(cluster.calls[0]!.args).toEqual(['apply', '--server-side', '--field-manager=meshproof', '--force-conflicts', '-f', '-']);
    expect(cluster.calls[0]!.input).toBe(applied.yaml);
  });

  it('restores the baseline: deletes what only the feature had, re-applies what the baseline declares', async () => {
    const dir = tempDir();
    const breaker = path.join(dir, 'breaker.yaml');
    writeFileSync(
      breaker,
      [
        'apiVersion: networking.istio.io/v1',
        'kind: DestinationRule',
        'metadata: {name: reviews, namespace: bookinfo}',
        'spec:',
        '  host: reviews',
        '  trafficPolicy: {connectionPool: {tcp: {maxConnections: 1}}}',
        '  subsets: [{name: v1, labels: {version: v1}}]',
      ].join('\n'),
    );
    const cluster = new FakeCluster();
    const config = loadConfig({}, tempDir());
    const applied = await prepareFeatureConfig([canary, breaker], 'id');
    await restoreBaseline(cluster, config, applied);
    const [remove, reapply] = cluster.calls;
    expect(remove!.args[0]).toBe('delete');
    const removed = parseAllDocuments(remove!.input!).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(removed.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['VirtualService/reviews']);
    expect(reapply!.args[0]).toBe('apply');
    expect(reapply!.input).toContain('name: bookinfo-gateway');
    expect(reapply!.input).not.toContain('trafficPolicy');
  });
});
