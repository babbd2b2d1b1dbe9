import type { TopLevelSpec } from 'vega-lite';
import type { Expectation } from '../../judge/expectation.ts';
import { kialiFindings } from '../../judge/kiali.ts';
import type { Recording } from '../../record/recording.ts';
import { colours, header, vegaLiteSchema, width } from './frame.ts';

/**
 * A Kiali verdict: each thing it read from Kiali's kept answer (a version's share, the error share, an edge's
 * mTLS, a workload's sidecar, the validation counts) as a point, on the band it had to fall in, green or red.
 */
export function kialiChart(recording: Recording, expectation: Extract<Expectation, { judge: 'kiali' }>): TopLevelSpec {
  const found = kialiFindings(expectation.reading, recording.answers ?? []);
  const items = found.items.map((i) => ({ item: i.label, value: i.value, low: i.low, high: i.high, as: i.ok ? 'as expected' : 'not as expected' }));
  return {
    $schema: vegaLiteSchema,
    title: header(recording, found.axis || "what Kiali's answer showed"),
    width,
    height: Math.max(40, 22 * items.length),
    data: { values: items },
    layer: [
      { mark: { type: 'rule', color: colours.band, strokeWidth: 10 }, encoding: { x: { field: 'low', type: 'quantitative', title: found.axis || 'value' }, x2: { field: 'high' }, y: { field: 'item', type: 'nominal', title: null, axis: { labelLimit: 360 } } } },
      {
        mark: { type: 'point', filled: true, size: 100 },
        encoding: {
          x: { field: 'value', type: 'quantitative' },
          y: { field: 'item', type: 'nominal' },
          color: { field: 'as', type: 'nominal', scale: { domain: ['as expected', 'not as expected'], range: [colours.pass, colours.fail] }, legend: null },
        },
      },
    ],
  };
}
