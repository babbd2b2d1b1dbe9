import type { TopLevelSpec } from 'vega-lite';
import type { Expectation } from '../../judge/expectation.ts';
import { matches, type RequestMatcher } from '../../judge/matchers.ts';
import { describeOutcome, transportOutcome } from '../../judge/outcomes.ts';
import type { RequestRecord } from '../../observe/records.ts';
import type { Recording } from '../../record/recording.ts';
import { colours, header, inOrder, vegaLiteSchema, width } from './frame.ts';

/** What became of each request: all-match over the batch, and the ejection windows over time. */

/** "HTTP 200 reviews-v2", "HTTP 503 UO", "connection reset after it was accepted (curl exit code 56)". */
export function outcomeLabel(record: RequestRecord): string {
  const outcome = describeOutcome(record);
  return record.classification && transportOutcome(record) === 'response' ? `${outcome} ${record.classification}` : outcome;
}

export function allMatchChart(recording: Recording, matcher: RequestMatcher): TopLevelSpec {
  const rows = inOrder(recording.requests).map(({ record, number }) => ({
    request: number,
    outcome: outcomeLabel(record),
    as: matches(matcher, record) ? 'as expected' : 'not as expected',
  }));
  const outcomes = [...new Set(rows.map((r) => r.outcome))];
  return {
    $schema: vegaLiteSchema,
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

export function ejectionChart(recording: Recording, expectation: Extract<Expectation, { judge: 'ejection' }>): TopLevelSpec {
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
    $schema: vegaLiteSchema,
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
