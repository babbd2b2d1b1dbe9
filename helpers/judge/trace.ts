import { formatDuration } from '../config/timeouts.ts';
import type { SpanRecord, TraceRecord } from '../observe/addons/jaeger.ts';
import type { Verdict } from './verdict.ts';

/**
 * A fault's delay read from a trace in Jaeger, and where the caller upstream gave up. Each sidecar reports one span
 * per stream: a client span in the caller's sidecar, whose duration includes the fault filter's delay (the fault
 * filter runs in that sidecar's HTTP filter chain, inside the stream the span covers), and a server span in the
 * destination's. Which call a client span is comes from Envoy's and Istio's own tags: `upstream_cluster`
 * (`outbound|<port>|<subset>|<host>`, the route's cluster) names the Service called, `istio.canonical_service` and
 * `istio.canonical_revision` the caller (envoyproxy/envoy source/common/tracing/http_tracer_impl.cc setCommonTags;
 * istio/istio@1.30.3 pilot/pkg/networking/core/tracing.go buildServiceTags).
 *
 * When an application gives up on a call (productpage's `requests` timeout closes its connection), its sidecar ends
 * the span at that moment with no response: `http.status_code` "0" and flag `DC`, downstream connection termination
 * (envoyproxy/envoy source/common/stream_info/utility.h). That span's end is where the caller gave up.
 */
export interface TraceDelayExpectation {
  description: string;
  /** The call the fault delays: the caller's canonical service (and revision) and the Service it calls. */
  call: { from: string; fromRevision?: string | undefined; to: string };
  /** The fault's fixedDelay, read from the file applied. */
  delayMs: number;
  /** true: every such call lasts at least delayMs (the subject). false: none comes near it, half of it (the control). */
  delayed: boolean;
  /** Upstream, the caller that gives up: `attempts` calls, each ended unanswered at `timeoutMs` (± toleranceMs). */
  gaveUp?: { from: string; to: string; attempts: number; timeoutMs: number; toleranceMs: number } | undefined;
}

/** The call a client span is, from its tags: caller (and revision) → the Service called. Undefined for a server span. */
export function spanCall(span: SpanRecord): { from: string; revision: string | undefined; to: string } | undefined {
  const cluster = span.tags.upstream_cluster;
  let host: string | undefined;
  if (cluster !== undefined) {
    if (!cluster.startsWith('outbound|')) return undefined;
    host = cluster.split('|')[3];
  } else if (span.tags['span.kind'] === 'client') {
    host = span.operation.split(':')[0];
  }
  if (!host) return undefined;
  return { from: span.tags['istio.canonical_service'] ?? span.service.split('.')[0]!, revision: span.tags['istio.canonical_revision'], to: host.split('.')[0]! };
}

const ms = (us: number) => us / 1000;
/**
 * The delay is a timer, and timers tick in whole milliseconds (Envoy's event loop, like Node's, may fire one a fraction
 * of a millisecond before the µs clock that times the span says the delay is over): a delayed call may read up to this
 * much short of the delay.
 */
const timerTickMs = 1;
const endUs = (span: SpanRecord) => span.startUs + span.durationUs;
const flagsOf = (span: SpanRecord) => span.tags.response_flags ?? '-';
const unanswered = (span: SpanRecord) => span.tags['http.status_code'] === '0' || flagsOf(span).split(',').includes('DC');
const callerName = (from: string, revision: string | undefined) => (revision ? `${from}-${revision}` : from);

function callsOf(trace: TraceRecord, call: { from: string; fromRevision?: string | undefined; to: string }): SpanRecord[] {
  return trace.spans.filter((span) => {
    const c = spanCall(span);
    return c !== undefined && c.from === call.from && c.to === call.to && (call.fromRevision === undefined || c.revision === call.fromRevision);
  });
}

/** "productpage → details, reviews-v2 → ratings": the calls a trace holds, to say what it has instead. */
function callsIn(trace: TraceRecord): string {
  const names = new Set(trace.spans.map(spanCall).filter((c) => c !== undefined).map((c) => `${callerName(c.from, c.revision)} → ${c.to}`));
  return names.size ? [...names].sort().join(', ') : 'none';
}

/** How each span ended: "7.01 s, 200 DI", "3 s, no answer (DC)". */
function ending(span: SpanRecord): string {
  const status = span.tags['http.status_code'];
  const flags = flagsOf(span);
  const how = unanswered(span) ? `no answer (${flags})` : `${status ?? '?'}${flags !== '-' ? ` ${flags}` : ''}`;
  return `${formatDuration(ms(span.durationUs))}, ${how}`;
}

export function judgeTraceDelay(expectation: TraceDelayExpectation, traces: readonly TraceRecord[]): Verdict {
  const { call, delayMs } = expectation;
  const figures: Verdict['figures'] = { delayMs, spans: 0, calls: 0 };
  const verdict = (pass: boolean, sentence: string): Verdict => ({ pass, judge: 'trace-delay', figures, sentence: `${expectation.description}: ${sentence}` });
  const trace = traces[0];
  if (!trace) return verdict(false, 'no trace was recorded');
  const of = `the trace of ${trace.request} (${trace.traceID})`;
  if (trace.spans.length === 0) return verdict(false, `Jaeger held no trace ${trace.traceID} of ${trace.request}`);
  figures.spans = trace.spans.length;
  const caller = callerName(call.from, call.fromRevision);
  const calls = callsOf(trace, call);
  figures.calls = calls.length;
  const longest = calls.reduce<SpanRecord | undefined>((a, s) => (a && a.durationUs >= s.durationUs ? a : s), undefined);
  const shortest = calls.reduce<SpanRecord | undefined>((a, s) => (a && a.durationUs <= s.durationUs ? a : s), undefined);
  figures.longestCallMs = longest ? ms(longest.durationUs) : null;
  figures.shortestCallMs = shortest ? ms(shortest.durationUs) : null;

  if (!expectation.delayed) {
    const near = delayMs / 2;
    const close = calls.filter((s) => ms(s.durationUs) >= near);
    if (calls.length === 0) return verdict(true, `${of} has no call from ${caller} to ${call.to} (its calls: ${callsIn(trace)}), so none near the ${formatDuration(delayMs)} delay`);
    const seen = `${calls.length} call${calls.length === 1 ? '' : 's'} from ${caller} to ${call.to} in ${of}, the longest ${ending(longest!)}`;
    return close.length === 0
      ? verdict(true, `${seen}; all below half the ${formatDuration(delayMs)} delay`)
      : verdict(false, `${seen}: ${close.length} at or above half the ${formatDuration(delayMs)} delay, so the delay reached this request`);
  }

  const problems: string[] = [];
  if (calls.length === 0) return verdict(false, `${of} has no call from ${caller} to ${call.to}; its calls: ${callsIn(trace)}`);
  const short = calls.filter((s) => ms(s.durationUs) < delayMs - timerTickMs);
  if (short.length > 0) problems.push(`${short.length} of its ${calls.length} calls from ${caller} to ${call.to} took less than the ${formatDuration(delayMs)} delay (${ending(shortest!)})`);
  const delayedPart = `${caller}'s call${calls.length === 1 ? '' : 's'} to ${call.to} took ${calls.map(ending).join(' and ')}; at least the ${formatDuration(delayMs)} delay expected`;

  let gaveUpPart = '';
  const gaveUp = expectation.gaveUp;
  if (gaveUp) {
    const attempts = callsOf(trace, { from: gaveUp.from, to: gaveUp.to }).sort((a, b) => a.startUs - b.startUs);
    figures.attempts = attempts.length;
    const first = attempts[0];
    const last = attempts.at(-1);
    const gaveUpAfterMs = first && last ? ms(endUs(last) - first.startUs) : null;
    figures.gaveUpAfterMs = gaveUpAfterMs;
    attempts.forEach((s, i) => (figures[`attempt${i + 1}Ms`] = ms(s.durationUs)));
    const timeout = formatDuration(gaveUp.timeoutMs);
    const times = (n: number) => (n === 1 ? 'once' : `${n} times`);
    if (attempts.length !== gaveUp.attempts) problems.push(`${gaveUp.from} called ${gaveUp.to} ${times(attempts.length)}, ${times(gaveUp.attempts)} expected`);
    const off = attempts.filter((s) => Math.abs(ms(s.durationUs) - gaveUp.timeoutMs) > gaveUp.toleranceMs);
    if (off.length > 0) problems.push(`${off.length} of ${gaveUp.from}'s calls to ${gaveUp.to} did not end at its ${timeout} timeout (± ${formatDuration(gaveUp.toleranceMs)})`);
    const answered = attempts.filter((s) => !unanswered(s));
    if (answered.length > 0) problems.push(`${answered.length} of them ended with an answer, not given up`);
    // Where it gave up: before the delayed call answered, or the delay would have been waited out.
    if (last && longest && endUs(last) >= endUs(longest)) problems.push(`${gaveUp.from} was still waiting when ${caller}'s call to ${call.to} ended`);
    gaveUpPart =
      attempts.length === 0
        ? `; ${gaveUp.from} made no call to ${gaveUp.to}`
        : `; ${gaveUp.from}'s ${attempts.length} call${attempts.length === 1 ? '' : 's'} to ${gaveUp.to} ended after ${attempts.map(ending).join(' and ')}` +
          ` (${gaveUp.attempts} × its ${timeout} timeout expected, unanswered), ` +
          `${answered.length === 0 ? 'so it gave up' : 'its last answered'} ${formatDuration(gaveUpAfterMs ?? 0)} in` +
          (longest && first ? `, ${caller}'s call answering ${formatDuration(ms(endUs(longest) - first.startUs))} in` : '');
  }
  const sentence = `${of}: ${delayedPart}${gaveUpPart}`;
  return verdict(problems.length === 0, problems.length === 0 ? sentence : `${sentence}: ${problems.join('; ')}`);
}
