import type { TopLevelSpec } from 'vega-lite';
import type { Expectation } from '../../judge/expectation.ts';
import { matches } from '../../judge/matchers.ts';
import type { Recording } from '../../record/recording.ts';
import { vegaLiteSchema, width } from './frame.ts';

type LatencyExpectationData = Extract<Expectation, { judge: 'latency' }>;

/** The empirical distribution of each recording's latencies, the groups side by side on one axis. */
export function latencyChart(recordings: readonly Recording[], title: { text: string; subtitle: string[] }): TopLevelSpec {
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
    $schema: vegaLiteSchema,
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
