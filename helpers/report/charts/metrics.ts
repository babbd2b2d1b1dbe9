import type { TopLevelSpec } from 'vega-lite';
import type { Expectation } from '../../judge/expectation.ts';
import { increaseOfCounter } from '../../judge/rejudge.ts';
import { delta, type MetricObservation, type SeriesValue } from '../../observe/metrics.ts';
import type { Recording } from '../../record/recording.ts';
import { colours, header, vegaLiteSchema, width } from './frame.ts';

/** Metrics: a counter before and after the batch against its expected increase, and two counters' ratio. */

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

export function metricIncreaseChart(recording: Recording, expectation: Extract<Expectation, { judge: 'metric-increase' }>): TopLevelSpec {
  const observation = recording.metrics.find((m) => m.name === expectation.metric);
  const rows = observation ? metricRows(observation) : [];
  const change = observation ? delta(observation.before, observation.after) : undefined;
  // The very number the verdict judged (helpers/judge/rejudge.ts), not a second reading of the groups.
  const judged = increaseOfCounter(expectation, recording.metrics)?.increase ?? 0;
  const pass = recording.verdict?.pass ?? false;
  const bound = { low: expectation.atLeast, high: expectation.atMost ?? Math.max(judged, expectation.atLeast) * 1.25 + 1, open: expectation.atMost === undefined };
  const subject = expectation.group ? `increase of ${labelsText(expectation.group)}` : 'increase, all series';
  const title = header(recording, `${expectation.metric}: before and after the batch`);
  return {
    $schema: vegaLiteSchema,
    title: { ...title, subtitle: [...title.subtitle, change ? change.promql : `no metric named "${expectation.metric}" was recorded`] },
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

export function counterRatioChart(recording: Recording, expectation: Extract<Expectation, { judge: 'counter-ratio' }>): TopLevelSpec {
  // The increases the verdict divided (helpers/judge/rejudge.ts).
  const numerator = increaseOfCounter(expectation.numerator, recording.metrics)?.increase;
  const denominator = increaseOfCounter(expectation.denominator, recording.metrics)?.increase;
  const ratio = numerator !== undefined && denominator ? numerator / denominator : undefined;
  const pass = recording.verdict?.pass ?? false;
  const bars = [
    { counter: `${expectation.numerator.metric} (numerator)`, increase: numerator ?? 0 },
    { counter: `${expectation.denominator.metric} (denominator)`, increase: denominator ?? 0 },
  ];
  const top = Math.max(expectation.atMost, ratio ?? 0) * 1.3 + 0.5;
  return {
    $schema: vegaLiteSchema,
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
