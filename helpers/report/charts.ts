import type { TopLevelSpec } from 'vega-lite';
import { checkSpec } from '../config/features.ts';
import type { Recording } from '../record/recording.ts';
import { header, verdictWord } from './charts/frame.ts';
import { kialiChart } from './charts/kiali.ts';
import { latencyChart } from './charts/latency.ts';
import { matrixChart } from './charts/matrix.ts';
import { counterRatioChart, metricIncreaseChart } from './charts/metrics.ts';
import { allMatchChart, ejectionChart } from './charts/outcomes.ts';
import { rateChart } from './charts/rate.ts';
import { splitChart } from './charts/split.ts';
import { traceChart } from './charts/trace.ts';

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
 *
 * This file is the entry: which chart a recording gets, the charts across recordings, and the SVG. Each kind of
 * chart is drawn in its own file under charts/, beside what every kind shares (charts/frame.ts).
 */
export interface Chart {
  /** A file-name-safe name, e.g. "traffic-shifting.split". */
  name: string;
  /** What the chart shows, for a person. */
  title: string;
  spec: TopLevelSpec;
}

function chartName(recording: Recording): string {
  return (recording.check ?? `${recording.feature}/${recording.title}`).replace(/[^A-Za-z0-9-]+/g, '.').replace(/^\.|\.$/g, '');
}

/**
 * The chart of one verdict, from its recording; none for a verdict whose sentence says all there is to see: Istio's
 * analysis (a count of messages by level would repeat its sentence; the messages are listed beside it in the report).
 */
export function verdictChart(recording: Recording): Chart | undefined {
  const expectation = recording.expectation;
  const name = chartName(recording);
  const spec = ((): TopLevelSpec | undefined => {
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
      case 'trace-delay':
        return traceChart(recording, expectation);
      case 'kiali':
        return kialiChart(recording, expectation);
      case 'istio-analysis':
        return undefined;
    }
  })();
  if (!spec) return undefined;
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
