import { z } from 'zod';
import { MeshproofError } from '../errors.ts';
import { parseToolJson } from '../provision/tool-json.ts';
import type { Expectation } from './expectation.ts';
import type { Verdict } from './verdict.ts';

/**
 * `istioctl analyze -o json`, read and judged. What it prints is a JSON array of messages, each
 * {code, level, message, origin?, reference?, documentationUrl} (istio/istio release-1.31
 * pkg/config/analysis/diag/message.go Unstructured; the array from istioctl/pkg/util/formatting/formatter.go, `[]`
 * when nothing was found; identical on release-1.30). `level` is one of "Error", "Warning", "Info"
 * (pkg/config/analysis/diag/level.go).
 *
 * The verdict reads the messages, never the exit code: istioctl exits 79 ("analyzer found issues") only in its
 * default log format, and 0 with `-o json` whatever it found (istioctl/pkg/analyze/analyze.go: the threshold is
 * checked only when the output format is "log"; the codes in istioctl/cmd/sysexits.go).
 */

const messageShape = {
  code: z.string().describe('e.g. "IST0101"'),
  level: z.enum(['Error', 'Warning', 'Info']),
  message: z.string(),
  /** "<Kind> <namespace>/<name>", e.g. "VirtualService bookinfo/reviews" (pkg/config/analysis/legacy/source/kube/origin.go). */
  origin: z.string().optional(),
  /** Where in a file, when the object came from one ("fixtures/features/01-traffic-shifting.yaml:12"). */
  reference: z.string().optional(),
  documentationUrl: z.string().optional(),
};

/** As istioctl prints it: fields a later release adds are dropped, not refused. */
const analysisMessageSchema = z.object(messageShape);

/** As a recording keeps it (field `analysis`): strict, as the rest of a recording. */
export const recordedAnalysisMessageSchema = z.strictObject(messageShape).describe('One message of `istioctl analyze -o json`, as istioctl printed it');

export type AnalysisMessage = z.infer<typeof analysisMessageSchema>;

/** The messages istioctl printed; anything else is said with the start of what it printed. */
export function parseAnalysis(command: string, printed: string): AnalysisMessage[] {
  const json = parseToolJson(command, printed);
  const parsed = z.array(analysisMessageSchema).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MeshproofError(`\`${command}\` printed messages meshproof cannot read: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

export interface AnalysisVerdict {
  pass: boolean;
  /** One sentence: what was analyzed, how many errors and warnings, and the errors themselves. */
  sentence: string;
  errors: AnalysisMessage[];
  warnings: AnalysisMessage[];
  /** Each warning as a line for the report (warnings never fail the verdict). */
  warningLines: string[];
}

/** "IST0101 on VirtualService bookinfo/reviews: Referenced host+subset in destinationrule not found: "reviews+v4"". */
export function describeAnalysisMessage(m: AnalysisMessage): string {
  const where = m.origin ? ` on ${m.origin}${m.reference ? ` (${m.reference})` : ''}` : '';
  return `${m.code}${where}: ${m.message}`;
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Fails on any Error-level message; warnings are listed, never failed on; Info is ignored. */
export function judgeAnalysis(what: string, messages: AnalysisMessage[]): AnalysisVerdict {
  const errors = messages.filter((m) => m.level === 'Error');
  const warnings = messages.filter((m) => m.level === 'Warning');
  const warningLines = warnings.map(describeAnalysisMessage);
  const tally = `${count(errors.length, 'error')}, ${count(warnings.length, 'warning')}`;
  const sentence =
    errors.length > 0
      ? `istioctl analyze found ${tally} in ${what}; no error expected: ${errors.map(describeAnalysisMessage).join('; ')}`
      : `istioctl analyze found no error in ${what} (${tally})`;
  return { pass: errors.length === 0, sentence, errors, warnings, warningLines };
}

/**
 * The verdict of a recording judged `istio-analysis`: the messages istioctl printed, kept whole in its `analysis`.
 * A recording without them is failed, never passed: no messages kept is not "no error found".
 */
export function judgeAnalysisRecording(expectation: Extract<Expectation, { judge: 'istio-analysis' }>, messages: readonly AnalysisMessage[] | undefined): Verdict {
  const what = `namespace ${expectation.namespace}`;
  if (!messages) {
    return { pass: false, judge: 'istio-analysis', figures: {}, sentence: `${expectation.description}: no istioctl analyze messages were recorded for ${what}` };
  }
  const verdict = judgeAnalysis(what, [...messages]);
  const info = messages.length - verdict.errors.length - verdict.warnings.length;
  return { pass: verdict.pass, judge: 'istio-analysis', figures: { errors: verdict.errors.length, warnings: verdict.warnings.length, info }, sentence: verdict.sentence };
}
