import { writeFileSync } from 'node:fs';
import { MeshproofError } from '../../errors.ts';
import { InvalidRecordingError, readRecording, type Recording } from '../../record/recording.ts';
import { jointCharts, renderSvg, verdictChart, type Chart } from '../../report/charts.ts';

/**
 * `meshproof chart`: the chart the report shows for a verdict, made again offline from its recording. With one
 * recording, its verdict's chart; with several recordings of one feature, the chart they make together (the
 * delayed group beside its control, the STRICT mTLS matrix). Without -o the SVG goes to standard output.
 */
export async function chartFiles(files: string[], options: { output?: string }): Promise<void> {
  const recordings = files.map((file): Recording => {
    try {
      return readRecording(file);
    } catch (error) {
      if (error instanceof InvalidRecordingError) throw new MeshproofError(`${file} is not a recording:\n  ${error.problems.join('\n  ')}`, undefined, 2);
      throw error;
    }
  });
  let chart: Chart;
  if (recordings.length === 1) {
    const recording = recordings[0]!;
    const drawn = verdictChart(recording);
    if (!drawn) throw new MeshproofError(`${files[0]} has no chart: its verdict (${recording.expectation.judge}) is said in full by its sentence.`, 'Run `meshproof judge` on it to read the sentence.', 2);
    chart = drawn;
  } else {
    const joint = jointCharts(recordings);
    if (joint.length !== 1) {
      throw new MeshproofError(
        joint.length === 0 ? 'these recordings make no chart together.' : `these recordings make ${joint.length} charts together (${joint.map((c) => c.name).join(', ')}).`,
        'Chart one recording at a time, or several latency recordings of one feature (fault-delay), or the STRICT mTLS recordings of one run.',
        2,
      );
    }
    chart = joint[0]!;
  }
  const svg = await renderSvg(chart);
  if (options.output) {
    writeFileSync(options.output, svg);
    process.stderr.write(`${chart.title} → ${options.output}\n`);
  } else {
    process.stdout.write(svg);
  }
}
