import { formatDuration } from '../config/timeouts.ts';
import { errorText, MeshproofError } from '../errors.ts';
import { pollUntil, PollTimeoutError } from '../wait/poll.ts';
import { httpRequest } from '../net/http.ts';
import { readPrometheusAnswer, type QueryResult, type RangeSeries } from '../net/prometheus-answer.ts';
import { promDiff } from './prom-diff.ts';
import { delta, describeDelta, emptySnapshot, seriesSelector, snapshotOf, toPromQL, checkLabel, type Delta, type MetricSelector, type Snapshot } from './metrics.ts';

export type { Labels } from './prom-diff.ts';
export type { QueryResult, RangeSeries, Sample, VectorSample } from '../net/prometheus-answer.ts';
export * from './metrics.ts';

/** A point in time for the API: a Date, or a number of unix seconds (Prometheus' own unit). */
export type PromTime = Date | number;

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
          : { done: false, seen: oldest === undefined ? 'no scrape targets' : `the stalest target was scraped ${formatDuration((since - oldest) * 1000)} before the wait began` };
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
    let status: number;
    let text: string;
    try {
      // POST with a form body: the same API as GET, without URL length limits on long PromQL.
      ({ status, body: text } = await httpRequest(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params).toString(),
        timeoutMs: this.options.requestTimeoutMs,
        signal,
      }));
    } catch (error) {
      const fix = `Check that Prometheus answers at ${this.base} (is the port-forward running?).`;
      throw new PrometheusQueryError(promql, 'unreachable', `${url}: ${errorText(error)}`, fix);
    }
    const answer = readPrometheusAnswer(text);
    switch (answer.kind) {
      case 'result':
        return answer.result;
      case 'error':
        throw new PrometheusQueryError(promql, answer.errorType ?? `HTTP ${status}`, answer.error ?? 'no error message');
      case 'unexpected-data':
        throw new PrometheusQueryError(promql, 'shape', `unexpected result: ${answer.why}`);
      case 'not-json':
      case 'not-an-envelope':
        throw new PrometheusQueryError(promql, 'http', `HTTP ${status} from ${url}: ${text.slice(0, 200).trim()}`, `Is ${this.base} a Prometheus server?`);
    }
  }
}

function unixSeconds(t: PromTime): string {
  return String(t instanceof Date ? t.getTime() / 1000 : t);
}
