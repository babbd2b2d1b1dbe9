import { z } from 'zod';
import { matchesEverything, requestMatcherSchema } from './matchers.ts';

/**
 * What a batch of observations is judged against, as data: written into every recording so that the verdict
 * can be made again offline. The schema says what is well-formed; `expectationProblems` says what makes sense
 * (weights that sum to 100, a latency bound, bounds in order), so a recording that could only crash a judge or
 * prove nothing is called invalid, not failed.
 */

const description = z.string().describe('what is expected, in the words of the lab');

const counterRef = z
  .strictObject({
    metric: z.string().describe('the name of a metricObservation'),
    group: z.record(z.string(), z.string()).optional().describe('only the increase of this group (labels of selector.by)'),
  })
  .describe("One counter's increase during the batch");

const namespace = z.string().describe('the namespace whose graph, config or workloads are read');

/** What a Kiali verdict reads from Kiali's answer (helpers/judge/kiali.ts says how each is judged). */
export const kialiReadingSchema = z.discriminatedUnion('of', [
  z
    .strictObject({
      of: z.literal('edge-shares'),
      namespace,
      from: z.string().describe('the calling app, e.g. "productpage"'),
      to: z.string().describe('the called app, e.g. "reviews"; its versions share the requests'),
      counts: z.record(z.string(), z.number().int().min(0)).describe('requests each class served in the split the graph is compared with, e.g. {"reviews-v1": 322}'),
      confidence: z.number().gt(0).lt(1).describe('the confidence of the intervals the graph\'s shares must lie in'),
    })
    .describe("The graph's request shares of from → to's versions lie in the split's confidence intervals"),
  z
    .strictObject({
      of: z.literal('error-rate'),
      namespace,
      to: z.string().describe('the called app or service, e.g. "ratings"'),
      expectedRate: z.number().min(0).max(1),
      alpha: z.number().gt(0).lt(0.5),
      scrapeSeconds: z.number().gt(0).describe("Prometheus' scrape interval: how far the graph's rates can be off from the counts, besides sampling"),
    })
    .describe("The graph's error share of all calls to this app is consistent with expectedRate (exact interval against a band)"),
  z.strictObject({ of: z.literal('mtls'), namespace }).describe('Every edge with traffic into the namespace is mutual TLS only (isMTLS 100)'),
  z.strictObject({ of: z.literal('validations'), namespace }).describe("Kiali's Istio config validations report no error in the namespace (warnings are listed)"),
  z
    .strictObject({ of: z.literal('sidecars'), namespace, workloads: z.array(z.string()).min(1).describe('the workloads that must be listed') })
    .describe("Kiali's workloads list shows each workload with pods, each with an Envoy sidecar"),
]);

export const expectationSchema = z.discriminatedUnion('judge', [
  z
    .strictObject({
      judge: z.literal('weighted-split'),
      description,
      weights: z.record(z.string(), z.number().min(0).max(100)).describe('percent of traffic per class; sums to 100'),
      alpha: z.number().gt(0).lt(0.5),
      minShiftPoints: z.number().gt(0).lt(100).optional(),
      power: z.number().gt(0).lt(1).optional(),
    })
    .describe('The classified requests follow these weights (sequential exact tests)'),
  z
    .strictObject({
      judge: z.literal('all-match'),
      description,
      matcher: requestMatcherSchema,
      alpha: z.number().gt(0).lt(0.5).optional().describe('the false-pass risk the sample size was planned for'),
    })
    .describe('Every request matches (deterministic behaviour)'),
  z
    .strictObject({
      judge: z.literal('rate'),
      description,
      matcher: requestMatcherSchema,
      expectedRate: z.number().min(0).max(1),
      alpha: z.number().gt(0).lt(0.5),
    })
    .describe('About this share of requests match (exact binomial test)'),
  z
    .strictObject({
      judge: z.literal('latency'),
      description,
      matcher: requestMatcherSchema.optional(),
      atLeastMs: z.number().min(0).optional(),
      atMostMs: z.number().min(0).optional(),
      quantile: z.number().gt(0).max(1).optional(),
    })
    .describe('Every matching request took at least atLeastMs; the quantile is at most atMostMs'),
  z
    .strictObject({
      judge: z.literal('metric-increase'),
      description,
      metric: z.string().describe('the name of a metricObservation'),
      group: z.record(z.string(), z.string()).optional().describe('only the increase of this group (labels of selector.by)'),
      atLeast: z.number().min(0),
      atMost: z.number().min(0).optional(),
    })
    .describe('A Prometheus counter rose by at least (and at most) this much during the batch'),
  z
    .strictObject({
      judge: z.literal('counter-ratio'),
      description,
      numerator: counterRef,
      denominator: counterRef,
      atLeast: z.number().min(0).describe('the smallest ratio numerator/denominator that passes'),
      atMost: z.number().min(0).describe('the largest ratio that passes'),
      minDenominator: z.number().int().min(1).describe('the denominator must have risen at least this much'),
    })
    .describe('Two counters rose in a fixed ratio during the batch (e.g. attempts per request: 1 + retries)'),
  z
    .strictObject({
      judge: z.literal('ejection'),
      description,
      trigger: requestMatcherSchema.describe('the first request: it fails and must eject the endpoint'),
      refused: requestMatcherSchema.describe("a request refused by the client's sidecar during the ejection"),
      served: requestMatcherSchema.describe('a request the endpoint serves'),
      ejectionMs: z.number().gt(0).describe("the DestinationRule's baseEjectionTime"),
      intervalMs: z.number().gt(0).describe('its outlier-detection interval: the endpoint is released on this timer'),
      reactionMs: z.number().min(0).describe('after the 5xx, requests may still be served for this long (Envoy ejects on its main thread)'),
      toleranceMs: z.number().min(0).describe("either answer is accepted this close to the ejection's edges"),
      minRefused: z.number().int().min(1),
    })
    .describe('One 5xx ejects the endpoint: refused during the ejection time, served after it'),
  z
    .strictObject({
      judge: z.literal('trace-delay'),
      description,
      call: z
        .strictObject({ from: z.string(), fromRevision: z.string().optional(), to: z.string() })
        .describe("the call the fault delays: the caller's canonical service (and revision) and the Service it calls"),
      delayMs: z.number().gt(0).describe("the fault's fixedDelay, read from the file applied"),
      delayed: z.boolean().describe('true: every such call lasts at least delayMs; false (a control): none reaches half of it'),
      gaveUp: z
        .strictObject({
          from: z.string(),
          to: z.string(),
          attempts: z.number().int().min(1),
          timeoutMs: z.number().gt(0),
          toleranceMs: z.number().min(0),
        })
        .optional()
        .describe('upstream, the caller that gives up: this many calls, each ended unanswered at its timeout'),
    })
    .describe("A fault's delay seen in one request's trace in Jaeger, and where the caller upstream gave up"),
  z
    .strictObject({ judge: z.literal('kiali'), description, reading: kialiReadingSchema })
    .describe("Kiali's answer, kept whole in the recording's answers, says what the mesh did (Kiali as a second witness)"),
  z
    .strictObject({ judge: z.literal('istio-analysis'), description, namespace: z.string().describe('the namespace analyzed (istioctl analyze -n)') })
    .describe("Istio's analyzers find no error in the namespace: the messages istioctl printed, kept in the recording's analysis (warnings are listed, never failed)"),
]);

export type KialiReading = z.infer<typeof kialiReadingSchema>;

export type Expectation = z.infer<typeof expectationSchema>;
export type JudgeKind = Expectation['judge'];
export const judgeKinds = expectationSchema.options.map((o) => o.shape.judge.value) as JudgeKind[];

/**
 * Requests a destination sidecar may count beyond a batch (a page productpage retried, a stray probe): the
 * most a metric-increase check allows above the count it expects.
 */
export const metricSlack = (count: number) => Math.max(2, Math.ceil(count * 0.01));

/** Metric observations an expectation reads, by name (to check they were recorded). */
export function metricsRead(expectation: Expectation): string[] {
  if (expectation.judge === 'metric-increase') return [expectation.metric];
  if (expectation.judge === 'counter-ratio') return [expectation.numerator.metric, expectation.denominator.metric];
  return [];
}

/**
 * Why an expectation cannot be judged as written: empty when it can. Weights must name classes and sum to 100,
 * a latency check needs a bound, lower bounds may not exceed upper ones, and a matcher must select something.
 */
export function expectationProblems(expectation: Expectation): string[] {
  const problems: string[] = [];
  switch (expectation.judge) {
    case 'weighted-split': {
      const weights = Object.values(expectation.weights);
      const sum = weights.reduce((a, b) => a + b, 0);
      if (weights.length === 0) problems.push('expectation.weights: names no class');
      else if (Math.abs(sum - 100) > 1e-9) problems.push(`expectation.weights: sum to ${+sum.toFixed(6)}, not 100`);
      break;
    }
    case 'all-match':
    case 'rate':
      if (matchesEverything(expectation.matcher)) problems.push('expectation.matcher: is empty, so every request would match');
      break;
    case 'latency':
      if (expectation.atLeastMs === undefined && expectation.atMostMs === undefined) problems.push('expectation: a latency check needs atLeastMs, atMostMs or both');
      if (expectation.atLeastMs !== undefined && expectation.atMostMs !== undefined && expectation.atLeastMs > expectation.atMostMs) {
        problems.push(`expectation: atLeastMs ${expectation.atLeastMs} is above atMostMs ${expectation.atMostMs}`);
      }
      break;
    case 'metric-increase':
      if (expectation.atMost !== undefined && expectation.atLeast > expectation.atMost) problems.push(`expectation: atLeast ${expectation.atLeast} is above atMost ${expectation.atMost}`);
      break;
    case 'counter-ratio':
      if (expectation.atLeast > expectation.atMost) problems.push(`expectation: atLeast ${expectation.atLeast} is above atMost ${expectation.atMost}`);
      break;
    case 'ejection':
      for (const name of ['trigger', 'refused', 'served'] as const) {
        if (matchesEverything(expectation[name])) problems.push(`expectation.${name}: is empty, so every request would match`);
      }
      if (expectation.toleranceMs * 2 >= expectation.ejectionMs) problems.push(`expectation: toleranceMs ${expectation.toleranceMs} leaves no ejection time to judge`);
      break;
    case 'trace-delay':
      if (expectation.gaveUp && expectation.gaveUp.toleranceMs >= expectation.gaveUp.timeoutMs) {
        problems.push(`expectation.gaveUp: toleranceMs ${expectation.gaveUp.toleranceMs} is not below timeoutMs ${expectation.gaveUp.timeoutMs}`);
      }
      break;
  }
  return problems;
}
