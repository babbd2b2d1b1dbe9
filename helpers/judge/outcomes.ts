import type { RequestRecord } from '../observe/records.ts';

/**
 * What became of one request, read from the raw record: "status 0" lumps a DNS failure together with a
 * connection the server reset, and a verdict must tell them apart (STRICT mTLS refuses plaintext by closing the
 * connection after it was accepted; a name that does not resolve never reached the mesh at all).
 */
export const transportOutcomes = [
  'response',
  'reset',
  'empty-reply',
  'tls-failure',
  'dns-failure',
  'connection-refused',
  'timeout',
  'other-failure',
] as const;
export type TransportOutcome = (typeof transportOutcomes)[number];

/** In words, for sentences. */
export const outcomeWords: Record<TransportOutcome, string> = {
  response: 'answered',
  reset: 'connection reset after it was accepted',
  'empty-reply': 'connection closed without a reply',
  'tls-failure': 'TLS handshake failed',
  'dns-failure': 'the name did not resolve',
  'connection-refused': 'connection refused',
  timeout: 'timed out',
  'other-failure': 'no response',
};

/**
 * The outcomes that mean "the server's side accepted the connection and then refused to talk": what a sidecar
 * under STRICT mTLS does to plaintext. Everything else that is not a response means the client never reached it.
 */
export const refusedAfterConnect: readonly TransportOutcome[] = ['reset', 'empty-reply', 'tls-failure'];

/**
 * curl's exit codes (curl/curl docs/libcurl/libcurl-errors.md): 6 CURLE_COULDNT_RESOLVE_HOST,
 * 7 CURLE_COULDNT_CONNECT, 28 CURLE_OPERATION_TIMEDOUT, 35 CURLE_SSL_CONNECT_ERROR, 52 CURLE_GOT_NOTHING
 * ("nothing was returned from the server"), 55 CURLE_SEND_ERROR, 56 CURLE_RECV_ERROR (a reset while reading).
 */
const curlOutcomes: Record<number, TransportOutcome> = {
  6: 'dns-failure',
  7: 'connection-refused',
  28: 'timeout',
  35: 'tls-failure',
  52: 'empty-reply',
  55: 'reset',
  56: 'reset',
};

/**
 * The host-side driver's failure texts (helpers/observe/traffic.ts failureText): Node's system error codes and
 * undici's ("UND_ERR_SOCKET: other side closed" is a connection the server closed without answering).
 */
const errorOutcomes: [RegExp, TransportOutcome][] = [
  [/\bECONNRESET\b|\bEPIPE\b/, 'reset'],
  [/\bUND_ERR_SOCKET\b|other side closed/, 'empty-reply'],
  [/\bENOTFOUND\b|\bEAI_AGAIN\b/, 'dns-failure'],
  [/\bECONNREFUSED\b/, 'connection-refused'],
  [/^timeout after\b|\bETIMEDOUT\b|\bUND_ERR_CONNECT_TIMEOUT\b|\bUND_ERR_HEADERS_TIMEOUT\b/, 'timeout'],
  [/\bERR_SSL|\bEPROTO\b/, 'tls-failure'],
];

export function transportOutcome(record: RequestRecord): TransportOutcome {
  if (record.status > 0 && !record.error) return 'response';
  if (record.curlExitCode !== undefined) return curlOutcomes[record.curlExitCode] ?? 'other-failure';
  if (record.error) return errorOutcomes.find(([pattern]) => pattern.test(record.error!))?.[1] ?? 'other-failure';
  return 'other-failure';
}

/**
 * Envoy's response flag for a local reply, read from its body (the client sees no flag otherwise). The bodies
 * are the texts Envoy writes for each case (envoyproxy/envoy: source/extensions/filters/http/fault/fault_filter.cc
 * "fault filter abort"; source/common/router/router.cc "no healthy upstream", "upstream request timeout", and
 * "upstream connect error or disconnect/reset before headers. reset reason: <reason>" with the reasons of
 * source/common/http/utility.cc resetReasonToString; source/extensions/filters/http/local_ratelimit/local_ratelimit.cc
 * "local_rate_limited" with the flag RateLimited, "RL" in envoy/stream_info/stream_info.h). A body Envoy did not
 * write gives no flag.
 */
const localReplies: [RegExp, string][] = [
  [/^fault filter abort/, 'FI'],
  [/^local_rate_limited/, 'RL'],
  [/^no healthy upstream/, 'UH'],
  [/^upstream request timeout/, 'UT'],
  [/^upstream connect error or disconnect\/reset before headers\. .*reset reason: overflow/, 'UO'],
  [/^upstream connect error or disconnect\/reset before headers\. .*reset reason: (remote )?connection (failure|timeout)/, 'UF'],
  [/^upstream connect error or disconnect\/reset before headers\. .*reset reason: connection termination/, 'UC'],
];

export function envoyResponseFlag(record: Pick<RequestRecord, 'status' | 'body'>): string | undefined {
  if (record.status < 400 || !record.body) return undefined;
  return localReplies.find(([pattern]) => pattern.test(record.body!))?.[1];
}

/** "HTTP 503 UO", "HTTP 500", "connection reset after it was accepted (curl exit code 56)": for sentences. */
export function describeOutcome(record: RequestRecord): string {
  // A response that arrived with a problem (a body cut off, a classifier that could not read it).
  if (record.status > 0 && record.error) return `HTTP ${record.status} (${record.error})`;
  const outcome = transportOutcome(record);
  if (outcome === 'response') {
    const flag = envoyResponseFlag(record);
    return `HTTP ${record.status}${flag ? ` ${flag}` : ''}`;
  }
  if (record.curlExitCode !== undefined) return `${outcomeWords[outcome]} (curl exit code ${record.curlExitCode})`;
  // The driver's own timeout text already says it ("timeout after 30 s").
  if (outcome === 'timeout' && record.error?.startsWith('timeout')) return record.error;
  return `${outcomeWords[outcome]}${record.error ? ` (${record.error})` : ''}`;
}
