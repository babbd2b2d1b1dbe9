import type { RequestRecord } from '../../observe/records.ts';
import type { Recording } from '../../record/recording.ts';

/**
 * What every chart kind shares, so the charts of one report look alike: the Vega-Lite schema, the colours and
 * width, the title that names the check and its verdict, and the requests numbered in the order they were sent.
 */

export const vegaLiteSchema = 'https://vega.github.io/schema/vega-lite/v6.json';

export const colours = { pass: '#2e7d32', fail: '#c62828', expected: '#212121', neutral: '#1565c0', band: '#e0e0e0', either: '#fff3e0' };
export const width = 520;

/** Requests in the order they were sent, numbered from 1 (the x axis of every "over the batch" panel). */
export function inOrder(requests: readonly RequestRecord[]): { record: RequestRecord; number: number }[] {
  return [...requests].sort((a, b) => a.startedAt - b.startedAt).map((record, i) => ({ record, number: i + 1 }));
}

export function verdictWord(recording: Recording): string {
  if (!recording.verdict) return 'no verdict recorded';
  return recording.verdict.pass ? 'PASS' : 'FAIL';
}

export function header(recording: Recording, what: string): { text: string; subtitle: string[] } {
  return { text: `${recording.check ?? recording.feature}: ${what}`, subtitle: [`${verdictWord(recording)} — ${recording.title}`] };
}

/** A share (0–1) as a percentage with two decimals, as the axes show it. */
export const percent = (share: number) => Math.round(share * 10_000) / 100;
