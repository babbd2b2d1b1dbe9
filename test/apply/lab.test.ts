import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { applyLabFeature, filesFor, labDemos, labFeatureObjects, resetLab } from '../../helpers/apply/lab.ts';
import { MeshproofError } from '../../helpers/errors.ts';
import { loadConfig } from '../../helpers/config/config.ts';
import { FakeCluster } from '../support/fake-cluster.ts';
import { useTempDirs } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-lab-');
const kinds = (input: string) => parseAllDocuments(input).map((d) => d.toJS() as { kind: string; metadata: { name: string } }).map((o) => `${o.kind}/${o.metadata.name}`);

describe('the lab commands', () => {
  it('know the demos by the lab\'s names and by meshproof\'s feature names', () => {
    expect([...labDemos().keys()]).toEqual(['traffic-shifting', 'fault-injection', 'circuit-breaker', 'request-routing', 'timeout-retry', 'mirror-traffic', 'mtls-strict', 'rate-limiting', 'ab-testing']);
    expect(filesFor('rate-limiting')).toEqual(['fixtures/features/08-rate-limiting.yaml']);
    expect(filesFor('fault-delay')).toEqual(['fixtures/features/04-request-routing.yaml', 'fixtures/features/02-fault-injection.yaml']);
    expect(() => filesFor('chaos')).toThrow(/no feature demo named "chaos"/);
    // A wrong name is the user's input, like an invalid setting: exit code 2, with every name that would do.
    const error = (() => {
      try {
        filesFor('chaos');
      } catch (e) {
        return e as MeshproofError;
      }
    })()!;
    expect(error.exitCode).toBe(2);
    expect(error.fix).toContain('traffic-shifting, fault-injection');
    expect(error.fix).toContain('fault-delay');
  });

  it('apply-feature applies the file exactly as written, without meshproof\'s probe route', async () => {
    const cluster = new FakeCluster();
    await applyLabFeature(cluster, loadConfig({}, tempDir()), await labFeatureObjects('request-routing'));
    expect(cluster.calls[0]!.input).toContain('exact: jason');
    expect(cluster.calls[0]!.input).not.toContain('meshproof-live-probe');
  });

  it('reset removes every demo object and meshproof\'s instruments, and re-applies the baseline routing', async () => {
    const cluster = new FakeCluster();
    await resetLab(cluster, loadConfig({}, tempDir()));
    const [remove, reapply] = cluster.calls;
    expect(kinds(remove!.input!)).toEqual([
      'VirtualService/reviews',
      'VirtualService/ratings',
      'PeerAuthentication/default',
      'EnvoyFilter/productpage-local-ratelimit',
      'DestinationRule/httpbin',
      'VirtualService/httpbin',
    ]);
    expect(kinds(reapply!.input!)).toContain('DestinationRule/reviews');
  });
});
