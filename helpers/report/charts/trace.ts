import type { TopLevelSpec } from 'vega-lite';
import type { Expectation } from '../../judge/expectation.ts';
import { spanCall } from '../../judge/trace.ts';
import type { Recording } from '../../record/recording.ts';
import { colours, header, vegaLiteSchema, width } from './frame.ts';

/**
 * A trace as a timeline: one bar per span, from its start to its end in seconds after the trace began, labelled by
 * the proxy that reported it and the call, with the fault's delay drawn as a rule from the start of each delayed
 * call, so "reviews-v2 → ratings lasted the 7 s" and "productpage gave up at 3 s and 6 s" read off the picture.
 */
export function traceChart(recording: Recording, expectation: Extract<Expectation, { judge: 'trace-delay' }>): TopLevelSpec {
  const trace = recording.traces?.[0];
  const spans = trace?.spans ?? [];
  const t0 = Math.min(...spans.map((s) => s.startUs));
  const rows = spans.map((span, i) => {
    const call = spanCall(span);
    const who = call ? `${call.from}${call.revision ? `-${call.revision}` : ''} → ${call.to}` : `${span.service} (server)`;
    const flags = span.tags.response_flags ?? '-';
    return {
      span: `${String(i + 1).padStart(2, '0')} ${who}`,
      from: (span.startUs - t0) / 1e6,
      to: (span.startUs + span.durationUs - t0) / 1e6,
      ended: `${span.tags['http.status_code'] ?? '?'}${flags === '-' ? '' : ` ${flags}`}`,
      delayed: call?.from === expectation.call.from && call.to === expectation.call.to && (!expectation.call.fromRevision || call.revision === expectation.call.fromRevision),
    };
  });
  const delays = rows.filter((r) => r.delayed).map((r) => ({ span: r.span, from: r.from, to: r.from + expectation.delayMs / 1000 }));
  const what = trace ? `the spans of ${trace.request} (trace ${trace.traceID}), s after it began` : 'no trace was recorded';
  return {
    $schema: vegaLiteSchema,
    title: header(recording, what),
    width,
    height: Math.max(60, 18 * rows.length),
    layer: [
      {
        data: { values: rows },
        mark: { type: 'bar', height: 10 },
        encoding: {
          y: { field: 'span', type: 'nominal', title: null, sort: null, axis: { labelLimit: 260 } },
          x: { field: 'from', type: 'quantitative', title: 's after the trace began' },
          x2: { field: 'to' },
          color: { condition: { test: 'datum.delayed', value: colours.neutral }, value: colours.band },
          tooltip: [{ field: 'span' }, { field: 'from' }, { field: 'to' }, { field: 'ended' }],
        },
      },
      {
        data: { values: rows },
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 9 },
        encoding: { y: { field: 'span', type: 'nominal', sort: null }, x: { field: 'to', type: 'quantitative' }, text: { field: 'ended' } },
      },
      {
        data: { values: delays },
        mark: { type: 'rule', strokeDash: [4, 3], color: colours.expected },
        encoding: { y: { field: 'span', type: 'nominal', sort: null }, x: { field: 'from', type: 'quantitative' }, x2: { field: 'to' } },
      },
    ],
  };
}
