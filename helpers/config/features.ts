/**
 * The features meshproof proves, one suite file each, and every check each one makes: what it is judged
 * against, how many requests it sends and how many at a time. The numbers live here, beside the expectation
 * they serve, and nowhere else: the suites' steps read them, and `meshproof judge --strict` holds every
 * recording to them, so a recording whose expectation was weakened (100/0/0 for the canary, an empty matcher,
 * one request where 88 were planned) is refused rather than passed.
 *
 * The names are the keys users write in MESHPROOF_SKIP / MESHPROOF_ONLY and the names the conformance summary
 * reports.
 */

/** A matcher as data (helpers/judge/matchers.ts reads it). */
type Matcher = Record<string, unknown>;

/**
 * How many requests a check sends: a number, or planned from the run's α — 'all-match' is the smallest batch in
 * which routing wrong on 10 % of requests shows with probability 1 − α (88 at α = 1e-4), 'rate' the smallest in
 * which the exact binomial test catches a 10-point error with power 0.999 (helpers/judge/rates.ts).
 */
export type PlannedRequests = number | 'all-match' | 'rate';

interface CheckBase {
  /** In the lab's words; the recording's title. */
  title: string;
  /** Runs before the feature is applied ('before') or after the baseline is back ('after'): a control. */
  control?: 'before' | 'after';
  /** Where the check sits in the feature's client × phase matrix, for the report's chart of it. */
  matrixCell?: { row: string; column: string };
}

export type CheckSpec = CheckBase &
  (
    | { judge: 'weighted-split'; weights: Record<string, number>; concurrency: number }
    | { judge: 'all-match'; matcher: Matcher; requests: PlannedRequests; concurrency: number }
    | { judge: 'rate'; matcher: Matcher; expectedRate: number; requests: PlannedRequests; concurrency: number }
    | { judge: 'latency'; atLeastMs?: number; atMostMs?: number; quantile: number; requests: PlannedRequests; concurrency: number }
    | { judge: 'metric-increase'; metric: string; atLeast: number }
    | { judge: 'counter-ratio'; numerator: string; denominator: string; atLeast: number; atMost: number; requests: PlannedRequests }
    | {
        judge: 'trace-delay';
        /** The call the fault delays, by the caller's canonical service (and revision) and the Service called. */
        call: { from: string; fromRevision?: string; to: string };
        /** true: the subject, every such call lasts the fault's delay (read from the fixture); false: a control. */
        delayed: boolean;
        /** Upstream, the caller that gives up (an application's own timeout, not the mesh's). */
        gaveUp?: { from: string; to: string; attempts: number; timeoutMs: number; toleranceMs: number };
      }
    | {
        judge: 'ejection';
        refusedFlag: string;
        minRefused: number;
        reactionMs: number;
        toleranceMs: number;
        /** The lab's baseEjectionTime and interval (fixtures/checks/httpbin-outlier-detection.yaml, kept equal by a self-test). */
        ejectionMs: number;
        intervalMs: number;
      }
    | { judge: 'kiali'; reading: KialiReadingSpec }
    | { judge: 'istio-analysis'; namespace: string }
  );

/**
 * What a Kiali check reads (helpers/judge/kiali.ts): the parts fixed by the catalogue. The run adds the rest (the
 * split's counts and the interval's confidence, the run's α), and `judge --strict` holds a recording to these.
 */
export type KialiReadingSpec =
  | { of: 'edge-shares'; namespace: string; from: string; to: string }
  | { of: 'error-rate'; namespace: string; to: string; expectedRate: number }
  | { of: 'mtls'; namespace: string }
  | { of: 'validations'; namespace: string }
  | { of: 'sidecars'; namespace: string; workloads: string[] };

export interface FeatureSpec {
  description: string;
  /** The files the suite applies, in order (fixtures/features/ are the lab's; fixtures/checks/ meshproof's own). */
  fixtures: string[];
  checks: Record<string, CheckSpec>;
}

// The two clients of the STRICT mTLS checks (fixtures/bookinfo test workloads), as the matrix chart names them.
const plaintextClient = 'legacy-client (no sidecar)';
const meshClient = 'mesh-client (sidecar)';

const request = (n: PlannedRequests, concurrency: number) => ({ requests: n, concurrency });

/** Kiali's Istio config validations of bookinfo while a feature's files are applied (no error; warnings are listed). */
const kialiValidations = (applied: string) => ({
  title: `Kiali's validations find no error in bookinfo's Istio configuration with ${applied} applied`,
  judge: 'kiali' as const,
  reading: { of: 'validations' as const, namespace: 'bookinfo' },
});

/** The features as written; `featureCatalog` (below) adds the check every feature with files shares. */
const declaredCatalog = {
  'traffic-shifting': {
    description: 'Canary weights: 80 % of traffic to reviews v1, 10 % to v2, 10 % to v3',
    fixtures: ['fixtures/features/01-traffic-shifting.yaml'],
    checks: {
      split: {
        title: '80 % of traffic to reviews v1, 10 % to v2, 10 % to v3',
        judge: 'weighted-split',
        weights: { 'reviews-v1': 80, 'reviews-v2': 10, 'reviews-v3': 10 },
        concurrency: 8,
      },
      counted: { title: 'each version counted the requests it served', judge: 'metric-increase', metric: 'requests at reviews by version', atLeast: 1 },
      // The lab's "observe in Kiali", as a verdict: Kiali's graph, read during the feature, tells the same split.
      'kiali-shares': {
        title: "Kiali's graph shows productpage → reviews at the shares the responses showed",
        judge: 'kiali',
        reading: { of: 'edge-shares', namespace: 'bookinfo', from: 'productpage', to: 'reviews' },
      },
      'kiali-validations': kialiValidations('the canary'),
    },
  },
  // istio.io's traffic-shifting task shows the same shift at 50/50 between v1 and v3: the A/B test, judged by the same
  // per-request test as the canary.
  'ab-testing': {
    description: 'A/B testing: half of the traffic to reviews v1, half to v3',
    fixtures: ['fixtures/features/09-ab-testing.yaml'],
    checks: {
      split: { title: '50 % of traffic to reviews v1, 50 % to v3', judge: 'weighted-split', weights: { 'reviews-v1': 50, 'reviews-v3': 50 }, concurrency: 8 },
      counted: { title: 'each version counted the requests it served', judge: 'metric-increase', metric: 'requests at reviews by version', atLeast: 1 },
    },
  },
  'request-routing': {
    description: 'Header routing: user jason is routed to reviews v2, everyone else to v1',
    fixtures: ['fixtures/features/04-request-routing.yaml'],
    checks: {
      jason: { title: 'user jason (logged in) is served by reviews v2', judge: 'all-match', matcher: { classification: 'reviews-v2', status: 200 }, ...request('all-match', 8) },
      anonymous: { title: 'an anonymous visitor is served by reviews v1', judge: 'all-match', matcher: { classification: 'reviews-v1', status: 200 }, ...request('all-match', 8) },
      // productpage forwards end-user only from its login session, so the header alone must change nothing.
      'header-only': {
        title: 'an end-user: jason header without a login is served by reviews v1',
        judge: 'all-match',
        matcher: { classification: 'reviews-v1', status: 200 },
        ...request('all-match', 8),
      },
      counted: { title: 'each version counted the requests it served', judge: 'metric-increase', metric: 'requests at reviews by version', atLeast: 1 },
    },
  },
  'fault-delay': {
    description: 'Fault injection: a 7 s delay on ratings for user jason, and for nobody else',
    fixtures: ['fixtures/features/04-request-routing.yaml', 'fixtures/features/02-fault-injection.yaml'],
    checks: {
      // Envoy's fixedDelay is a floor for each request; the margin covers reviews' own work and two sidecar hops.
      jason: { title: "jason's requests to reviews v2 wait 7 s for ratings", judge: 'latency', atLeastMs: 7_000, atMostMs: 8_500, quantile: 0.95, ...request(10, 10) },
      'jason-counted': { title: "reviews-v2's sidecar reported jason's calls to ratings as delayed (DI)", judge: 'metric-increase', metric: 'delayed calls from reviews-v2 to ratings', atLeast: 10 },
      // The control: the same fault route must not touch anyone else. Half the delay is far above any healthy
      // answer and far below 7 s.
      others: { title: 'calls to ratings without end-user: jason are not delayed', judge: 'latency', atMostMs: 3_500, quantile: 1, ...request(20, 20) },
      'jason-sees': {
        title: 'every reviews request by jason answers "reviews unavailable" (productpage gives up after 2 × 3 s)',
        judge: 'all-match',
        matcher: { classification: 'reviews-unavailable' },
        ...request(20, 20),
      },
      // One page by jason through the gateway, found in Jaeger by the trace id it was sent with. productpage tries
      // reviews twice with a 3 s timeout each (samples/bookinfo productpage.py), so its sidecar ends both calls
      // unanswered (DC) after 3 s, while reviews-v2 still waits for ratings (10 s for black stars). The tolerance
      // covers the app's own work around each attempt and the span clocks of two pods.
      trace: {
        title: "a trace of jason's page shows reviews-v2's call to ratings lasting the 7 s delay, and productpage giving up on reviews after 2 × 3 s",
        judge: 'trace-delay',
        call: { from: 'reviews', fromRevision: 'v2', to: 'ratings' },
        delayed: true,
        gaveUp: { from: 'productpage', to: 'reviews', attempts: 2, timeoutMs: 3_000, toleranceMs: 500 },
      },
      // The control: an anonymous page sent at the same moment (reviews v1, which never calls ratings, on a healthy mesh).
      'trace-others': {
        title: "a trace of an anonymous page sent at the same moment has no call to ratings near the delay",
        judge: 'trace-delay',
        call: { from: 'reviews', to: 'ratings' },
        delayed: false,
      },
    },
  },
  'fault-abort': {
    description: 'Fault injection: HTTP 500 for 10 % of all requests to ratings',
    fixtures: ['fixtures/features/02-fault-injection.yaml'],
    checks: {
      others: {
        title: "10 % of everyone else's calls to ratings are answered HTTP 500 by the proxy",
        judge: 'rate',
        matcher: { status: 500, responseFlag: 'FI' },
        expectedRate: 0.1,
        ...request('rate', 20),
      },
      'others-answered': {
        title: "everyone else's calls are served by ratings or aborted by the proxy",
        judge: 'all-match',
        matcher: { anyOf: [{ status: 200 }, { status: 500, responseFlag: 'FI' }] },
        ...request('rate', 20),
      },
      'others-counted': { title: "the client's sidecar reported the aborts (FI)", judge: 'metric-increase', metric: 'aborted calls from the in-mesh client to ratings', atLeast: 1 },
      // jason's calls are delayed 7 s first (the same route), so they go out at once in as few waves as curl allows.
      jason: { title: "10 % of jason's calls to ratings are answered HTTP 500 too, after the 7 s delay", judge: 'rate', matcher: { status: 500, responseFlag: 'FI' }, expectedRate: 0.1, ...request('rate', 300) },
      'jason-counted': { title: "the client's sidecar reported jason's aborts after the delay (DI,FI)", judge: 'metric-increase', metric: "jason's delayed and aborted calls to ratings", atLeast: 1 },
      'kiali-errors': {
        title: "Kiali's graph shows about 10 % of the calls to ratings failing",
        judge: 'kiali',
        reading: { of: 'error-rate', namespace: 'bookinfo', to: 'ratings', expectedRate: 0.1 },
      },
      'kiali-validations': kialiValidations('the faults'),
    },
  },
  'circuit-breaker': {
    description: 'Circuit breaker: 1 connection, 1 pending request, ejection after 1 consecutive 5xx',
    fixtures: ['fixtures/features/03-circuit-breaker.yaml', 'fixtures/checks/httpbin-outlier-detection.yaml'],
    checks: {
      // The control: one request at a time never needs a second connection or a queue.
      sequential: { title: 'requests to reviews one at a time are all served', judge: 'all-match', matcher: { status: 200 }, ...request('all-match', 1) },
      burst: {
        title: 'concurrent requests beyond 1 connection and 1 pending request are served or refused as overflows (503 UO)',
        judge: 'all-match',
        matcher: { anyOf: [{ status: 200 }, { status: 503, responseFlag: 'UO' }] },
        ...request(200, 20),
      },
      overflows: { title: "the client's sidecar reported the refusals as overflows (UO), at least one", judge: 'metric-increase', metric: 'overflows from the in-mesh client to reviews', atLeast: 1 },
      served: { title: "reviews' sidecars counted the requests served", judge: 'metric-increase', metric: 'requests at reviews by version', atLeast: 1 },
      ejection: {
        title: 'after 1 consecutive 5xx httpbin is ejected: refused (503 UH) until the ejection time has passed, then served',
        judge: 'ejection',
        refusedFlag: 'UH',
        minRefused: 10,
        // Envoy ejects on its main thread, so a request within moments of the 5xx may still be served; around the
        // release either answer is fine within the client's clock and exec start-up.
        reactionMs: 1_000,
        toleranceMs: 2_000,
        ejectionMs: 180_000,
        intervalMs: 1_000,
      },
      'ejection-counted': { title: "the client's sidecar reported the refusals as no healthy upstream (UH)", judge: 'metric-increase', metric: 'refusals from the in-mesh client to httpbin', atLeast: 10 },
    },
  },
  'rate-limiting': {
    description: "Local rate limit on productpage's sidecar: a bucket of 4 requests, refilled 4 every 60 s; beyond it, HTTP 429",
    fixtures: ['fixtures/features/08-rate-limiting.yaml'],
    checks: {
      // The limiter's own answer (envoy local_ratelimit.cc): 429, body "local_rate_limited", and the header the
      // fixture adds to it (kept equal to 08-rate-limiting.yaml by a self-test). productpage never answers 429.
      burst: {
        title: 'a burst beyond the bucket is served, or refused by the limiter (429 local_rate_limited, x-local-rate-limit: true)',
        judge: 'all-match',
        matcher: { anyOf: [{ status: 200 }, { status: 429, responseFlag: 'RL', header: { name: 'x-local-rate-limit', equals: 'true' } }] },
        ...request(40, 20),
      },
      'burst-served': {
        title: "productpage's sidecar served as many of the burst as the bucket holds and refills during it, and no more",
        judge: 'metric-increase',
        metric: 'requests productpage served to the in-mesh client',
        atLeast: 1,
      },
      // The control: requests no faster than the bucket refills are never limited. One more than the bucket holds,
      // so at least one is served by a refilled token whatever the bucket held when they began.
      paced: { title: 'requests one refill period apart are all served', judge: 'all-match', matcher: { status: 200 }, ...request(5, 1) },
      'burst-after': {
        title: 'after the baseline is back, the same burst is served in full',
        judge: 'all-match',
        matcher: { status: 200 },
        ...request(40, 20),
        control: 'after',
      },
    },
  },
  'timeouts-retries': {
    description: 'A 3 s timeout on reviews and 2 retries on 5xx and connect failures',
    fixtures: ['fixtures/features/05-timeout-retry.yaml', 'fixtures/features/02-fault-injection.yaml', 'fixtures/checks/httpbin-retries.yaml'],
    checks: {
      timeout: { title: "jason's requests to reviews end within the 3 s timeout", judge: 'latency', atMostMs: 4_500, quantile: 1, ...request(30, 10) },
      'timeout-counted': { title: "the client's sidecar reported the requests it cut off as 504 UT, at least one", judge: 'metric-increase', metric: 'requests to reviews cut off by the route timeout', atLeast: 1 },
      // The control: Istio's own default policy retries connection failures only, never an application's 503.
      'no-retries-before': {
        title: 'without the retry policy, each request to httpbin /status/503 is one attempt',
        judge: 'counter-ratio',
        numerator: 'attempts at httpbin',
        denominator: 'requests from the in-mesh client to httpbin',
        atLeast: 1,
        atMost: 1,
        requests: 'all-match',
        control: 'before',
      },
      'retries-final': { title: 'every request to httpbin /status/503 ends in the 503 of the last attempt', judge: 'all-match', matcher: { status: 503 }, ...request('all-match', 8) },
      retries: {
        title: 'each request to httpbin /status/503 is tried 1 + 2 times',
        judge: 'counter-ratio',
        numerator: 'attempts at httpbin',
        denominator: 'requests from the in-mesh client to httpbin',
        atLeast: 3,
        atMost: 3,
        requests: 'all-match',
      },
      'retries-exhausted': { title: "the client's sidecar reported every request as retries exhausted (URX)", judge: 'metric-increase', metric: 'requests to httpbin whose retries ran out', atLeast: 1 },
    },
  },
  mirroring: {
    description: 'Traffic mirroring: live traffic to reviews v1, a shadow copy to v3',
    fixtures: ['fixtures/features/06-mirror-traffic.yaml'],
    checks: {
      primary: { title: 'reviews v1 answers every request', judge: 'all-match', matcher: { classification: 'reviews-v1', status: 200 }, ...request('all-match', 8) },
      counted: { title: 'reviews v1 counted each request it answered', judge: 'metric-increase', metric: 'requests at reviews by version', atLeast: 1 },
      copies: { title: 'reviews v3 received a copy of each request', judge: 'metric-increase', metric: 'requests at reviews by version', atLeast: 1 },
    },
  },
  'mtls-strict': {
    description: 'STRICT mTLS in the bookinfo namespace: plaintext from outside the mesh is rejected',
    fixtures: ['fixtures/features/07-mtls-strict.yaml'],
    checks: {
      'plaintext-before': { title: 'before STRICT, plaintext from outside the mesh is served (PERMISSIVE)', judge: 'all-match', matcher: { status: 200 }, ...request('all-match', 8), control: 'before', matrixCell: { row: plaintextClient, column: 'before: PERMISSIVE' } },
      // The mesh refuses plaintext by closing the connection it accepted: a reset, an empty reply or a failed TLS
      // handshake. A name that does not resolve or a port that refuses means the client never reached the mesh.
      'plaintext-refused': {
        title: 'plaintext from outside the mesh is refused by the sidecar',
        judge: 'all-match',
        matcher: { outcomeIn: ['reset', 'empty-reply', 'tls-failure'] },
        ...request('all-match', 8),
        matrixCell: { row: plaintextClient, column: 'STRICT' },
      },
      'mesh-served': { title: 'requests between sidecars are served', judge: 'all-match', matcher: { status: 200 }, ...request('all-match', 8), matrixCell: { row: meshClient, column: 'STRICT' } },
      'mesh-counted': { title: "productpage's sidecar reported the mesh client's requests as mutual_tls", judge: 'metric-increase', metric: 'productpage requests from the mesh client over mutual TLS', atLeast: 1 },
      'plaintext-after': { title: 'after the baseline is back, plaintext from outside the mesh is served again', judge: 'all-match', matcher: { status: 200 }, ...request('all-match', 8), control: 'after', matrixCell: { row: plaintextClient, column: 'after: baseline again' } },
      'kiali-mtls': { title: "Kiali's graph shows every edge with traffic into bookinfo as mutual TLS (isMTLS 100)", judge: 'kiali', reading: { of: 'mtls', namespace: 'bookinfo' } },
      // STRICT refuses plaintext only where a sidecar runs: Kiali must see one beside every Bookinfo workload.
      'kiali-sidecars': {
        title: "Kiali's workloads list shows an Envoy sidecar on every bookinfo pod",
        judge: 'kiali',
        reading: { of: 'sidecars', namespace: 'bookinfo', workloads: ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3'] },
      },
      'kiali-validations': kialiValidations('STRICT'),
    },
  },
  prometheus: { description: 'Prometheus answers the lab PromQL queries with Istio metrics', fixtures: [], checks: {} },
  grafana: { description: 'Grafana serves the Istio Mesh, Service, Workload and Control Plane dashboards', fixtures: [], checks: {} },
  jaeger: { description: 'Jaeger holds end-to-end traces of productpage requests', fixtures: [], checks: {} },
  kiali: { description: 'Kiali draws the bookinfo graph with live traffic and mTLS', fixtures: [], checks: {} },
} as const satisfies Record<string, FeatureSpec>;

/** The check id every feature with files has: `<feature>/istio-analysis`. */
export const analysisCheckId = 'istio-analysis';

/**
 * Istio's analyzers on bookinfo once a feature's files are applied and proven live (helpers/suite/feature-test.ts):
 * an Error fails the feature before any traffic is judged on a configuration Istio itself calls broken. It is the
 * same check for every feature with files, so it is made here rather than written into each.
 *
 * It has no control. A control shows the observation coming out differently without the feature; here the
 * expectation is the same with or without it (no error either way), so on a sound mesh a baseline analysis cannot
 * differ, and what it would catch (an error that predates the feature) does not depend on the feature. Its broken
 * case is shown instead: a route to a subset no DestinationRule defines (IST0101), in the samples of
 * docs/recordings/verdicts/. `meshproof plan --analyze` analyzes the same files offline on the lab's baseline.
 */
const analysisCheck = {
  title: "Istio's analyzers find no error in bookinfo with the feature applied",
  judge: 'istio-analysis',
  namespace: 'bookinfo',
} as const;

type WithAnalysis<C> = {
  [F in keyof C]: C[F] extends { fixtures: readonly [] }
    ? C[F]
    : C[F] extends { checks: infer Checks }
      ? Omit<C[F], 'checks'> & { checks: Checks & { [analysisCheckId]: typeof analysisCheck } }
      : never;
};

export const featureCatalog = Object.fromEntries(
  Object.entries(declaredCatalog).map(([name, spec]) => [name, spec.fixtures.length === 0 ? spec : { ...spec, checks: { ...spec.checks, [analysisCheckId]: analysisCheck } }]),
) as WithAnalysis<typeof declaredCatalog>;

export type FeatureName = keyof typeof featureCatalog;
export const featureNames = Object.keys(featureCatalog) as FeatureName[];

export function isFeatureName(name: string): name is FeatureName {
  return Object.hasOwn(featureCatalog, name);
}

/** The lab's files each feature applies, in order. */
export const featureFixtures = Object.fromEntries(featureNames.map((f) => [f, [...featureCatalog[f].fixtures]])) as Record<FeatureName, string[]>;

/** One check of the catalogue, by feature and id (the `check` of a recording is "<feature>/<id>"). */
export function checkSpec(check: string): CheckSpec | undefined {
  const [feature, id] = check.split('/');
  if (!feature || !id || !isFeatureName(feature)) return undefined;
  return (featureCatalog[feature].checks as Record<string, CheckSpec>)[id];
}

/**
 * Who calls whom in the lab and in the suites' own traffic: a VirtualService or DestinationRule for a Service
 * is enforced by the sidecars of these workloads (the gateway routes only to productpage, by its own
 * VirtualService). The config-live gate proves each one has the new configuration before any sample.
 */
export const meshCallers: Record<string, { namespace: string; workload: string }[]> = {
  reviews: [
    { namespace: 'bookinfo', workload: 'productpage-v1' },
    { namespace: 'meshproof', workload: 'mesh-client' },
  ],
  ratings: [
    { namespace: 'bookinfo', workload: 'reviews-v2' },
    { namespace: 'bookinfo', workload: 'reviews-v3' },
    { namespace: 'meshproof', workload: 'mesh-client' },
  ],
  details: [{ namespace: 'bookinfo', workload: 'productpage-v1' }],
  productpage: [{ namespace: 'meshproof', workload: 'mesh-client' }],
  httpbin: [{ namespace: 'meshproof', workload: 'mesh-client' }],
};
