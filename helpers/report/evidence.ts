import * as allure from 'allure-js-commons';
import { writeRecording, type Recording } from '../record/recording.ts';
import { renderSvg, type Chart } from './charts.ts';
import { escapeHtml } from './html.ts';

/**
 * Keeps a recording as evidence: written under <reportsDir>/recordings/ (for `meshproof judge` and the
 * conformance summary) and attached to the current Allure test, so the report shows the raw observations
 * behind each verdict. Returns the file written.
 */
export async function keepRecording(reportsDir: string, recording: Recording): Promise<string> {
  const file = writeRecording(reportsDir, recording);
  await allure.attachment(`recording: ${recording.title}`, `${JSON.stringify(recording, null, 2)}\n`, {
    contentType: 'application/json',
    fileExtension: 'json',
  });
  return file;
}

/** Attaches a chart as SVG to the current Allure step (a click shows it there); returns the SVG. */
export async function attachChart(chart: Chart): Promise<string> {
  const svg = await renderSvg(chart);
  await allure.attachment(`chart: ${chart.title}`, svg, { contentType: 'image/svg+xml', fileExtension: 'svg' });
  return svg;
}


/**
 * A test's description with its charts drawn inline, first the picture of each verdict and then those drawn
 * across verdicts: the report shows a test's description at the top of its page, so the mesh's behaviour is
 * seen before any step is opened. Each chart is an image of its SVG as a data: URL, because the report
 * sanitises descriptions to HTML and drops inline SVG elements (@allurereport/web-commons sanitize.js, DOMPurify
 * with the html profile, which keeps data: images).
 */
export function describeWithCharts(description: string, charts: readonly { title: string; svg: string }[]): string {
  const figures = charts.map(
    ({ title, svg }) =>
      `<figure style="margin:12px 0"><img alt="${escapeHtml(title)}" style="max-width:100%" src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}"></figure>`,
  );
  return `<p>${escapeHtml(description)}</p>${figures.join('')}`;
}
