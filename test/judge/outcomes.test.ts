import { describe, expect, it } from 'vitest';
import { describeMatcher, matches } from '../../helpers/judge/matchers.ts';
import { describeOutcome, envoyResponseFlag, transportOutcome } from '../../helpers/judge/outcomes.ts';
import type { RequestRecord } from '../../helpers/observe/records.ts';

const at = (fields: Partial<RequestRecord>): RequestRecord => ({ startedAt: 0, latencyMs: 3, status: 0, ...fields });

describe('what became of a request', () => {
  it.each([
    [6, 'dns-failure'],
    [7, 'connection-refused'],
    [28, 'timeout'],
    [35, 'tls-failure'],
    [52, 'empty-reply'],
    [56, 'reset'],
    [99, 'other-failure'],
  ] as const)('reads curl exit code %i as %s', (code, outcome) => {
    expect(transportOutcome(at({ curlExitCode: code, error: `curl exit code ${code}: something` }))).toBe(outcome);
  });

  it.each([
    ['ECONNRESET: read ECONNRESET', 'reset'],
    ['UND_ERR_SOCKET: other side closed', 'empty-reply'],
    ['ENOTFOUND: getaddrinfo ENOTFOUND productpage.invalid', 'dns-failure'],
    ['ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9', 'connection-refused'],
    ['timeout after 30 s', 'timeout'],
    ['classifier failed: no JSON', 'other-failure'],
  ] as const)("reads the driver's %s as %s", (error, outcome) => {
    expect(transportOutcome(at({ error }))).toBe(outcome);
  });

  it('calls any status a response, whatever it is', () => {
    expect(transportOutcome(at({ status: 503 }))).toBe('response');
    expect(transportOutcome(at({ status: 200 }))).toBe('response');
  });

  it("reads Envoy's local replies, and nothing else, as response flags", () => {
    expect(envoyResponseFlag({ status: 503, body: 'upstream connect error or disconnect/reset before headers. reset reason: overflow' })).toBe('UO');
    expect(envoyResponseFlag({ status: 503, body: 'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: overflow' })).toBe('UO');
    expect(envoyResponseFlag({ status: 503, body: 'no healthy upstream' })).toBe('UH');
    expect(envoyResponseFlag({ status: 500, body: 'fault filter abort' })).toBe('FI');
    expect(envoyResponseFlag({ status: 504, body: 'upstream request timeout' })).toBe('UT');
    expect(envoyResponseFlag({ status: 429, body: 'local_rate_limited' })).toBe('RL');
    expect(
      envoyResponseFlag({
        status: 503,
        body: 'upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused',
      }),
    ).toBe('UF');
    // httpbin's own 503 and 429, and a 200 carrying the words, are not Envoy's.
    expect(envoyResponseFlag({ status: 503, body: '' })).toBeUndefined();
    expect(envoyResponseFlag({ status: 429, body: '' })).toBeUndefined();
    expect(envoyResponseFlag({ status: 200, body: 'no healthy upstream' })).toBeUndefined();
  });

  it('says which it was in a sentence', () => {
    expect(describeOutcome(at({ curlExitCode: 6 }))).toBe('the name did not resolve (curl exit code 6)');
    expect(describeOutcome(at({ curlExitCode: 56 }))).toBe('connection reset after it was accepted (curl exit code 56)');
    expect(describeOutcome(at({ status: 503, body: 'no healthy upstream' }))).toBe('HTTP 503 UH');
    expect(describeOutcome(at({ error: 'timeout after 30 s' }))).toBe('timeout after 30 s');
  });
});

describe('matchers on outcomes and flags', () => {
  const refusedByMesh = { outcomeIn: ['reset', 'empty-reply', 'tls-failure'] as ('reset' | 'empty-reply' | 'tls-failure')[] };

  it("tells the mesh's refusal from a client that never reached it", () => {
    expect(matches(refusedByMesh, at({ curlExitCode: 56 }))).toBe(true);
    expect(matches(refusedByMesh, at({ curlExitCode: 52 }))).toBe(true);
    expect(matches(refusedByMesh, at({ curlExitCode: 6 }))).toBe(false);
    expect(matches(refusedByMesh, at({ curlExitCode: 7 }))).toBe(false);
    expect(matches(refusedByMesh, at({ curlExitCode: 28 }))).toBe(false);
    expect(describeMatcher(refusedByMesh)).toBe('connection reset after it was accepted or connection closed without a reply or TLS handshake failed');
  });

  it('holds when any of several matchers does: served, or refused as an overflow', () => {
    const servedOrOverflow = { anyOf: [{ status: 200 }, { status: 503, responseFlag: 'UO' }] };
    expect(matches(servedOrOverflow, at({ status: 200 }))).toBe(true);
    expect(matches(servedOrOverflow, at({ status: 503, body: 'upstream connect error or disconnect/reset before headers. reset reason: overflow' }))).toBe(true);
    expect(matches(servedOrOverflow, at({ status: 503, body: 'no healthy upstream' }))).toBe(false);
    expect(describeMatcher(servedOrOverflow)).toBe('status 200, or status 503 with response flag UO');
  });
});
