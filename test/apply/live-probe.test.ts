import { describe, expect, it } from 'vitest';
import { withLiveProbe } from '../../helpers/apply/live-probe.ts';
import type { KubeObject } from '../../helpers/config/manifests.ts';
import { validateObjects } from '../../helpers/config/manifest-schemas.ts';

const canary: KubeObject = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'bookinfo' },
  spec: {
    hosts: ['reviews'],
    http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 20 }] }],
  },
};

describe('withLiveProbe', () => {
  it('puts one probe route first, matching only this apply, and keeps the rest as written', async () => {
    const probed = withLiveProbe(canary, 'a1b2c3d4') as KubeObject & { spec: { http: Record<string, unknown>[] } };
    expect(probed.spec.http).toHaveLength(2);
    expect(probed.spec.http[0]).toEqual({
      name: 'meshproof-live-probe-a1b2c3d4',
      match: [{ headers: { 'user-agent': { exact: 'meshproof-probe/a1b2c3d4/reviews' } } }],
      fault: { abort: { httpStatus: 418, percentage: { value: 100 } } },
      route: [{ destination: { host: 'reviews' } }],
    });
    expect(probed.spec.http[1]).toEqual((canary.spec as { http: unknown[] }).http[0]);
    expect((canary.spec as { http: unknown[] }).http).toHaveLength(1);
    await expect(validateObjects([{ file: 'test', object: probed }])).resolves.toBeUndefined();
  });

  it('leaves other kinds alone', () => {
    const rule: KubeObject = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'reviews' }, spec: { host: 'reviews' } };
    expect(withLiveProbe(rule, 'x')).toBe(rule);
  });
});
