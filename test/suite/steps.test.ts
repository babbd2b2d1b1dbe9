import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareFeatureConfig } from '../../helpers/apply/feature-config.ts';
import { execa } from 'execa';
import { loadConfig } from '../../helpers/config/config.ts';
import { loginAs } from '../../helpers/observe/bookinfo.ts';
import { probeUserAgent } from '../../helpers/gate/config-live.ts';
import { PollTimeoutError } from '../../helpers/gate/poll.ts';
import { PrometheusClient } from '../../helpers/observe/prometheus.ts';
import {
  observeAbortRate,
  observeCircuitBreaker,
  proveCircuitBreakerTrips,
  observeInMeshDelay,
  observeMirroring,
  observeRouteTimeout,
  observeStrictMtls,
  provePlaintextRefused,
  observeReviewsSplit,
  observeUserFacingFault,
  observeUserRouting,
  proveLiveFromMesh,
  proveLiveViaIngress,
  verdictsOf,
  type StepEnv,
  type UserRoute,
} from '../../helpers/suite/steps.ts';
import { startBookinfoDouble, type BookinfoDouble, type ReviewsVersion } from '../support/bookinfo-double.ts';
import { startIstioExporter, type IstioExporter } from '../support/istio-exporter.ts';
import { prometheusAvailability, startPrometheus, type PrometheusHarness } from '../support/prometheus-harness.ts';
import { useTempDirs } from '../support/temp.ts';

/**
 * The canary suite's steps against a simulated mesh: the Bookinfo double plays the gateway and the reviews
 * versions, and every reviews answer is counted by an Istio-shaped exporter that a real Prometheus scrapes,
 * as a destination sidecar's istio_requests_total would be.
 */
const tempDir = useTempDirs('meshproof-steps-');
const availability = prometheusAvailability();
const canary = { 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 };

describe.skipIf(!availability.available)('the traffic-shifting steps on a simulated mesh', () => {
  let double: BookinfoDouble;
  let exporter: IstioExporter;
  let prometheus: PrometheusHarness;
  let env: StepEnv;
  /** Versions whose sidecar does not report metrics (a broken telemetry setup). */
  const silent = new Set<ReviewsVersion>();
  let delayInjected = false;
  /** While set, productpage's sidecar counts the mesh client's requests as mutual TLS. */
  let strictMtls = false;
  /** While set, every reviews request is copied to v3, whose sidecar counts the copy. */
  let mirrorToV3 = false;
  /** Where plaintext from outside the mesh lands under STRICT: a server whose sidecar resets it. */
  let strict: BookinfoDouble;
  /** The plaintext client's requests go to `strict` while STRICT is on, to the ordinary double otherwise. */
  let plaintextTarget = () => double.url;

  beforeAll(async () => {
    exporter = await startIstioExporter();
    exporter.add({ reporter: 'destination', destination_service_name: 'reviews', destination_version: 'v1' }, 0);
    double = await startBookinfoDouble({
      seed: 4,
      onTimeout: () => exporter.add({ reporter: 'source', source_workload: 'mesh-client', destination_service_name: 'reviews', response_code: '504', response_flags: 'UT' }, 1),
      onOverflow: () => exporter.add({ reporter: 'source', source_workload: 'mesh-client', destination_service_name: 'reviews', response_code: '503', response_flags: 'UO' }, 1),
      onAbort: () => exporter.add({ reporter: 'source', source_workload: 'mesh-client', destination_service_name: 'ratings', response_code: '500', response_flags: 'FI' }, 1),
      onReviews: (version, user) => {
        if (!silent.has(version)) exporter.add({ reporter: 'destination', destination_service_name: 'reviews', destination_version: version }, 1);
        // reviews-v2's sidecar reports a delayed call to ratings (response flag DI) while a delay is injected.
        if (mirrorToV3) exporter.add({ reporter: 'destination', destination_service_name: 'reviews', destination_version: 'v3' }, 1);
        if (strictMtls) {
          exporter.add({ reporter: 'destination', destination_workload: 'productpage-v1', source_workload: 'mesh-client', connection_security_policy: 'mutual_tls' }, 1);
        }
        if (version === 'v2' && user === 'jason' && delayInjected) {
          exporter.add({ reporter: 'source', source_workload: 'reviews-v2', destination_service_name: 'ratings', response_flags: 'DI' }, 1);
        }
      },
    });
    strict = await startBookinfoDouble({ plaintextRejected: true });
    prometheus = await startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalMs: 1_000 });
    const localCurl = async (argv: string[]) => {
      const run = await execa(argv[0]!, argv.slice(1), { reject: false });
      return { stdout: run.stdout, stderr: run.stderr, exitCode: run.exitCode ?? 1 };
    };
    const config = loadConfig(
      { MESHPROOF_TIMEOUT_METRIC_PROPAGATION: '15s', MESHPROOF_TIMEOUT_METRIC_POLL: '200ms', MESHPROOF_TIMEOUT_CONFIG_LIVE: '2s', MESHPROOF_TIMEOUT_CONFIG_LIVE_POLL: '20ms' },
      tempDir(),
    );
    env = {
      config,
      ingressUrl: double.url,
      addons: { prometheus: prometheus.url, grafana: '', jaeger: '', kiali: '' },
      prometheus: new PrometheusClient({ url: prometheus.url, requestTimeoutMs: 5_000 }),
      versions: { meshproof: 'test' },
      // The clients are this machine's curl, run through the same batch script as in the pods.
      meshClient: localCurl,
      legacyClient: (argv) => localCurl(argv.map((arg) => arg.replace(double.url, plaintextTarget()))),
      meshUrls: { reviews: `${double.url}/api/v1/products/0/reviews`, ratings: `${double.url}/api/v1/products/0/reviews`, productpage: `${double.url}/productpage` },
      // The double knows users by productpage's session cookie, where a mesh reads end-user.
      asUser: async (user) => ({ cookie: (await loginAs(double.url, user, { timeoutMs: 5_000 })).cookie }),
    };
  });
  afterAll(async () => {
    await Promise.all([double?.stop(), strict?.stop(), prometheus?.stop(), exporter?.stop()]);
  });

  it('proves the applied canary is live only once its probe route answers', async () => {
    const applied = prepareFeatureConfig(['fixtures/features/01-traffic-shifting.yaml']);
    const notYet = await proveLiveViaIngress({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, configLive: 300 } } }, applied, 'the canary').catch((e: unknown) => e);
    expect(notYet).toBeInstanceOf(PollTimeoutError);
    double.setOptions({ abortUserAgents: { [probeUserAgent(applied.applyId, 'reviews')]: 418 } });
    await proveLiveViaIngress(env, applied, 'the canary');
  });

  it('passes an 80/10/10 mesh, in the responses and in Prometheus', async () => {
    double.setOptions({ weights: { v1: 80, v2: 10, v3: 10 } });
    const observed = await observeReviewsSplit(env, 'traffic-shifting', '80 % of traffic to reviews v1', canary);
    const verdicts = verdictsOf(observed);
    expect(verdicts.map((v) => v.judge)).toEqual(['weighted-split', 'metric-increase', 'metric-increase', 'metric-increase']);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    expect(observed.recordings[0]!.metrics[0]!.name).toBe('requests at reviews by version');
  });

  it('fails a 70/20/10 mesh on the split, while Prometheus agrees with what was served', async () => {
    double.setOptions({ weights: { v1: 70, v2: 20, v3: 10 } });
    const [split, ...metrics] = verdictsOf(await observeReviewsSplit(env, 'traffic-shifting', '80 % of traffic to reviews v1', canary));
    expect(split!.pass).toBe(false);
    expect(split!.sentence).toMatch(/the split differs/);
    for (const verdict of metrics) expect(verdict.pass, verdict.sentence).toBe(true);
  });

  it('fails the metric check of a version whose sidecar reports nothing', async () => {
    double.setOptions({ weights: { v1: 80, v2: 10, v3: 10 } });
    silent.add('v3');
    const verdicts = verdictsOf(
      await observeReviewsSplit({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, metricPropagation: 3_000 } } }, 'traffic-shifting', 'canary', canary),
    );
    silent.clear();
    const v3 = verdicts.find((v) => v.sentence.includes('reviews-v3 served'))!;
    expect(v3.pass).toBe(false);
    expect(v3.sentence).toMatch(/destination_version="v3" rose by 0 /);
  });

  const routes: UserRoute[] = [
    { who: { user: 'jason' }, servedBy: 'reviews-v2', title: 'user jason is served by reviews v2' },
    { who: { anonymous: true }, servedBy: 'reviews-v1', title: 'everyone else is served by reviews v1' },
    { who: { endUserHeader: 'jason' }, servedBy: 'reviews-v1', title: 'an end-user header without a login changes nothing' },
  ];

  it('passes header routing when only a login as jason reaches v2', async () => {
    double.setOptions({ weights: { v1: 1, v2: 0, v3: 0 }, userRoutes: { jason: 'v2' } });
    const observed = await observeUserRouting(env, 'request-routing', routes);
    const verdicts = verdictsOf(observed);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    expect(verdicts.filter((v) => v.judge === 'all-match').map((v) => v.figures.n)).toEqual([88, 88, 88]);
  });

  it('fails it when jason is not routed', async () => {
    double.setOptions({ weights: { v1: 1, v2: 0, v3: 0 }, userRoutes: {} });
    const [jason] = verdictsOf(await observeUserRouting(env, 'request-routing', routes.slice(0, 1)));
    expect(jason!.pass).toBe(false);
    expect(jason!.sentence).toMatch(/^user jason is served by reviews v2 \(served by reviews-v2 with status 200\): 0 of 88 requests/);
  });

  it('proves a VirtualService behind reviews live from inside the mesh, with its own probe', async () => {
    const applied = prepareFeatureConfig(['fixtures/features/04-request-routing.yaml', 'fixtures/features/02-fault-injection.yaml']);
    double.setOptions({ abortUserAgents: { [probeUserAgent(applied.applyId, 'reviews')]: 418 } });
    const ratingsNotYet = await proveLiveFromMesh({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, configLive: 300 } } }, applied, 'ratings', 'the ratings faults').catch((e: unknown) => e);
    expect((ratingsNotYet as Error).message).toMatch(/last seen: ratings from the in-mesh client answered 200/);
    double.setOptions({ abortUserAgents: { [probeUserAgent(applied.applyId, 'ratings')]: 418 } });
    await proveLiveFromMesh(env, applied, 'ratings', 'the ratings faults');
  });

  it('measures a 7 s delay for jason in the mesh, and fails a 2 s one', async () => {
    double.setOptions({ weights: { v1: 1, v2: 0, v3: 0 }, userRoutes: { jason: 'v2' }, userLatencyMs: { jason: 7_050 } });
    delayInjected = true;
    const delayed = verdictsOf(await observeInMeshDelay(env, 'fault-delay', { user: 'jason', delayMs: 7_000, title: "jason's calls delayed by 7 s" }));
    expect(delayed.map((v) => v.judge)).toEqual(['latency', 'metric-increase']);
    for (const verdict of delayed) expect(verdict.pass, verdict.sentence).toBe(true);
    double.setOptions({ userLatencyMs: { jason: 2_000 } });
    delayInjected = false;
    const [short, unreported] = verdictsOf(
      await observeInMeshDelay({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, metricPropagation: 2_000 } } }, 'fault-delay', { user: 'jason', delayMs: 7_000, title: "jason's calls delayed by 7 s" }),
    );
    expect(short!.pass).toBe(false);
    expect(short!.sentence).toMatch(/10 took less than 7\.00 s/);
    expect(unreported!.pass).toBe(false);
    double.setOptions({ userLatencyMs: {} });
  }, 30_000);

  it("checks what jason sees: reviews unavailable on every request", async () => {
    double.setOptions({ reviewsUnavailableFor: ['jason'] });
    const [seen] = verdictsOf(await observeUserFacingFault(env, 'fault-delay', { user: 'jason', classification: 'reviews-unavailable', title: 'jason sees reviews unavailable' }));
    expect(seen!.pass, seen!.sentence).toBe(true);
    double.setOptions({ reviewsUnavailableFor: [] });
    const [healthy] = verdictsOf(await observeUserFacingFault(env, 'fault-delay', { user: 'jason', classification: 'reviews-unavailable', title: 'jason sees reviews unavailable' }));
    expect(healthy!.pass).toBe(false);
  });

  it('judges a 10 % abort rate at the client, in the responses and in Prometheus', async () => {
    double.setOptions({ errorRate: 0.1, seed: 8 });
    const healthy = verdictsOf(await observeAbortRate(env, 'fault-abort', { status: 500, rate: 0.1, title: '10 % of calls to ratings answered 500' }));
    expect(healthy.map((v) => v.judge)).toEqual(['rate', 'metric-increase']);
    for (const verdict of healthy) expect(verdict.pass, verdict.sentence).toBe(true);
    expect(healthy[0]!.figures.n).toBe(594);
    double.setOptions({ errorRate: 0.3 });
    const [tooMany] = verdictsOf(await observeAbortRate(env, 'fault-abort', { status: 500, rate: 0.1, title: '10 % of calls to ratings answered 500' }));
    expect(tooMany!.pass).toBe(false);
    double.setOptions({ errorRate: 0 });
  });

  it('proves STRICT mTLS by its effect, then judges both clients and the mutual_tls metric', async () => {
    const notYet = await provePlaintextRefused({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, configLive: 300 } } }, 'STRICT mTLS').catch((e: unknown) => e);
    expect((notYet as Error).message).toMatch(/last seen: plaintext from outside the mesh still answered 200/);
    plaintextTarget = () => strict.url;
    strictMtls = true;
    await provePlaintextRefused(env, 'STRICT mTLS');
    const verdicts = verdictsOf(await observeStrictMtls(env, 'mtls-strict'));
    expect(verdicts.map((v) => v.judge)).toEqual(['all-match', 'all-match', 'metric-increase']);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    strictMtls = false;
    const [, , plaintextCounted] = verdictsOf(await observeStrictMtls({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, metricPropagation: 2_000 } } }, 'mtls-strict'));
    expect(plaintextCounted!.pass).toBe(false);
    plaintextTarget = () => double.url;
    const [served] = verdictsOf(await observeStrictMtls({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, metricPropagation: 2_000 } } }, 'mtls-strict'));
    expect(served!.pass).toBe(false);
    expect(served!.sentence).toMatch(/plaintext from outside the mesh is refused \(no response\): 0 of 88 requests/);
  }, 30_000);

  it('proves the circuit breaker trips, then judges refusals and overflows', async () => {
    double.setOptions({ weights: { v1: 1, v2: 0, v3: 0 }, userRoutes: {}, latencyMs: 20 });
    const notYet = await proveCircuitBreakerTrips({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, configLive: 300 } } }, 'the circuit breaker').catch((e: unknown) => e);
    expect((notYet as Error).message).toMatch(/all 20 concurrent requests admitted: statuses 200/);
    double.setOptions({ maxInFlight: 2 });
    await proveCircuitBreakerTrips(env, 'the circuit breaker');
    const verdicts = verdictsOf(await observeCircuitBreaker(env, 'circuit-breaker', { count: 100, concurrency: 10 }));
    expect(verdicts.map((v) => v.judge)).toEqual(['all-match', 'metric-increase', 'metric-increase']);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    double.setOptions({ maxInFlight: undefined });
    const [, noOverflow] = verdictsOf(await observeCircuitBreaker({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, metricPropagation: 2_000 } } }, 'circuit-breaker', { count: 40, concurrency: 10 }));
    expect(noOverflow!.pass).toBe(false);
    double.setOptions({ latencyMs: 0 });
  }, 30_000);

  it('judges mirroring: v1 answers everything, v3 counts a copy of each', async () => {
    double.setOptions({ weights: { v1: 1, v2: 0, v3: 0 }, userRoutes: {} });
    mirrorToV3 = true;
    const verdicts = verdictsOf(await observeMirroring(env, 'mirroring', { primary: 'reviews-v1', mirror: 'reviews-v3', title: 'reviews v1 answers, v3 gets a copy' }));
    expect(verdicts.map((v) => v.judge)).toEqual(['all-match', 'metric-increase', 'metric-increase']);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    mirrorToV3 = false;
    const [, , noCopies] = verdictsOf(
      await observeMirroring({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, metricPropagation: 2_000 } } }, 'mirroring', { primary: 'reviews-v1', mirror: 'reviews-v3', title: 'reviews v1 answers, v3 gets a copy' }),
    );
    expect(noCopies!.pass).toBe(false);
  }, 30_000);

  it('judges a 3 s route timeout: nothing takes longer, and the cut-off requests are UT in Prometheus', async () => {
    double.setOptions({ weights: { v1: 1, v2: 0, v3: 0 }, userRoutes: {}, userLatencyMs: { jason: 3_500 }, routeTimeoutMs: 3_000 });
    const verdicts = verdictsOf(await observeRouteTimeout(env, 'timeouts-retries', { user: 'jason', timeoutMs: 3_000, title: 'no request waits past the 3 s timeout' }));
    expect(verdicts.map((v) => v.judge)).toEqual(['latency', 'metric-increase']);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    double.setOptions({ userLatencyMs: { jason: 5_000 }, routeTimeoutMs: undefined });
    const [tooSlow, noTimeouts] = verdictsOf(
      await observeRouteTimeout({ ...env, config: { ...env.config, timeouts: { ...env.config.timeouts, metricPropagation: 2_000 } } }, 'timeouts-retries', { user: 'jason', timeoutMs: 3_000, title: 'no request waits past the 3 s timeout' }),
    );
    expect(tooSlow!.pass).toBe(false);
    expect(noTimeouts!.pass).toBe(false);
    double.setOptions({ userLatencyMs: {} });
  }, 40_000);
});
