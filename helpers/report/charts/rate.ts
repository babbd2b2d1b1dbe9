import type { TopLevelSpec } from 'vega-lite';
import type { Expectation } from '../../judge/expectation.ts';
import { matches } from '../../judge/matchers.ts';
import { clopperPearson } from '../../judge/statistics.ts';
import type { Recording } from '../../record/recording.ts';
import { colours, header, inOrder, percent, vegaLiteSchema, width } from './frame.ts';

/** A rate: the observed rate with its 95 % interval against the expected one, and the rate request by request. */
export function rateChart(recording: Recording, expectation: Extract<Expectation, { judge: 'rate' }>): TopLevelSpec {
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
    $schema: vegaLiteSchema,
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
