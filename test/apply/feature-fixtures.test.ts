import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeObject, loadFixture, validateObject } from '../../helpers/apply/manifests.ts';
import { fromRoot } from '../../helpers/config/data-file.ts';

const files = readdirSync(fromRoot('fixtures', 'features')).filter((f) => f.endsWith('.yaml')).sort();

describe('the lab feature files', () => {
  it('are the seven demos of the lab, in its order', () => {
    expect(files).toEqual([
      '01-traffic-shifting.yaml',
      '02-fault-injection.yaml',
      '03-circuit-breaker.yaml',
      '04-request-routing.yaml',
      '05-timeout-retry.yaml',
      '06-mirror-traffic.yaml',
      '07-mtls-strict.yaml',
    ]);
  });

  it.each(files)('%s loads and validates against the Istio schemas', (file) => {
    const objects = loadFixture(`fixtures/features/${file}`);
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) validateObject(object);
  });

  it('configure what the lab describes', () => {
    const summary = files.flatMap((f) => loadFixture(`fixtures/features/${f}`)).map(({ object }) => `${describeObject(object)} ${JSON.stringify(object.spec)}`);
    expect(summary.join('\n')).toContain('"fixedDelay":"7s"');
    expect(summary.join('\n')).toContain('"httpStatus":500');
    expect(summary.join('\n')).toContain('"maxConnections":1');
    expect(summary.join('\n')).toContain('"http1MaxPendingRequests":1');
    expect(summary.join('\n')).toContain('"consecutive5xxErrors":1');
    expect(summary.join('\n')).toContain('"timeout":"3s"');
    expect(summary.join('\n')).toContain('"attempts":2');
    expect(summary.join('\n')).toContain('"mirrorPercentage":{"value":100}');
    expect(summary.join('\n')).toContain('PeerAuthentication bookinfo/default {"mtls":{"mode":"STRICT"}}');
  });
});
