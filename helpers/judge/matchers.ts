import { z } from 'zod';
import type { RequestRecord } from '../observe/records.ts';
import { envoyResponseFlag, outcomeWords, transportOutcome, transportOutcomes } from './outcomes.ts';

/**
 * Which requests an expectation is about, as data rather than a function, so an expectation can be written
 * into a recording and judged again offline. Every given field must hold.
 */
const requestMatcherFields = {
    classification: z.string().optional().describe('the classifier read this class, e.g. "reviews-v2"'),
    status: z.number().int().min(0).optional().describe('the HTTP status; 0 = no response'),
    statusIn: z.array(z.number().int().min(0)).optional().describe('any of these HTTP statuses'),
    errorIncludes: z.string().optional().describe('the error text contains this'),
    header: z.strictObject({ name: z.string(), equals: z.string() }).optional().describe('a kept response header has this value'),
    outcomeIn: z
      .array(z.enum(transportOutcomes))
      .min(1)
      .optional()
      .describe('what became of the request is one of these (response, reset, empty-reply, dns-failure, …)'),
    responseFlag: z.string().optional().describe("Envoy's response flag read from its local reply, e.g. UO, UH, FI"),
};

type BaseMatcher = { [K in keyof typeof requestMatcherFields]?: z.infer<(typeof requestMatcherFields)[K]> };
/** A matcher: every given field must hold, and when `anyOf` is given, at least one of its matchers too. */
export type RequestMatcher = BaseMatcher & { anyOf?: BaseMatcher[] };

const baseMatcherSchema = z.strictObject(requestMatcherFields);
export const requestMatcherSchema: z.ZodType<RequestMatcher> = z
  .strictObject({
    ...requestMatcherFields,
    anyOf: z.array(baseMatcherSchema).min(1).optional().describe('at least one of these matchers holds too: "served, or refused as an overflow"'),
  })
  .describe('Which requests an expectation is about; every given field must hold');

export function matches(matcher: RequestMatcher, record: RequestRecord): boolean {
  if (matcher.anyOf !== undefined && !matcher.anyOf.some((one) => matches(one, record))) return false;
  if (matcher.classification !== undefined && record.classification !== matcher.classification) return false;
  if (matcher.status !== undefined && record.status !== matcher.status) return false;
  if (matcher.statusIn !== undefined && !matcher.statusIn.includes(record.status)) return false;
  if (matcher.errorIncludes !== undefined && !(record.error ?? '').includes(matcher.errorIncludes)) return false;
  if (matcher.header !== undefined && record.headers?.[matcher.header.name.toLowerCase()] !== matcher.header.equals) return false;
  if (matcher.outcomeIn !== undefined && !matcher.outcomeIn.includes(transportOutcome(record))) return false;
  if (matcher.responseFlag !== undefined && envoyResponseFlag(record) !== matcher.responseFlag) return false;
  return true;
}

export function matcherPredicate(matcher: RequestMatcher): (record: RequestRecord) => boolean {
  return (record) => matches(matcher, record);
}

/** True when the matcher selects nothing in particular: every request would match it. */
export function matchesEverything(matcher: RequestMatcher): boolean {
  const { anyOf, ...fields } = matcher;
  return Object.values(fields).every((value) => value === undefined) && (anyOf === undefined || anyOf.some(matchesEverything));
}

/** "status 500", "served by reviews-v2 with status 200": for sentences and reports. */
export function describeMatcher(matcher: RequestMatcher): string {
  const parts: string[] = [];
  if (matcher.classification !== undefined) parts.push(`served by ${matcher.classification}`);
  if (matcher.status !== undefined) parts.push(matcher.status === 0 ? 'no response' : `status ${matcher.status}`);
  if (matcher.statusIn !== undefined) parts.push(`status in ${matcher.statusIn.join(', ')}`);
  if (matcher.errorIncludes !== undefined) parts.push(`error "${matcher.errorIncludes}"`);
  if (matcher.header !== undefined) parts.push(`${matcher.header.name}: ${matcher.header.equals}`);
  if (matcher.outcomeIn !== undefined) parts.push(matcher.outcomeIn.map((o) => outcomeWords[o]).join(' or '));
  if (matcher.responseFlag !== undefined) parts.push(`response flag ${matcher.responseFlag}`);
  const own = parts.join(' with ');
  if (matcher.anyOf !== undefined) {
    const either = matcher.anyOf.map(describeMatcher).join(', or ');
    return own ? `${own}, and ${either}` : either;
  }
  return own || 'any request';
}
