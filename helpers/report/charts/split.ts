import type { TopLevelSpec } from 'vega-lite';
import type { Expectation } from '../../judge/expectation.ts';
import { clopperPearson } from '../../judge/statistics.ts';
import type { RequestRecord } from '../../observe/records.ts';
import type { Recording } from '../../record/recording.ts';
import { colours, header, inOrder, percent, vegaLiteSchema, width } from './frame.ts';

/** What a request counts as in a split: its class, or "failed or unattributed" (each of which fails a split). */
export function splitClassOf(record: RequestRecord): string {
  if (record.status === 0 || record.error || record.status >= 400 || !record.classification) return 'failed or unattributed';
  return record.classification;
}

/** A weighted split: each class's share with its 1 − α interval against its weight, and the share request by request. */
export function splitChart(recording: Recording, expectation: Extract<Expectation, { judge: 'weighted-split' }>): TopLevelSpec {
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
    $schema: vegaLiteSchema,
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
