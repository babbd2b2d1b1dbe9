/**
 * Prometheus' answers to the lab's queries, as instant vectors per Bookinfo service. The envelope and result
 * formats are Prometheus' HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/), read in
 * helpers/net/prometheus-answer.ts.
 */
import { readPrometheusAnswer } from '../../net/prometheus-answer.ts';
import { httpStatusText, listed, noAnswer, notJsonText, reading, shortNumber, withoutTrailingSlash, type Answered, type Parsed, type Reading } from './answer.ts';

export const prometheusApi = {
  query: (base: string, promql: string) => `${withoutTrailingSlash(base)}/api/v1/query?${new URLSearchParams({ query: promql })}`,
};

export interface PromSeries {
  labels: Record<string, string>;
  value: number;
}

/** The series of an instant query's answer, or why there are none to read (an error envelope says which). */
export function parsePromVector(answer: Answered): Parsed<PromSeries[]> {
  if (answer.status === 0) return { ok: false, classification: noAnswer(answer) };
  const read = readPrometheusAnswer(answer.body);
  // Prometheus answers errors with 4xx/5xx and its JSON envelope: errorType bad_data, execution, timeout, …
  if (read.kind === 'error') return { ok: false, classification: `Prometheus error ${read.errorType ?? `HTTP ${answer.status}`}: ${read.error ?? 'no message'}` };
  if (answer.status !== 200) return { ok: false, classification: httpStatusText(answer) };
  if (read.kind === 'not-json') return { ok: false, classification: notJsonText(answer) };
  const notVector = (why: string) => ({ ok: false as const, classification: `not an instant vector from Prometheus: ${why}` });
  if (read.kind !== 'result') return notVector(read.why);
  if (read.result.resultType !== 'vector') return notVector(`data.resultType: ${read.result.resultType}, not vector`);
  return { ok: true, value: read.result.result.map(({ metric, value }) => ({ labels: metric, value: value.value })) };
}

/**
 * The Bookinfo service a series is about, from Istio's `destination_service` label (the FQDN,
 * `reviews.bookinfo.svc.cluster.local`: istio.io's Istio Standard Metrics, https://istio.io/latest/docs/reference/config/metrics/),
 * or undefined for another namespace.
 */
export function serviceOf(labels: Record<string, string>, namespace: string): string | undefined {
  const match = /^([^.]+)\.([^.]+)\.svc(\.|$)/.exec(labels.destination_service ?? '');
  return match && match[2] === namespace ? match[1] : undefined;
}

/** Per service of `namespace`: the values of its series. */
function valuesByService(series: PromSeries[], namespace: string): Map<string, number[]> {
  const byService = new Map<string, number[]>();
  for (const s of series) {
    const service = serviceOf(s.labels, namespace);
    if (service !== undefined) byService.set(service, [...(byService.get(service) ?? []), s.value]);
  }
  return byService;
}

export interface ServiceExpectation {
  namespace: string;
  /** The services that must each have data, e.g. productpage, details, reviews, ratings. */
  services: readonly string[];
}

const sortedNames = (names: readonly string[]) => [...names].sort().join(', ');

/**
 * Every service has a series whose values sum above 0: the request-rate query (one series per label set, so a
 * service has many; their sum is its rate). `withData` lists the services that do, for the error-rate reader.
 */
export function readPositivePerService(answer: Answered, expected: ServiceExpectation, noun: string): Reading & { withData: string[] } {
  const want = `${noun} for ${sortedNames(expected.services)}`;
  const parsed = parsePromVector(answer);
  if (!parsed.ok) return { ...reading(want, parsed.classification), withData: [] };
  const byService = valuesByService(parsed.value, expected.namespace);
  const problems: string[] = [];
  const withData: string[] = [];
  for (const service of expected.services) {
    const values = byService.get(service);
    const sum = values?.reduce((a, b) => a + b, 0);
    if (values === undefined) problems.push(`${service}: no series`);
    else if (!(sum! > 0)) problems.push(`${service}: ${shortNumber(sum!)}`);
    else withData.push(service);
  }
  if (problems.length === 0) return { ...reading(want, want), withData };
  return { ...reading(want, `${problems.join('; ')}${withData.length ? ` — ${noun} only for ${sortedNames(withData)}` : ''}`), withData };
}

/** Every service has a finite value: the P99 query, which is NaN for a service with no requests in the window. */
export function readFinitePerService(answer: Answered, expected: ServiceExpectation, noun: string): Reading {
  const want = `${noun} for ${sortedNames(expected.services)}`;
  const parsed = parsePromVector(answer);
  if (!parsed.ok) return reading(want, parsed.classification);
  const byService = valuesByService(parsed.value, expected.namespace);
  const problems: string[] = [];
  const present: string[] = [];
  for (const service of expected.services) {
    const values = byService.get(service);
    if (values === undefined) problems.push(`${service}: no series`);
    else if (!values.every(Number.isFinite)) problems.push(`${service}: ${values.map(shortNumber).join(', ')}`);
    else present.push(service);
  }
  if (problems.length === 0) return reading(want, want);
  return reading(want, `${problems.join('; ')}${present.length ? ` — ${noun} only for ${sortedNames(present)}` : ''}`);
}

/**
 * The lab's error-rate query, `sum(… response_code=~"5.*" …) by (destination_service) / sum(…) by
 * (destination_service)`. PromQL divides only series present on both sides, so a service that answered no 5xx
 * in the window has NO series: empty is the healthy answer, not a missing one. A service therefore has an error
 * rate when it has a finite ratio, or no ratio while the request-rate query shows it had traffic (`withTraffic`):
 * 0 %. Without traffic it has none, since the ratio would be 0/0.
 */
export function readErrorRatioPerService(answer: Answered, expected: ServiceExpectation, withTraffic: readonly string[], noun: string): Reading {
  const want = `${noun} for ${sortedNames(expected.services)}`;
  const parsed = parsePromVector(answer);
  if (!parsed.ok) return reading(want, parsed.classification);
  const byService = valuesByService(parsed.value, expected.namespace);
  const problems: string[] = [];
  for (const service of expected.services) {
    const values = byService.get(service);
    if (values === undefined && !withTraffic.includes(service)) problems.push(`${service}: no series and no traffic counted`);
    else if (values !== undefined && !values.every(Number.isFinite)) problems.push(`${service}: ${values.map(shortNumber).join(', ')}`);
  }
  return reading(want, problems.length === 0 ? want : problems.join('; '));
}

/** The services with a ratio in an error-rate answer, with their ratio (the ones that answered 5xx); undefined when unreadable. */
export function errorRatios(answer: Answered, namespace: string): Record<string, number> | undefined {
  const parsed = parsePromVector(answer);
  if (!parsed.ok) return undefined;
  return Object.fromEntries([...valuesByService(parsed.value, namespace)].map(([service, values]) => [service, values[0]!]));
}

/**
 * Which series an answer held, whatever they are: for a query whose emptiness is the expected answer (the TCP
 * query in a lab without TCP traffic). `answered` is false only when there was no vector to read.
 */
export function readSeriesPresence(answer: Answered): { answered: boolean; classification: string; series: number } {
  const parsed = parsePromVector(answer);
  if (!parsed.ok) return { answered: false, classification: parsed.classification, series: 0 };
  if (parsed.value.length === 0) return { answered: true, classification: 'no series', series: 0 };
  const names = parsed.value.map((s) => s.labels.destination_service ?? JSON.stringify(s.labels));
  return { answered: true, classification: `${parsed.value.length} series: ${listed(names, 4)}`, series: parsed.value.length };
}
