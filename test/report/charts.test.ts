import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { readRecording, type Recording } from '../../helpers/record/recording.ts';
import { jointCharts, renderSvg, verdictChart } from '../../helpers/report/charts.ts';
import { chartFiles } from '../../helpers/cli/actions/chart.ts';
import { MeshproofError } from '../../helpers/errors.ts';
import { useTempDirs } from '../support/temp.ts';

/**
 * The charts are read back from the SVG Vega writes: every mark carries an aria-label with the data it draws
 * ("answered by: reviews-v1; share of requests (%): 82.19"), so a test can say what a person would see, bar by
 * bar, rather than only that a file was written.
 */

const sampleDirs = [fromRoot('docs', 'recordings'), fromRoot('docs', 'recordings', 'verdicts')];
const allSamples = sampleDirs.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f)));
// Istio's analysis has no chart: its sentence says all (helpers/report/charts.ts).
const unchartedSamples = allSamples.filter((file) => path.basename(file).includes('.istio-analysis.'));
const samples = allSamples.filter((file) => !unchartedSamples.includes(file));

/** Every mark's data, from its aria-label: "k: v; k2: v2" → {k: "v", k2: "v2"}. */
function marks(svg: string): Record<string, string>[] {
  return [...svg.matchAll(/aria-label="([^"]*)"/g)]
    .map((m) => decode(m[1]!))
    .filter((label) => !/^(Title|Subtitle) text|-axis titled|^Legend/.test(label))
    .map((label) => Object.fromEntries(label.split('; ').map((part) => [part.slice(0, part.indexOf(': ')), part.slice(part.indexOf(': ') + 2)])));
}

const axisTitles = (svg: string) => [...svg.matchAll(/aria-label="[XY]-axis titled '([^']*)'/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
const decode = (text: string) => text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const subtitle = (svg: string) => [...svg.matchAll(/aria-label="Subtitle text '([^"]*)'"/g)].map((m) => decode(m[1]!)).join('\n');
const round2 = (x: number) => Math.round(x * 100) / 100;

async function draw(recording: Recording): Promise<string> {
  const svg = await renderSvg(verdictChart(recording)!);
  expect(XMLValidator.validate(svg)).toBe(true);
  expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*width="\d+" height="\d+"/);
  // Self-contained: nothing in a chart reaches outside the file.
  expect(svg).not.toMatch(/(?:href|src)="(?!#)/);
  return svg;
}

describe('charts of the shipped sample recordings', () => {
  it.each(samples.map((file) => [path.relative(fromRoot(), file), file]))('%s: a valid SVG that says what the verdict said', async (_name, file) => {
    const recording = readRecording(file);
    const svg = await draw(recording);
    expect(subtitle(svg)).toContain(`${recording.verdict!.pass ? 'PASS' : 'FAIL'} — ${recording.title}`);
    expect(axisTitles(svg).length).toBeGreaterThanOrEqual(1);
    const drawn = marks(svg);
    const expectation = recording.expectation;
    switch (expectation.judge) {
      case 'weighted-split': {
        expect(axisTitles(svg)).toEqual(expect.arrayContaining(['answered by', 'share of requests (%)', 'requests judged', 'share so far (%)']));
        // One bar per version, at the share the test counts itself, and the expected weight beside it.
        for (const [version, weight] of Object.entries(expectation.weights)) {
          const served = recording.requests.filter((r) => r.status === 200 && r.classification === version).length;
          expect(drawn).toContainEqual(expect.objectContaining({ 'answered by': version, 'share of requests (%)': String(round2((100 * served) / recording.requests.length)) }));
          expect(drawn).toContainEqual({ expected: String(weight), class: version });
        }
        // The path to the decision: one line per version (Vega labels a line by its first point).
        const lines = drawn.filter((m) => m['requests judged'] !== undefined).map((m) => m['answered by']);
        expect(lines.sort()).toEqual(Object.keys(expectation.weights).sort());
        break;
      }
      case 'rate': {
        expect(axisTitles(svg)).toEqual(expect.arrayContaining(['rate (%) with its 95 % interval', 'rate so far (%)']));
        const aborted = recording.requests.filter((r) => r.status === 500).length;
        expect(drawn).toContainEqual(expect.objectContaining({ what: 'observed', rate: String(round2((100 * aborted) / recording.requests.length)) }));
        expect(drawn).toContainEqual(expect.objectContaining({ expected: String(expectation.expectedRate * 100) }));
        break;
      }
      case 'latency': {
        expect(axisTitles(svg)).toContain('response time (s, log scale)');
        // One step of the distribution per timed request: n distinct cumulative shares.
        const timed = recording.requests.filter((r) => r.status > 0 && !r.error);
        const steps = new Set(drawn.filter((m) => m['response time (s, log scale)'] !== undefined).map((m) => m['share of requests at most this slow']));
        expect(steps.size).toBe(timed.length);
        if (expectation.atLeastMs !== undefined) expect(drawn).toContainEqual(expect.objectContaining({ seconds: String(expectation.atLeastMs / 1000) }));
        if (expectation.atMostMs !== undefined) expect(drawn).toContainEqual(expect.objectContaining({ seconds: String(expectation.atMostMs / 1000) }));
        break;
      }
      case 'all-match': {
        expect(axisTitles(svg)).toContain('request, in the order sent');
        const ticks = drawn.filter((m) => m['request, in the order sent'] !== undefined);
        expect(ticks).toHaveLength(recording.requests.length);
        // A failing all-match shows its exceptions; a passing one has none.
        const exceptions = ticks.filter((m) => m.as === 'not as expected').length;
        if (recording.verdict!.pass) expect(exceptions).toBe(0);
        else expect(exceptions).toBeGreaterThan(0);
        break;
      }
      case 'ejection': {
        expect(axisTitles(svg)).toContain('s after the 5xx that ejects the endpoint');
        expect(drawn.filter((m) => m.outcome !== undefined)).toHaveLength(recording.requests.length);
        expect(drawn.filter((m) => m.window !== undefined).map((m) => m.window)).toEqual([
          'either (ejection under way)',
          'must be refused',
          'either (released on the next interval)',
          'must be served',
        ]);
        expect(drawn.filter((m) => m.as === 'the 5xx that ejects')).toHaveLength(recording.verdict!.pass ? 1 : drawn.filter((m) => m.as === 'the 5xx that ejects').length);
        const refusedBand = drawn.find((m) => m.window === 'must be refused')!;
        expect(Number(refusedBand.to)).toBeCloseTo((expectation.ejectionMs - expectation.toleranceMs) / 1000, 3);
        break;
      }
      case 'metric-increase': {
        // The judged bar is the increase the verdict judged.
        expect(drawn).toContainEqual(expect.objectContaining({ what: 'judged', judged: String(recording.verdict!.figures.increase) }));
        // The expected range starts at atLeast (Vega names the range's start by its axis title).
        expect(drawn.filter((m) => m.high !== undefined).map((m) => Object.values(m)[0])).toContain(String(expectation.atLeast));
        break;
      }
      case 'trace-delay': {
        // One bar per span kept, in the order they started, and the delay drawn from each delayed call's start.
        expect(axisTitles(svg)).toContain('s after the trace began');
        const bars = drawn.filter((m) => m.ended !== undefined && m.from !== undefined);
        expect(bars).toHaveLength(recording.traces![0]!.spans.length);
        expect(bars.filter((m) => /reviews-v2 → ratings/.test(m.span!)).length).toBeGreaterThan(expectation.delayed ? 0 : -1);
        break;
      }
      case 'kiali': {
        // One point per thing read from Kiali's answer (a share, an edge, a workload, a count), red where it failed.
        const points = drawn.filter((m) => m.as !== undefined);
        expect(points.length).toBeGreaterThan(0);
        const off = points.filter((m) => m.as === 'not as expected').length;
        if (recording.verdict!.pass) expect(off).toBe(0);
        else expect(off).toBeGreaterThan(0);
        break;
      }
      case 'counter-ratio': {
        expect(axisTitles(svg)).toContain('numerator ÷ denominator (green = expected)');
        expect(drawn).toContainEqual(expect.objectContaining({ what: 'ratio', ratio: String(recording.verdict!.figures.ratio) }));
        expect(drawn).toContainEqual({ 'numerator ÷ denominator (green = expected)': String(expectation.atLeast), high: String(expectation.atMost) });
        break;
      }
    }
  });

  it('draws STRICT mTLS as a client × phase matrix coloured by each check’s verdict', async () => {
    const verdicts = fromRoot('docs', 'recordings', 'verdicts');
    const recordings = ['plaintext-before.healthy', 'plaintext-refused.broken', 'plaintext-after.healthy'].map((n) => readRecording(path.join(verdicts, `mtls-strict.${n}.json`)));
    const charts = jointCharts(recordings);
    expect(charts.map((c) => c.name)).toEqual(['mtls-strict.matrix']);
    const drawn = marks(await renderSvg(charts[0]!));
    const cells = drawn.filter((m) => m.verdict !== undefined);
    expect(cells).toEqual([
      { column: 'before: PERMISSIVE', row: 'legacy-client (no sidecar)', verdict: 'PASS' },
      { column: 'STRICT', row: 'legacy-client (no sidecar)', verdict: 'FAIL' },
      { column: 'after: baseline again', row: 'legacy-client (no sidecar)', verdict: 'PASS' },
      ...cells.slice(3),
    ]);
    // The broken mesh served plaintext under STRICT: the cell says so.
    expect(drawn).toContainEqual({ column: 'STRICT', row: 'legacy-client (no sidecar)', text: '88/88 served' });
  });

  it('puts a delayed group and its control on one axis', async () => {
    const recordings = [readRecording(fromRoot('docs', 'recordings', 'healthy-latency.json')), readRecording(fromRoot('docs', 'recordings', 'verdicts', 'fault-delay.others.healthy.json'))];
    const charts = jointCharts(recordings);
    expect(charts.map((c) => c.name)).toEqual(['fault-delay.latency']);
    const drawn = marks(await renderSvg(charts[0]!));
    const groups = new Set(drawn.map((m) => m.group).filter(Boolean));
    expect([...groups]).toEqual(recordings.map((r) => r.title));
  });

  it("draws no chart for Istio's analysis, and `meshproof chart` says so with exit code 2", async () => {
    expect(unchartedSamples.length).toBeGreaterThan(0);
    for (const file of unchartedSamples) {
      expect(verdictChart(readRecording(file))).toBeUndefined();
      const refused = await chartFiles([file], {}).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(MeshproofError);
      expect(refused).toMatchObject({ exitCode: 2, message: expect.stringContaining('has no chart: its verdict (istio-analysis) is said in full by its sentence') });
    }
  });

  it('makes no joint chart from recordings that have none together', () => {
    expect(jointCharts([readRecording(fromRoot('docs', 'recordings', 'healthy-rate.json')), readRecording(fromRoot('docs', 'recordings', 'healthy-all-match.json'))])).toEqual([]);
  });
});

describe('meshproof chart', () => {
  const tempDir = useTempDirs('meshproof-chart-');
  const meshproof = (...args: string[]) => execa(process.execPath, [fromRoot('bin', 'meshproof.js'), ...args], { cwd: fromRoot(), reject: false });

  it('writes the chart of a recording to -o, and to standard output without it', async () => {
    const out = path.join(tempDir(), 'split.svg');
    const [toFile, toStdout] = await Promise.all([
      meshproof('chart', 'docs/recordings/broken-weighted-split.json', '-o', out),
      meshproof('chart', 'docs/recordings/verdicts/circuit-breaker.ejection.healthy.json'),
    ]);
    expect(toFile.exitCode, toFile.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(subtitle(readFileSync(out, 'utf8'))).toContain('FAIL — 80 % of traffic to reviews v1');
    expect(toFile.stderr).toContain(`→ ${out}`);
    expect(toStdout.exitCode).toBe(0);
    expect(XMLValidator.validate(toStdout.stdout)).toBe(true);
    expect(axisTitles(toStdout.stdout)).toContain('s after the 5xx that ejects the endpoint');
  });

  it('draws several recordings together, and says so with exit code 2 when they make no chart together', async () => {
    const v = 'docs/recordings/verdicts';
    const [joint, none, invalid] = await Promise.all([
      meshproof('chart', `${v}/mtls-strict.plaintext-before.healthy.json`, `${v}/mtls-strict.plaintext-refused.healthy.json`, `${v}/mtls-strict.plaintext-after.healthy.json`),
      meshproof('chart', 'docs/recordings/healthy-rate.json', 'docs/recordings/healthy-all-match.json'),
      meshproof('chart', 'package.json'),
    ]);
    expect(joint.exitCode).toBe(0);
    // The cell and its verdict word carry the same data: three cells.
    expect(new Set(marks(joint.stdout).filter((m) => m.verdict !== undefined).map((m) => JSON.stringify(m))).size).toBe(3);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('these recordings make no chart together');
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain('package.json is not a recording');
    expect(invalid.stderr).not.toMatch(/\n\s+at /);
  });
});
