import type { TopLevelSpec } from 'vega-lite';
import { checkSpec } from '../config/features.ts';
import type { Expectation } from '../judge/expectation.ts';
import { describeOutcome, transportOutcome } from '../judge/outcomes.ts';
import { matches, type RequestMatcher } from '../judge/matchers.ts';
import { clopperPearson } from '../judge/statistics.ts';
import { delta, type MetricObservation, type SeriesValue } from '../observe/metrics.ts';
import type { RequestRecord } from '../observe/records.ts';
import type { Recording } from '../record/recording.ts';

/**
 * Pictures of what the mesh did, drawn from recordings alone, so a chart can be made again offline
 * (`meshproof chart`) from the same file a verdict is re-judged from. One chart per verdict kind, plus charts
 * that only make sense across recordings: the delayed group beside its control, and STRICT mTLS as a
 * client × phase matrix.
 *
 * Charts are Vega-Lite specifications (vega.github.io/vega-lite), rendered to SVG in Node by Vega's headless
 * View, with no browser and no canvas: Vega-Lite is a declarative grammar (a chart is data plus encodings,
 * readable in a test), maintained by the University of Washington Interactive Data Lab, and its SVG renderer
 * needs nothing outside npm. The specs here carry their data inline: a chart never fetches anything.
 */
export interface Chart {
  /** A file-name-safe name, e.g. "traffic-shifting.split". */
  name: string;
  /** What the chart shows, for a person. */
  title: string;
  spec: TopLevelSpec;
}

const colours = { pass: '#2e7d32', fail: '#c62828', expected: '#212121', neutral: '#1565c0', band: '#e0e0e0', either: '#fff3e0' };
const width = 520;

/** Requests in the order they were sent, numbered from 1 (the x axis of every "over the batch" panel). */
function inOrder(requests: readonly RequestRecord[]): { record: RequestRecord; number: number }[] {
  return [...requests].sort((a, b) => a.startedAt - b.startedAt).map((record, i) => ({ record, number: i + 1 }));
}

function verdictWord(recording: Recording): string {
  if (!recording.verdict) return 'no verdict recorded';
  return recording.verdict.pass ? 'PASS' : 'FAIL';
}

function header(recording: Recording, what: string): { text: string; subtitle: string[] } {
  return { text: `${recording.check ?? recording.feature}: ${what}`, subtitle: [`${verdictWord(recording)} — ${recording.title}`] };
}

function chartName(recording: Recording): string {
  return (recording.check ?? `${recording.feature}/${recording.title}`).replace(/[^A-Za-z0-9-]+/g, '.').replace(/^\.|\.$/g, '');
}

const percent = (share: number) => Math.round(share * 10_000) / 100;

// ─── weighted split ──────────────────────────────────────────────────────────────────────────────────────────

/** What a request counts as in a split: its class, or "failed or unattributed" (each of which fails a split). */
export function splitClassOf(record: RequestRecord): string {
  if (record.status === 0 || record.error || record.status >= 400 || !record.classification) return 'failed or unattributed';
  return record.classification;
}

function splitChart(recording: Recording, expectation: Extract<Expectation, { judge: 'weighted-split' }>): TopLevelSpec {
  const ordered = inOrder(recording.requests);
  const n = ordered.length;
  const classes = [...new Set([...Object.keys(expectation.weights), ...ordered.map(({ record }) => splitClassOf(record))])];
  // The interval of every class at the confidence the whole verdict is held to (1 − α), so a weight outside
  // its interval is a weight the data rule out.
  const confidence = 1 - expectation.alpha;
  const counts = new Map(classes.map((c) => [c, 0]));
  for (const { record } of ordered) counts.set(splitClassOf(record), (counts.get(splitClassOf(record)) ?? 0) + 1);
  const shares = classes.map((c) => {
    const x = counts.get(c) ?? 0;
    const [low, high] = n > 0 ? clopperPearson(x, n, confidence) : [0, 1];
    return { class: c, observed: n > 0 ? percent(x / n) : 0, low: percent(low), high: percent(high), expected: expectation.weights[c] ?? 0, count: x };
  });
  // The running share of each class: every request is a look of the sequential test, so the path to the
  // decision is visible, not only where it ended.
  const running: { requests: number; class: string; share: number }[] = [];
  const seen = new Map(classes.map((c) => [c, 0]));
  const step = Math.max(1, Math.floor(n / 400));
  for (const { record, number } of ordered) {
    seen.set(splitClassOf(record), (seen.get(splitClassOf(record)) ?? 0) + 1);
    if (number % step === 0 || number === n) for (const c of classes) running.push({ requests: number, class: c, share: percent((seen.get(c) ?? 0) / number) });
  }
  const classScale = { domain: classes };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: header(recording, `shares of ${n} requests against the expected weights`),
    vconcat: [
      {
        width,
        height: 200,
        data: { values: shares },
        layer: [
          {
            mark: { type: 'bar', opacity: 0.75 },
            encoding: {
              x: { field: 'class', type: 'nominal', title: 'answered by', sort: classes, axis: { labelAngle: 0 } },
              y: { field: 'observed', type: 'quantitative', title: 'share of requests (%)', scale: { domain: [0, 100] } },
              color: { field: 'class', type: 'nominal', scale: classScale, legend: null },
            },
          },
          {
            mark: { type: 'rule', strokeWidth: 2 },
            encoding: {
              x: { field: 'class', type: 'nominal', sort: classes },
              y: { field: 'low', type: 'quantitative' },
              y2: { field: 'high' },
            },
          },
          {
            mark: { type: 'tick', thickness: 3, color: colours.expected, size: 40 },
            encoding: { x: { field: 'class', type: 'nominal', sort: classes }, y: { field: 'expected', type: 'quantitative' } },
          },
          {
            mark: { type: 'text', dy: -8, align: 'left', dx: 22 },
            encoding: {
              x: { field: 'class', type: 'nominal', sort: classes },
              y: { field: 'expected', type: 'quantitative' },
              text: { field: 'expected', type: 'quantitative', format: 'd' },
            },
          },
        ],
      },
      {
        width,
        height: 180,
        title: { text: 'share so far, request by request (bars = observed with its 1 − α interval, black tick = expected weight)', fontSize: 11, fontWeight: 'normal' },
        layer: [
          {
            data: { values: running },
            mark: { type: 'line', strokeWidth: 1.5 },
            encoding: {
              x: { field: 'requests', type: 'quantitative', title: 'requests judged' },
              y: { field: 'share', type: 'quantitative', title: 'share so far (%)', scale: { domain: [0, 100] } },
              color: { field: 'class', type: 'nominal', scale: classScale, title: 'answered by' },
            },
          },
          {
            data: { values: shares.filter((s) => s.expected > 0) },
            mark: { type: 'rule', strokeDash: [4, 3] },
            encoding: { y: { field: 'expected', type: 'quantitative' }, color: { field: 'class', type: 'nominal', scale: classScale } },
          },
        ],
      },
    ],
  };
}

// ─── rate ────────────────────────────────────────────────────────────────────────────────────────────────────

function rateChart(recording: Recording, expectation: Extract<Expectation, { judge: 'rate' }>): TopLevelSpec {
  const ordered = inOrder(recording.requests);
  const n = ordered.length;
  const x = ordered.filter(({ record }) => matches(expectation.matcher, record)).length;
  const [low, high] = n > 0 ? clopperPearson(x, n, 0.95) : [0, 1];
  const expected = percent(expectation.expectedRate);
  const running: { requests: number; rate: number }[] = [];
  let matched = 0;
  const step = Math.max(1, Math.floor(n / 400));
  for (const { record, number } of ordered) {
    if (matches(expectation.matcher, record)) matched += 1;
    if (number % step === 0 || number === n) running.push({ requests: number, rate: percent(matched / number) });
  }
  const top = Math.min(100, Math.max(expected * 2, percent(high) * 1.2, 5));
  const pass = recording.verdict?.pass ?? false;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: header(recording, `${x} of ${n} requests matched, against an expected ${expected} %`),
    vconcat: [
      {
        width,
        height: 60,
        data: { values: [{ what: 'observed', rate: n > 0 ? percent(x / n) : 0, low: percent(low), high: percent(high), expected }] },
        layer: [
          { mark: { type: 'rule', strokeWidth: 3, color: pass ? colours.pass : colours.fail }, encoding: { x: { field: 'low', type: 'quantitative', title: 'rate (%) with its 95 % interval', scale: { domain: [0, top] } }, x2: { field: 'high' }, y: { field: 'what', type: 'nominal', title: null } } },
          { mark: { type: 'point', filled: true, size: 80, color: pass ? colours.pass : colours.fail }, encoding: { x: { field: 'rate', type: 'quantitative' }, y: { field: 'what', type: 'nominal' } } },
          { mark: { type: 'rule', color: colours.expected, strokeDash: [4, 3] }, encoding: { x: { field: 'expected', type: 'quantitative' } } },
          { mark: { type: 'text', dy: -22, color: colours.expected }, encoding: { x: { field: 'expected', type: 'quantitative' }, text: { value: 'expected' } } },
        ],
      },
      {
        width,
        height: 160,
        layer: [
          {
            data: { values: running },
            mark: { type: 'line', color: colours.neutral },
            encoding: {
              x: { field: 'requests', type: 'quantitative', title: 'requests sent' },
              y: { field: 'rate', type: 'quantitative', title: 'rate so far (%)', scale: { domain: [0, top] } },
            },
          },
          { data: { values: [{ expected }] }, mark: { type: 'rule', color: colours.expected, strokeDash: [4, 3] }, encoding: { y: { field: 'expected', type: 'quantitative' } } },
        ],
      },
    ],
  };
}

// ─── latency ─────────────────────────────────────────────────────────────────────────────────────────────────

type LatencyExpectationData = Extract<Expectation, { judge: 'latency' }>;

/** The empirical distribution of each recording's latencies, the groups side by side on one axis. */
function latencyChart(recordings: readonly Recording[], title: { text: string; subtitle: string[] }): TopLevelSpec {
  const points: { group: string; seconds: number; fraction: number }[] = [];
  const thresholds: { group: string; seconds: number; what: string }[] = [];
  let failed = 0;
  for (const recording of recordings) {
    const expectation = recording.expectation as LatencyExpectationData;
    const group = recording.title;
    const subject = expectation.matcher ? recording.requests.filter((r) => matches(expectation.matcher!, r)) : recording.requests;
    const timed = subject.filter((r) => !(r.error || r.status === 0));
    failed += subject.length - timed.length;
    const sorted = timed.map((r) => r.latencyMs / 1000).sort((a, b) => a - b);
    sorted.forEach((seconds, i) => points.push({ group, seconds, fraction: (i + 1) / sorted.length }));
    const q = expectation.quantile ?? 0.95;
    if (expectation.atLeastMs !== undefined) thresholds.push({ group, seconds: expectation.atLeastMs / 1000, what: `every request ≥ ${expectation.atLeastMs / 1000} s` });
    // Named as the judge names them (helpers/judge/rates.ts judgeLatency).
    const qName = q === 0.5 ? 'median' : q === 1 ? 'max' : `p${Math.round(q * 100)}`;
    if (expectation.atMostMs !== undefined) thresholds.push({ group, seconds: expectation.atMostMs / 1000, what: `${qName} ≤ ${expectation.atMostMs / 1000} s` });
  }
  const groups = recordings.map((r) => r.title);
  const scale = { domain: groups };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { ...title, subtitle: [...title.subtitle, ...(failed > 0 ? [`${failed} request(s) failed without a response and are not drawn`] : [])] },
    width,
    height: 240,
    layer: [
      {
        data: { values: points },
        mark: { type: 'line', interpolate: 'step-after', point: { size: 20 } },
        encoding: {
          // A log axis puts milliseconds and a 7 s delay on one readable picture.
          x: { field: 'seconds', type: 'quantitative', title: 'response time (s, log scale)', scale: { type: 'log' } },
          y: { field: 'fraction', type: 'quantitative', title: 'share of requests at most this slow', axis: { format: '%' }, scale: { domain: [0, 1] } },
          color: { field: 'group', type: 'nominal', scale, title: null, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 600 } },
        },
      },
      {
        data: { values: thresholds },
        mark: { type: 'rule', strokeDash: [5, 3], strokeWidth: 1.5 },
        encoding: { x: { field: 'seconds', type: 'quantitative' }, color: { field: 'group', type: 'nominal', scale } },
      },
      {
        data: { values: thresholds },
        mark: { type: 'text', angle: 270, align: 'left', dx: 4, dy: -4, fontSize: 10 },
        encoding: { x: { field: 'seconds', type: 'quantitative' }, y: { value: 236 }, text: { field: 'what' } },
      },
    ],
  };
}

// ─── all-match and ejection: outcomes over the batch ─────────────────────────────────────────────────────────

/** "HTTP 200 reviews-v2", "HTTP 503 UO", "connection reset after it was accepted (curl exit code 56)". */
function outcomeLabel(record: RequestRecord): string {
  const outcome = describeOutcome(record);
  return record.classification && transportOutcome(record) === 'response' ? `${outcome} ${record.classification}` : outcome;
}

function allMatchChart(recording: Recording, matcher: RequestMatcher): TopLevelSpec {
  const rows = inOrder(recording.requests).map(({ record, number }) => ({
    request: number,
    outcome: outcomeLabel(record),
    as: matches(matcher, record) ? 'as expected' : 'not as expected',
  }));
  const outcomes = [...new Set(rows.map((r) => r.outcome))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: header(recording, `what became of each of ${rows.length} requests`),
    width,
    height: Math.max(40, 28 * outcomes.length),
    data: { values: rows },
    mark: { type: 'tick', thickness: 2 },
    encoding: {
      x: { field: 'request', type: 'quantitative', title: 'request, in the order sent', scale: { domainMin: 1 } },
      y: { field: 'outcome', type: 'nominal', title: null, axis: { labelLimit: 320 } },
      color: { field: 'as', type: 'nominal', title: null, scale: { domain: ['as expected', 'not as expected'], range: [colours.pass, colours.fail] }, legend: { orient: 'bottom' } },
    },
  };
}

function ejectionChart(recording: Recording, expectation: Extract<Expectation, { judge: 'ejection' }>): TopLevelSpec {
  const ordered = inOrder(recording.requests);
  const first = ordered[0]?.record;
  const t0 = first ? first.startedAt + first.latencyMs : 0;
  const rows = ordered.map(({ record }) => ({
    seconds: (record.startedAt - t0) / 1000,
    outcome: outcomeLabel(record),
    as: matches(expectation.trigger, record) && record === first ? 'the 5xx that ejects' : matches(expectation.refused, record) ? 'refused' : matches(expectation.served, record) ? 'served' : 'other',
  }));
  const { ejectionMs, intervalMs, reactionMs, toleranceMs } = expectation;
  // The windows the judge holds each request to (helpers/judge/ejection.ts): refused, either, served.
  const end = Math.max(ejectionMs + intervalMs + toleranceMs * 2, ...rows.map((r) => r.seconds * 1000)) + 100;
  const windows = [
    { from: 0, to: reactionMs, window: 'either (ejection under way)' },
    { from: reactionMs, to: ejectionMs - toleranceMs, window: 'must be refused' },
    { from: ejectionMs - toleranceMs, to: ejectionMs + intervalMs + toleranceMs, window: 'either (released on the next interval)' },
    { from: ejectionMs + intervalMs + toleranceMs, to: end, window: 'must be served' },
  ].map((w) => ({ ...w, from: w.from / 1000, to: w.to / 1000 }));
  const outcomes = [...new Set(rows.map((r) => r.outcome))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: header(recording, `ejected for ${ejectionMs / 1000} s after one 5xx (interval ${intervalMs / 1000} s)`),
    width,
    height: Math.max(60, 30 * outcomes.length),
    layer: [
      {
        data: { values: windows },
        mark: { type: 'rect', opacity: 0.35 },
        encoding: {
          x: { field: 'from', type: 'quantitative', title: 's after the 5xx that ejects the endpoint', scale: { domainMin: Math.min(0, ...rows.map((r) => r.seconds)), nice: false } },
          x2: { field: 'to' },
          color: {
            field: 'window',
            type: 'nominal',
            title: null,
            scale: { domain: windows.map((w) => w.window), range: [colours.either, '#ffcdd2', colours.either, '#c8e6c9'] },
            legend: { orient: 'bottom', columns: 2, labelLimit: 300 },
          },
        },
      },
      {
        data: { values: rows },
        mark: { type: 'point', filled: true, size: 30 },
        encoding: {
          x: { field: 'seconds', type: 'quantitative' },
          y: { field: 'outcome', type: 'nominal', title: null, axis: { labelLimit: 320 } },
          shape: { field: 'as', type: 'nominal', title: null, legend: { orient: 'bottom' } },
          stroke: { value: colours.expected },
          fill: { value: colours.expected },
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  };
}

// ─── metrics ─────────────────────────────────────────────────────────────────────────────────────────────────

function labelsText(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? 'all series' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

function groupValue(groups: readonly SeriesValue[], labels: Record<string, string>): number {
  const key = JSON.stringify(labels);
  return groups.find((g) => JSON.stringify(g.labels) === key)?.value ?? 0;
}

/** Each group of one observation: its value before and after the batch, and the increase that belongs to it. */
function metricRows(observation: MetricObservation): { series: string; before: number; after: number; increase: number }[] {
  const change = delta(observation.before, observation.after);
  return change.groups.map((g) => {
    const after = groupValue(observation.after.groups, g.labels);
    return { series: labelsText(g.labels), before: after - g.value, after, increase: g.value };
  });
}

function metricIncreaseChart(recording: Recording, expectation: Extract<Expectation, { judge: 'metric-increase' }>): TopLevelSpec {
  const observation = recording.metrics.find((m) => m.name === expectation.metric);
  const rows = observation ? metricRows(observation) : [];
  const change = observation ? delta(observation.before, observation.after) : undefined;
  const judged = change ? (expectation.group ? rows.filter((r) => r.series === labelsText(expectation.group!)).reduce((s, r) => s + r.increase, 0) : change.total) : 0;
  const pass = recording.verdict?.pass ?? false;
  const bound = { low: expectation.atLeast, high: expectation.atMost ?? Math.max(judged, expectation.atLeast) * 1.25 + 1, open: expectation.atMost === undefined };
  const subject = expectation.group ? `increase of ${labelsText(expectation.group)}` : 'increase, all series';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      ...header(recording, `${expectation.metric}: before and after the batch`),
      subtitle: [header(recording, '').subtitle[0]!, change ? change.promql : `no metric named "${expectation.metric}" was recorded`],
    },
    vconcat: [
      {
        width,
        height: Math.max(30, 26 * rows.length),
        data: { values: rows },
        layer: [
          {
            mark: { type: 'bar', color: colours.band },
            encoding: { x: { field: 'before', type: 'quantitative', title: 'counter value (grey = before the batch, blue = its increase)' }, y: { field: 'series', type: 'nominal', title: null, axis: { labelLimit: 360 } } },
          },
          { mark: { type: 'bar', color: colours.neutral }, encoding: { x: { field: 'before', type: 'quantitative' }, x2: { field: 'after' }, y: { field: 'series', type: 'nominal' } } },
          { mark: { type: 'text', align: 'left', dx: 4 }, encoding: { x: { field: 'after', type: 'quantitative' }, y: { field: 'series', type: 'nominal' }, text: { field: 'increase', type: 'quantitative', format: '+,.4~f' } } },
        ],
      },
      {
        width,
        height: 40,
        layer: [
          {
            data: { values: [bound] },
            mark: { type: 'rect', color: '#c8e6c9' },
            encoding: { x: { field: 'low', type: 'quantitative', title: `judged, ${subject} (green = the expected range${bound.open ? ', open above' : ''})` }, x2: { field: 'high' } },
          },
          {
            data: { values: [{ what: 'judged', judged }] },
            mark: { type: 'bar', color: pass ? colours.pass : colours.fail, height: 14 },
            encoding: { x: { field: 'judged', type: 'quantitative' }, y: { field: 'what', type: 'nominal', title: null } },
          },
          {
            data: { values: [{ what: 'judged', judged }] },
            mark: { type: 'text', align: 'left', dx: 4 },
            encoding: { x: { field: 'judged', type: 'quantitative' }, y: { field: 'what', type: 'nominal' }, text: { field: 'judged', type: 'quantitative', format: ',.4~f' } },
          },
        ],
      },
    ],
  };
}

function counterRatioChart(recording: Recording, expectation: Extract<Expectation, { judge: 'counter-ratio' }>): TopLevelSpec {
  const increase = (ref: { metric: string; group?: Record<string, string> | undefined }) => {
    const observation = recording.metrics.find((m) => m.name === ref.metric);
    if (!observation) return undefined;
    const rows = metricRows(observation);
    return ref.group ? rows.filter((r) => r.series === labelsText(ref.group!)).reduce((s, r) => s + r.increase, 0) : rows.reduce((s, r) => s + r.increase, 0);
  };
  const numerator = increase(expectation.numerator);
  const denominator = increase(expectation.denominator);
  const ratio = numerator !== undefined && denominator ? numerator / denominator : undefined;
  const pass = recording.verdict?.pass ?? false;
  const bars = [
    { counter: `${expectation.numerator.metric} (numerator)`, increase: numerator ?? 0 },
    { counter: `${expectation.denominator.metric} (denominator)`, increase: denominator ?? 0 },
  ];
  const top = Math.max(expectation.atMost, ratio ?? 0) * 1.3 + 0.5;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: header(recording, `ratio of two counters' increases, ${expectation.atLeast === expectation.atMost ? `exactly ${expectation.atLeast}` : `${expectation.atLeast}–${expectation.atMost}`} expected`),
    vconcat: [
      {
        width,
        height: 60,
        data: { values: bars },
        layer: [
          { mark: { type: 'bar', color: colours.neutral }, encoding: { x: { field: 'increase', type: 'quantitative', title: 'increase during the batch' }, y: { field: 'counter', type: 'nominal', title: null, axis: { labelLimit: 360 } } } },
          { mark: { type: 'text', align: 'left', dx: 4 }, encoding: { x: { field: 'increase', type: 'quantitative' }, y: { field: 'counter', type: 'nominal' }, text: { field: 'increase', type: 'quantitative', format: ',.4~f' } } },
        ],
      },
      {
        width,
        height: 40,
        layer: [
          {
            data: { values: [{ low: expectation.atLeast, high: expectation.atMost }] },
            mark: { type: 'rect', color: '#c8e6c9', stroke: colours.pass, strokeWidth: 2 },
            encoding: { x: { field: 'low', type: 'quantitative', title: 'numerator ÷ denominator (green = expected)', scale: { domain: [0, top] } }, x2: { field: 'high' } },
          },
          {
            data: { values: ratio === undefined ? [] : [{ what: 'ratio', ratio }] },
            mark: { type: 'point', filled: true, size: 120, color: pass ? colours.pass : colours.fail },
            encoding: { x: { field: 'ratio', type: 'quantitative' }, y: { field: 'what', type: 'nominal', title: null } },
          },
        ],
      },
    ],
  };
}

// ─── across recordings ───────────────────────────────────────────────────────────────────────────────────────

/** STRICT mTLS as a client × phase matrix: each cell the share served, from the checks that have a cell. */
function matrixChart(recordings: readonly Recording[]): TopLevelSpec {
  const cells = recordings.flatMap((recording) => {
    const cell = recording.check ? checkSpec(recording.check)?.matrixCell : undefined;
    if (!cell) return [];
    const n = recording.requests.length;
    const served = recording.requests.filter((r) => r.status >= 200 && r.status < 400 && !r.error).length;
    const outcomes = [...new Set(recording.requests.filter((r) => !(r.status >= 200 && r.status < 400 && !r.error)).map(outcomeLabel))];
    return [{ ...cell, served: n > 0 ? percent(served / n) : 0, text: `${served}/${n} served`, refused: outcomes.slice(0, 2).join('; '), verdict: verdictWord(recording) }];
  });
  const columns = [...new Set(cells.map((c) => c.column))];
  const feature = recordings[0]?.feature ?? '';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${feature}: who is served, in each phase`, subtitle: ['each cell = requests served, what the others got, and the verdict of that check (green PASS, red FAIL)'] },
    width: Math.max(360, 180 * columns.length),
    height: 80 * new Set(cells.map((c) => c.row)).size,
    data: { values: cells },
    encoding: {
      x: { field: 'column', type: 'nominal', title: null, sort: columns, axis: { orient: 'top', labelAngle: 0, labelLimit: 200 } },
      y: { field: 'row', type: 'nominal', title: null, axis: { labelLimit: 240 } },
    },
    layer: [
      {
        // Coloured by the verdict, not by the share served: under STRICT, plaintext refused is the pass.
        mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
        encoding: { color: { field: 'verdict', type: 'nominal', title: 'verdict', scale: { domain: ['PASS', 'FAIL'], range: ['#c8e6c9', '#ffcdd2'] } } },
      },
      { mark: { type: 'text', dy: -14, fontWeight: 'bold' }, encoding: { text: { field: 'text' } } },
      { mark: { type: 'text', dy: 2, fontSize: 9, limit: 175 }, encoding: { text: { field: 'refused' } } },
      { mark: { type: 'text', dy: 18 }, encoding: { text: { field: 'verdict' } } },
    ],
  };
}

/** The chart of one verdict, from its recording. */
export function verdictChart(recording: Recording): Chart {
  const expectation = recording.expectation;
  const name = chartName(recording);
  const spec = ((): TopLevelSpec => {
    switch (expectation.judge) {
      case 'weighted-split':
        return splitChart(recording, expectation);
      case 'rate':
        return rateChart(recording, expectation);
      case 'latency':
        return latencyChart([recording], header(recording, 'response times against the bounds'));
      case 'all-match':
        return allMatchChart(recording, expectation.matcher);
      case 'ejection':
        return ejectionChart(recording, expectation);
      case 'metric-increase':
        return metricIncreaseChart(recording, expectation);
      case 'counter-ratio':
        return counterRatioChart(recording, expectation);
    }
  })();
  return { name, title: `${recording.check ?? recording.feature}: ${recording.title}`, spec };
}

/**
 * Charts that need several recordings of one feature: its latency groups on one axis (the delayed group with
 * its control beside it) and, where the catalogue gives checks a matrix cell, the matrix. Empty when the
 * recordings have none.
 */
export function jointCharts(recordings: readonly Recording[]): Chart[] {
  const charts: Chart[] = [];
  const byFeature = new Map<string, Recording[]>();
  for (const recording of recordings) byFeature.set(recording.feature, [...(byFeature.get(recording.feature) ?? []), recording]);
  for (const [feature, ofFeature] of byFeature) {
    const latency = ofFeature.filter((r) => r.expectation.judge === 'latency');
    if (latency.length > 1) {
      charts.push({
        name: `${feature}.latency`,
        title: `${feature}: response times, group by group`,
        spec: latencyChart(latency, { text: `${feature}: response times, group by group`, subtitle: latency.map((r) => `${verdictWord(r)} — ${r.title}`) }),
      });
    }
    const inMatrix = ofFeature.filter((r) => r.check && checkSpec(r.check)?.matrixCell);
    if (inMatrix.length > 1) charts.push({ name: `${feature}.matrix`, title: `${feature}: who is served, in each phase`, spec: matrixChart(inMatrix) });
  }
  return charts;
}

/**
 * The chart as an SVG document. Vega is imported here, on first use: it is large, and the commands that draw
 * nothing should not pay for it.
 */
export async function renderSvg(chart: Chart): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile({ ...chart.spec, config: { font: 'sans-serif', axis: { labelLimit: 360 }, ...chart.spec.config } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
