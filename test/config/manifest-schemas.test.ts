import { describe, expect, it } from 'vitest';
import { validateObjects } from '../../helpers/config/manifest-schemas.ts';
import { ManifestError, type FixtureObject, type KubeObject } from '../../helpers/config/manifests.ts';

/**
 * The schemas every fixture is checked against before it reaches a cluster: each kind's model is loaded when an
 * object of that kind is first validated, so these cases cover every API group meshproof knows, and what it says
 * about a kind it does not.
 */
const fixture = (object: KubeObject): FixtureObject => ({ file: 'fixtures/test.yaml', object });
const refusal = async (...objects: KubeObject[]): Promise<string> => {
  const error: unknown = await validateObjects(objects.map(fixture)).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ManifestError);
  expect((error as ManifestError).exitCode).toBe(2);
  return (error as ManifestError).message;
};

const service: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ratings', namespace: 'bookinfo' }, spec: { ports: [{ port: 9080, name: 'http' }], selector: { app: 'ratings' } } };
const virtualService: KubeObject = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'ratings', namespace: 'bookinfo' },
  spec: { hosts: ['ratings'], http: [{ fault: { delay: { fixedDelay: '7s', percentage: { value: 100 } } }, route: [{ destination: { host: 'ratings', subset: 'v1' } }] }] },
};

describe('validateObjects', () => {
  it('accepts a valid object of every API group meshproof validates', async () => {
    await expect(
      validateObjects(
        [
          service,
          { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a' }, spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'a', image: 'a' }] } } } },
          { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'a' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'a', image: 'a' }] } } } } } },
          virtualService,
          { apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name: 'a' }, spec: { configPatches: [{ applyTo: 'HTTP_FILTER' }] } },
          { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } },
          { apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: 'mesh-default' }, spec: { tracing: [{ randomSamplingPercentage: 100 }] } },
        ].map(fixture),
      ),
    ).resolves.toBeUndefined();
  });

  it('names the file, the object and the field of the first invalid object', async () => {
    const wrong = { ...service, metadata: { name: 'details', namespace: 'bookinfo' }, spec: { ports: [{ port: 'http' }] } };
    expect(await refusal(service, wrong, { ...wrong, metadata: { name: 'third' } })).toBe('fixtures/test.yaml: Service bookinfo/details: spec.ports.0.port: must be integer');
  });

  it("refuses a duration Istio would refuse although the generated schema says only 'string'", async () => {
    const spelled = structuredClone(virtualService) as KubeObject & { spec: { http: { fault: { delay: { fixedDelay: string } } }[] } };
    spelled.spec.http[0]!.fault.delay.fixedDelay = '7 seconds';
    expect(await refusal(spelled)).toBe('fixtures/test.yaml: VirtualService bookinfo/ratings: spec.http.0.fault.delay.fixedDelay: "7 seconds" is not a duration such as 500ms, 3s or 1m');
  });

  it.each([
    ['an unknown kind of a known group', { apiVersion: 'v1', kind: 'Servise' }],
    ['a group meshproof does not validate', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' }],
    ['a type of the group that is not a kind', { apiVersion: 'v1', kind: 'ServiceSpec' }],
    ['a kind that is no type name', { apiVersion: 'v1', kind: '../v1/Service' }],
    ['a kind in the wrong group', { apiVersion: 'apps/v1', kind: 'Service' }],
  ])('refuses %s, listing every kind it knows', async (_, { apiVersion, kind }) => {
    const message = await refusal({ apiVersion, kind, metadata: { name: 'x', namespace: 'bookinfo' } });
    expect(message).toMatch(new RegExp(`^fixtures/test\\.yaml: ${kind.replace(/[./]/g, '\\$&')} bookinfo/x: meshproof has no schema for ${apiVersion.replace(/[./]/g, '\\$&')} ${kind.replace(/[./]/g, '\\$&')}; known: `));
    const known = message.split('; known: ')[1]!.split(', ');
    expect(known).toEqual(expect.arrayContaining(['v1/Service', 'apps/v1/Deployment', 'batch/v1/CronJob', 'networking.istio.io/v1/VirtualService', 'networking.istio.io/v1alpha3/EnvoyFilter', 'security.istio.io/v1/PeerAuthentication', 'telemetry.istio.io/v1/Telemetry']));
    expect(known.filter((k) => k.endsWith('List'))).toEqual([]);
    expect(known).not.toContain('v1/ServiceSpec');
  });
});
