import { z } from 'zod';
import type { RequestRecord } from '../observe/records.ts';

/**
 * Which requests an expectation is about, as data rather than a function, so an expectation can be written
 * into a recording and judged again offline. Every given field must hold.
 */
export const requestMatcherSchema = z
  .strictObject({
    classification: z.string().optional().describe('the classifier read this class, e.g. "reviews-v2"'),
    status: z.number().int().min(0).optional().describe('the HTTP status; 0 = no response'),
    statusIn: z.array(z.number().int().min(0)).optional().describe('any of these HTTP statuses'),
    errorIncludes: z.string().optional().describe('the error text contains this'),
    header: z.strictObject({ name: z.string(), equals: z.string() }).optional().describe('a kept response header has this value'),
  })
  .describe('Which requests an expectation is about; every given field must hold');

export type RequestMatcher = z.infer<typeof requestMatcherSchema>;

export function matches(matcher: RequestMatcher, record: RequestRecord): boolean {
  if (matcher.classification !== undefined && record.classification !== matcher.classification) return false;
  if (matcher.status !== undefined && record.status !== matcher.status) return false;
  if (matcher.statusIn !== undefined && !matcher.statusIn.includes(record.status)) return false;
  if (matcher.errorIncludes !== undefined && !(record.error ?? '').includes(matcher.errorIncludes)) return false;
  if (matcher.header !== undefined && record.headers?.[matcher.header.name.toLowerCase()] !== matcher.header.equals) return false;
  return true;
}

export function matcherPredicate(matcher: RequestMatcher): (record: RequestRecord) => boolean {
  return (record) => matches(matcher, record);
}

/** "status 500", "served by reviews-v2 with status 200": for sentences and reports. */
export function describeMatcher(matcher: RequestMatcher): string {
  const parts: string[] = [];
  if (matcher.classification !== undefined) parts.push(`served by ${matcher.classification}`);
  if (matcher.status !== undefined) parts.push(matcher.status === 0 ? 'no response' : `status ${matcher.status}`);
  if (matcher.statusIn !== undefined) parts.push(`status in ${matcher.statusIn.join(', ')}`);
  if (matcher.errorIncludes !== undefined) parts.push(`error "${matcher.errorIncludes}"`);
  if (matcher.header !== undefined) parts.push(`${matcher.header.name}: ${matcher.header.equals}`);
  return parts.join(' with ') || 'any request';
}
