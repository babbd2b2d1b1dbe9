import type { TopLevelSpec } from 'vega-lite';
import { checkSpec } from '../../config/features.ts';
import type { Recording } from '../../record/recording.ts';
import { percent, vegaLiteSchema, verdictWord } from './frame.ts';
import { outcomeLabel } from './outcomes.ts';

/** STRICT mTLS as a client × phase matrix: each cell the share served, from the checks that have a cell. */
export function matrixChart(recordings: readonly Recording[]): TopLevelSpec {
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
    $schema: vegaLiteSchema,
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
