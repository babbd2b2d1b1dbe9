import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeObject, loadFixture } from '../../helpers/config/manifests.ts';
import { validateObjects } from '../../helpers/config/manifest-schemas.ts';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { featureCatalog } from '../../helpers/config/features.ts';
import { localRateLimitOf } from '../../helpers/suite/steps/rate-limiting.ts';

const files = readdirSync(fromRoot('fixtures', 'features')).filter((f) => f.endsWith('.yaml')).sort();

describe('the lab feature files', () => {
  it("are the seven demos of the lab, in its order, then meshproof's versions of two istio.io tasks", () => {
    expect(files).toEqual([
      '01-traffic-shifting.yaml',
      '02-fault-injection.yaml',
      '03-circuit-breaker.yaml',
      '04-request-routing.yaml',
      '05-timeout-retry.yaml',
      '06-mirror-traffic.yaml',
      '07-mtls-strict.yaml',
      '08-rate-limiting.yaml',
      '09-ab-testing.yaml',
    ]);
  });

  it.each(files)('%s loads and validates against the Istio schemas', async (file) => {
    const objects = loadFixture(`fixtures/features/${file}`);
    expect(objects.length).toBeGreaterThan(0);
    await validateObjects(objects);
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

  it('abort 10 % of ALL calls to ratings, as the lab says: every route of the ratings VirtualService aborts 10 % with 500', () => {
    const [ratings] = loadFixture('fixtures/features/02-fault-injection.yaml');
    const routes = (ratings!.object.spec as { http: { fault?: { abort?: unknown } }[] }).http;
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(route.fault?.abort).toEqual({ percentage: { value: 10 }, httpStatus: 500 });
  });
});

describe("meshproof's versions of istio.io tasks", () => {
  it("08-rate-limiting.yaml: istio.io's local rate limit on productpage, which the catalogue's checks are written for", () => {
    const limit = localRateLimitOf({ objects: loadFixture('fixtures/features/08-rate-limiting.yaml') });
    // istio.io's task (the 1.31 docs): "configured to allow 4 requests/min", with the x-local-rate-limit header.
    expect(limit).toEqual({ maxTokens: 4, tokensPerFill: 4, fillIntervalMs: 60_000, headers: { 'x-local-rate-limit': 'true' } });
    // The burst must be able to meet the limit and the paced control to outlast a full bucket.
    const checks = featureCatalog['rate-limiting'].checks;
    expect(checks.burst.requests).toBeGreaterThan(limit.maxTokens + 1);
    expect(checks.paced.requests).toBeGreaterThan(limit.maxTokens);
    // The refusal the burst check and the live proof look for carries the fixture's own header.
    const refusal = checks.burst.matcher.anyOf.find((m) => 'header' in m)!;
    expect({ [refusal.header.name]: refusal.header.equals }).toEqual(limit.headers);
  });

  it("09-ab-testing.yaml: the 50/50 of v1 and v3 istio.io's traffic-shifting task applies, as the catalogue judges it", () => {
    const [vs] = loadFixture('fixtures/features/09-ab-testing.yaml');
    const route = (vs!.object.spec as { http: { route: { destination: { subset: string }; weight: number }[] }[] }).http[0]!.route;
    const weights = Object.fromEntries(route.map((r) => [`reviews-${r.destination.subset}`, r.weight]));
    expect(weights).toEqual({ 'reviews-v1': 50, 'reviews-v3': 50 });
    expect(weights).toEqual(featureCatalog['ab-testing'].checks.split.weights);
  });
});

describe("meshproof's own instruments (fixtures/checks/)", () => {
  const spec = (file: string) => loadFixture(file)[0]!.object.spec as Record<string, unknown>;

  it.each(readdirSync(fromRoot('fixtures', 'checks')).filter((f) => f.endsWith('.yaml')))('%s loads and validates against the Istio schemas', async (file) => {
    await validateObjects(loadFixture(`fixtures/checks/${file}`));
  });

  it("put the lab's exact circuit breaker on httpbin", () => {
    expect(spec('fixtures/checks/httpbin-outlier-detection.yaml').trafficPolicy).toEqual(spec('fixtures/features/03-circuit-breaker.yaml').trafficPolicy);
  });

  it("put the lab's exact retry block on httpbin", () => {
    const retries = (file: string) => (spec(file).http as { retries?: unknown }[])[0]!.retries;
    expect(retries('fixtures/checks/httpbin-retries.yaml')).toEqual(retries('fixtures/features/05-timeout-retry.yaml'));
  });
});
