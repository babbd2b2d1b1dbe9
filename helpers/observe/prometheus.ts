import { request } from 'undici';
import { z } from 'zod';
import { MeshproofError } from '../errors.ts';
import { errorText, pollUntil, PollTimeoutError } from '../gate/poll.ts';
import { promDiff, type Labels } from './prom-diff.ts';

export type { Labels } from './prom-diff.ts';

/** A point in time for the API: a Date, or a number of unix seconds (Prometheus' own unit). */
export type PromTime = Date | number;
/** `time` is in unix seconds, as Prometheus returns it. */
export interface Sample {
  time: number;
  value: number;
}
export interface VectorSample {
  metric: Labels;
  value: Sample;
}
export interface RangeSeries {
  metric: Labels;
  values: Sample[];
}
export type QueryResult =
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'matrix'; result: RangeSeries[] }
  | { resultType: 'scalar'; result: Sample }
  | { resultType: 'string'; result: { time: number; value: string } };

/** The API's error envelope, or a response that is not one, with the PromQL that caused it. */
export class PrometheusQueryError extends MeshproofError {
  constructor(
    readonly promql: string,
    /** Prometheus' errorType (bad_data, execution, timeout, …), or `http`/`unreachable`/`shape`. */
    readonly errorType: string,
    readonly detail: string,
    fix?: string,
  ) {
    super(`Prometheus could not run ${promql}: ${errorType}: ${detail}`, fix);
  }
}

// Sample values are strings because Go prints NaN and ±Inf that way; Number('+Inf') would be NaN.
const value = z.string().transform((v) => (v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v)));
const sample = z.tuple([z.number(), value]).transform(([time, v]) => ({ time, value: v }));
const labels = z.record(z.string(), z.string());
const data = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: labels, value: sample })) }),
  z.object({ resultType: z.literal('matrix'), result: z.array(z.object({ metric: labels, values: z.array(sample) })) }),
  z.object({ resultType: z.literal('scalar'), result: sample }),
  z.object({
    resultType: z.literal('string'),
    result: z.tuple([z.number(), z.string()]).transform(([time, v]) => ({ time, value: v })),
  }),
]);
const envelope = z.object({
  status: z.enum(['success', 'error']),
  data: z.unknown().optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
});

// ---------------------------------------------------------------------------------------------------------
// Query building

/** Exact label matches on one metric (and regular-expression ones), optionally summed by some labels. */
export interface MetricSelector {
  metric: string;
  labels?: Labels;
  /** Labels matched with =~ (RE2, anchored by Prometheus), e.g. response_flags "DI(,.*)?" for "DI" and "DI,FI". */
  labelsMatching?: Labels;
  by?: string[];
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** `metric{a="x",b="y"}`: the raw series, no aggregation. */
export function seriesSelector({ metric, labels = {}, labelsMatching = {} }: MetricSelector): string {
  if (!metricName.test(metric)) throw new MeshproofError(`invalid Prometheus metric name ${JSON.stringify(metric)}`);
  const matchers = [
    ...Object.entries(labels).map(([name, v]) => `${checkLabel(name)}="${escapeValue(v)}"`),
    ...Object.entries(labelsMatching).map(([name, v]) => `${checkLabel(name)}=~"${escapeValue(v)}"`),
  ];
  return matchers.length ? `${metric}{${matchers.join(',')}}` : metric;
}

/** `sum by (x, y) (metric{…})`, or `sum(metric{…})` without `by`. */
export function toPromQL(selector: MetricSelector): string {
  const by = selector.by ?? [];
  return by.length
    ? `sum by (${by.map(checkLabel).join(', ')}) (${seriesSelector(selector)})`
    : `sum(${seriesSelector(selector)})`;
}

/** PromQL double-quoted strings take Go escapes; a backslash, quote or newline in a value must be escaped. */
function escapeValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function checkLabel(name: string): string {
  if (!labelName.test(name)) throw new MeshproofError(`invalid Prometheus label name ${JSON.stringify(name)}`);
  return name;
}

// ---------------------------------------------------------------------------------------------------------
// Snapshots and deltas (pure)

export interface SeriesValue {
  labels: Labels;
  value: number;
}

/** The selected counters at one moment. `series` are raw; `groups` are summed by `selector.by`. */
export interface Snapshot {
  selector: MetricSelector;
  promql: string;
  /** Evaluation time, unix seconds (the client's clock when nothing matched). */
  time: number;
  series: SeriesValue[];
  groups: SeriesValue[];
}

/** A counter before and after one batch, named for what it shows ("requests at reviews by version"). */
export interface MetricObservation {
  name: string;
  before: Snapshot;
  after: Snapshot;
}

export interface Delta {
  promql: string;
  from: number;
  to: number;
  /** Sum of every group's increase. */
  total: number;
  /** Per group of `selector.by`: `value` is the increase. */
  groups: SeriesValue[];
  /** Series in `after` (0 means nothing matched the selector). */
  seriesMatched: number;
  /** Series whose value went down: the counter restarted (sidecar restart), counted from 0. */
  resets: number;
}

/** A baseline with nothing in it: every series counts from 0. */
export function emptySnapshot(selector: MetricSelector, time = Date.now() / 1000): Snapshot {
  return { selector, promql: seriesSelector(selector), time, series: [], groups: [] };
}

export function snapshotOf(selector: MetricSelector, time: number, series: SeriesValue[]): Snapshot {
  return { selector, promql: seriesSelector(selector), time, series, groups: sumBy(series, selector.by ?? []) };
}

/**
 * Increase per group between two snapshots of the same selector. Works per raw series and sums after:
 * summing first would hide one sidecar's counter reset behind another's growth. A series new in `after`
 * counts from 0; one that went down restarted, so its whole value is new; one that vanished adds nothing.
 */
export function delta(before: Snapshot, after: Snapshot): Delta {
  if (before.promql !== after.promql || String(before.selector.by ?? []) !== String(after.selector.by ?? [])) {
    throw new MeshproofError(`cannot diff snapshots of different selectors: ${before.promql} and ${after.promql}`);
  }
  const previous = new Map(before.series.map((s) => [seriesKey(s.labels), s.value]));
  let resets = 0;
  const increases = after.series.map(({ labels: l, value: v }) => {
    const was = previous.get(seriesKey(l));
    if (was !== undefined && v < was) resets += 1;
    return { labels: l, value: was === undefined || v < was ? v : v - was };
  });
  const groups = sumBy(increases, after.selector.by ?? []);
  return {
    promql: after.promql,
    from: before.time,
    to: after.time,
    total: groups.reduce((sum, g) => sum + g.value, 0),
    groups,
    seriesMatched: after.series.length,
    resets,
  };
}

/** The increase of the groups whose labels include `labels` (e.g. `{ response_code: '503' }`). */
export function increaseOf(d: Delta, labels: Labels): number {
  return d.groups
    .filter((g) => Object.entries(labels).every(([k, v]) => (g.labels[k] ?? '') === v))
    .reduce((sum, g) => sum + g.value, 0);
}

function sumBy(series: SeriesValue[], by: string[]): SeriesValue[] {
  const groups = new Map<string, SeriesValue>();
  for (const s of series) {
    // As PromQL's `sum by`: a label the series lacks is left out of the group's labels.
    const group = Object.fromEntries(by.filter((k) => s.labels[k]).map((k) => [k, s.labels[k]!]));
    const key = seriesKey(group);
    const entry = groups.get(key) ?? { labels: group, value: 0 };
    entry.value += s.value;
    groups.set(key, entry);
  }
  return [...groups.values()];
}

function seriesKey(l: Labels): string {
  return JSON.stringify(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function describeDelta(d: Delta, atLeast: number): string {
  if (d.seriesMatched === 0) return `no series matched ${d.promql}`;
  const shown = d.groups.slice(0, 6).map((g) => `${fmtLabels(g.labels)}: ${g.value}`);
  if (d.groups.length > 6) shown.push('…');
  const grouped = Object.keys(d.groups[0]?.labels ?? {}).length > 0;
  const groups = grouped ? ` (${shown.join(', ')})` : '';
  const resets = d.resets ? `, ${d.resets} counter reset(s)` : '';
  const since = new Date(d.from * 1000).toISOString();
  const over = `over ${d.seriesMatched} series since ${since}`;
  return `increase ${d.total} of the ${atLeast} wanted, ${over}${groups}${resets}`;
}

function fmtLabels(l: Labels): string {
  return `{${Object.entries(l).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

// ---------------------------------------------------------------------------------------------------------
// The client

export interface PrometheusClientOptions {
  /** Base URL, e.g. a port-forward `http://127.0.0.1:9090`. */
  url: string;
  /** Bound on one API request (timeouts.request). */
  requestTimeoutMs: number;
}

export interface AwaitIncreaseOptions {
  selector: MetricSelector;
  atLeast: number;
  /** timeouts.metricPropagation */
  timeoutMs: number;
  /** timeouts.metricPoll */
  intervalMs: number;
  /** Taken before the traffic was sent. Without one, the absolute value counts ("any request at all"). */
  baseline?: Snapshot;
}

/** The last delta seen when awaitMetricIncrease gave up, and, if nothing matched, what PromDiff found. */
export class MetricIncreaseError extends MeshproofError {
  constructor(
    message: string,
    readonly last: Delta | undefined,
    readonly diff: string | undefined,
  ) {
    super(message, 'Check that the traffic reached the workload and that the selector uses the labels Istio reports.');
  }
}

export class PrometheusClient {
  private readonly base: string;
  constructor(readonly options: PrometheusClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  async instantQuery(promql: string, opts: { time?: PromTime; signal?: AbortSignal } = {}): Promise<QueryResult> {
    const params: Record<string, string> = { query: promql };
    if (opts.time !== undefined) params.time = unixSeconds(opts.time);
    return this.call('query', promql, params, opts.signal);
  }

  async rangeQuery(
    promql: string,
    opts: { start: PromTime; end: PromTime; stepSeconds: number; signal?: AbortSignal },
  ): Promise<RangeSeries[]> {
    const { start, end, stepSeconds, signal } = opts;
    const params = { query: promql, start: unixSeconds(start), end: unixSeconds(end), step: String(stepSeconds) };
    const result = await this.call('query_range', promql, params, signal);
    if (result.resultType !== 'matrix') {
      throw new PrometheusQueryError(promql, 'shape', `range query returned ${result.resultType}`);
    }
    return result.result;
  }

  /** The selected counters now; see Snapshot. */
  async snapshot(selector: MetricSelector, opts: { time?: PromTime; signal?: AbortSignal } = {}): Promise<Snapshot> {
    const promql = seriesSelector(selector);
    const result = await this.instantQuery(promql, opts);
    if (result.resultType !== 'vector') {
      throw new PrometheusQueryError(promql, 'shape', `expected a vector, got ${result.resultType}`);
    }
    const series = result.result.map(({ metric, value: v }) => {
      const { __name__: _, ...rest } = metric;
      return { labels: rest, value: v.value };
    });
    const asked = opts.time === undefined ? Date.now() / 1000 : Number(unixSeconds(opts.time));
    const time = result.result[0]?.value.time ?? asked;
    return snapshotOf(selector, time, series);
  }

  /**
   * Waits until every scrape target has been scraped after this call began, then snapshots. A baseline taken
   * without this can miss traffic sent just before (not yet scraped), which would then count in the next delta
   * as if it were the batch's. Targets' `up` samples carry their last scrape time, so min(timestamp(up)) says
   * when the stalest target was last read.
   */
  async snapshotAfterScrape(selector: MetricSelector, opts: { timeoutMs: number; intervalMs: number }): Promise<Snapshot> {
    const since = Date.now() / 1000;
    await pollUntil<void>(
      { what: 'Prometheus to scrape every target once more', timeoutMs: opts.timeoutMs, intervalMs: opts.intervalMs },
      async () => {
        const result = await this.instantQuery('min(timestamp(up))');
        const oldest = result.resultType === 'vector' ? result.result[0]?.value.value : undefined;
        return oldest !== undefined && oldest >= since
          ? { done: true, value: undefined }
          : { done: false, seen: oldest === undefined ? 'no scrape targets' : `the stalest target was scraped ${(since - oldest).toFixed(1)} s before the wait began` };
      },
    );
    return this.snapshot(selector);
  }

  /** The PromDiff sentence for a selector, from the series that exist now under its metric name. */
  async explain(selector: MetricSelector, opts: { signal?: AbortSignal } = {}): Promise<string> {
    // `count by` the wanted labels returns one row per distinct combination: the candidates, without
    // pulling every series of a busy mesh's istio_requests_total.
    const names = Object.keys(selector.labels ?? {}).map(checkLabel);
    const promql = `count by (${names.join(', ')}) (${seriesSelector({ metric: selector.metric })})`;
    const result = await this.instantQuery(promql, opts);
    const rows = result.resultType === 'vector' ? result.result : [];
    return promDiff(selector, rows.map((r) => r.metric));
  }

  /**
   * Polls until the summed increase since `baseline` reaches `atLeast`, and returns that delta. On timeout
   * the error says the last increase seen and, when no series matched at all, which labels differed.
   */
  async awaitMetricIncrease(opts: AwaitIncreaseOptions): Promise<Delta> {
    const { selector, atLeast } = opts;
    const baseline = opts.baseline ?? emptySnapshot(selector);
    if (baseline.promql !== seriesSelector(selector)) {
      throw new MeshproofError(`the baseline is of ${baseline.promql}, not of ${seriesSelector(selector)}`);
    }
    let last: Delta | undefined;
    try {
      return await pollUntil<Delta>(
        {
          what: `${toPromQL(selector)} to increase by at least ${atLeast}`,
          timeoutMs: opts.timeoutMs,
          intervalMs: opts.intervalMs,
        },
        async (signal) => {
          const now = await this.snapshot(selector, { signal });
          const seen = delta({ ...baseline, selector: now.selector }, now);
          last = seen;
          return seen.total >= atLeast
            ? { done: true, value: seen }
            : { done: false, seen: describeDelta(seen, atLeast) };
        },
      );
    } catch (error) {
      if (!(error instanceof PollTimeoutError)) throw error;
      let diff: string | undefined;
      if (last?.seriesMatched === 0) {
        diff = await this.explain(selector).catch((e: unknown) => `PromDiff failed: ${errorText(e)}`);
      }
      throw new MetricIncreaseError(diff ? `${error.message}; ${diff}` : error.message, last, diff);
    }
  }

  private async call(
    endpoint: string,
    promql: string,
    params: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<QueryResult> {
    const url = `${this.base}/api/v1/${endpoint}`;
    const bound = AbortSignal.timeout(this.options.requestTimeoutMs);
    let status: number;
    let text: string;
    try {
      // POST with a form body: the same API as GET, without URL length limits on long PromQL.
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params).toString(),
        signal: signal ? AbortSignal.any([signal, bound]) : bound,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (error) {
      const fix = `Check that Prometheus answers at ${this.base} (is the port-forward running?).`;
      throw new PrometheusQueryError(promql, 'unreachable', `${url}: ${errorText(error)}`, fix);
    }
    let parsed: z.infer<typeof envelope>;
    try {
      parsed = envelope.parse(JSON.parse(text));
    } catch {
      const detail = `HTTP ${status} from ${url}: ${text.slice(0, 200).trim()}`;
      throw new PrometheusQueryError(promql, 'http', detail, `Is ${this.base} a Prometheus server?`);
    }
    if (parsed.status === 'error') {
      throw new PrometheusQueryError(promql, parsed.errorType ?? `HTTP ${status}`, parsed.error ?? 'no error message');
    }
    const checked = data.safeParse(parsed.data);
    if (!checked.success) {
      throw new PrometheusQueryError(promql, 'shape', `unexpected result: ${checked.error.message}`);
    }
    return checked.data;
  }
}

function unixSeconds(t: PromTime): string {
  return String(t instanceof Date ? t.getTime() / 1000 : t);
}
