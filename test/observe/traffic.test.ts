import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultTimeouts } from '../../helpers/config/timeouts.ts';
import { MeshproofError } from '../../helpers/errors.ts';
import { failureText, sendTraffic, type TrafficOptions } from '../../helpers/observe/traffic.ts';
import { startBookinfoDouble, type BookinfoDouble } from '../support/bookinfo-double.ts';
import { startStaticHttpServer } from '../support/static-http-server.ts';

// The double answers in milliseconds, so the self-tests scale the deadlines down; the real bounds stay in
// timeouts.ts. `slow` is a latency well above `short`, so a short timeout must fire.
const t = { request: defaultTimeouts.request, batch: 5_000, short: 80, slow: 300 };

let double: BookinfoDouble;
beforeAll(async () => {
  double = await startBookinfoDouble({ seed: 7 });
});
afterAll(() => double.stop());
beforeEach(() => {
  double.setOptions({
    latencyMs: 0,
    errorRate: 0,
    maxInFlight: undefined,
    plaintextRejected: false,
    weights: undefined,
    seed: 7,
  });
  double.resetStats();
});

const send = (options: Partial<TrafficOptions>) =>
  sendTraffic({
    baseUrl: double.url,
    path: '/productpage',
    count: 10,
    concurrency: 2,
    deadlineMs: t.batch,
    requestTimeoutMs: t.request,
    ...options,
  });

describe('sendTraffic', () => {
  it('sends exactly `count` requests, one record each, and keeps `concurrency` in flight at the server', async () => {
    double.setOptions({ latencyMs: 30 });
    const records = await send({ count: 48, concurrency: 6 });
    expect(records).toHaveLength(48);
    expect(records.every((r) => r.status === 200 && r.error === undefined)).toBe(true);
    expect(records.every((r) => r.latencyMs >= 25 && r.startedAt > 0)).toBe(true);
    const stats = double.stats();
    expect(stats.requests).toBe(48);
    expect(stats.maxInFlight).toBe(6); // reached, and never exceeded
  });

  it('keeps the start of a non-2xx body, where an Envoy local reply says why, and no 2xx body', async () => {
    double.setOptions({ maxInFlight: 1, latencyMs: 30 });
    const records = await send({ count: 8, concurrency: 4 });
    const refused = records.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(r.body).toBe('upstream connect error or disconnect/reset before headers. reset reason: overflow');
    for (const r of records.filter((x) => x.status === 200)) expect(r.body).toBeUndefined();
  });

  it('reuses keep-alive connections: 200 requests over at most `concurrency` connections', async () => {
    const records = await send({ count: 200, concurrency: 4 });
    expect(records.filter((r) => r.status === 200)).toHaveLength(200);
    expect(double.stats().connections).toBeLessThanOrEqual(4);
  });

  it('stops at the deadline and records the requests still running as errors, not as nothing', async () => {
    double.setOptions({ latencyMs: 200 });
    const started = performance.now();
    const records = await send({ count: 100, concurrency: 3, deadlineMs: 500 });
    const elapsed = performance.now() - started;
    // All 100 at 200 ms, 3 at a time, would take about 6.7 s: ending within a few seconds proves the cut.
    expect(elapsed).toBeLessThan(3_000);
    expect(records.length).toBeGreaterThanOrEqual(6);
    expect(records.length).toBeLessThan(100);
    const cut = records.filter((r) => r.error !== undefined);
    expect(cut.length).toBeGreaterThanOrEqual(1);
    expect(cut.length).toBeLessThanOrEqual(3);
    for (const record of cut) {
      expect(record).toMatchObject({ status: 0, error: 'batch deadline of 500 ms reached before the response completed' });
    }
    expect(records.filter((r) => r.error === undefined).every((r) => r.status === 200)).toBe(true);
    expect(double.stats().requests).toBe(records.length); // every request the server saw has a record
  });

  it('records a request that outlives its timeout as an error', async () => {
    double.setOptions({ latencyMs: t.slow });
    const records = await send({ count: 4, concurrency: 2, requestTimeoutMs: t.short });
    expect(records).toHaveLength(4);
    for (const record of records) {
      expect(record).toMatchObject({ status: 0, error: 'timeout after 80 ms' });
      expect(record.latencyMs).toBeGreaterThanOrEqual(t.short - 5);
      expect(record.latencyMs).toBeLessThan(t.slow);
    }
  });

  it('times out a body that stalls after the headers, keeping the status it got', async () => {
    const server = await startStaticHttpServer({ '/stall': { stall: true } });
    try {
      const stallOnce = (extra: Partial<Parameters<typeof sendTraffic>[0]> = {}) =>
        sendTraffic({ baseUrl: server.url, path: '/stall', count: 1, concurrency: 1, deadlineMs: t.batch, requestTimeoutMs: t.short, ...extra });
      const records = await stallOnce();
      expect(records).toEqual([expect.objectContaining({ status: 200, error: 'timeout after 80 ms' })]);
      const classified = await stallOnce({ classify: () => 'never' });
      expect(classified).toEqual([expect.objectContaining({ status: 200, error: 'timeout after 80 ms' })]);
      expect(classified[0]!.classification).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('records connection resets (plaintext rejected) as status 0 with ECONNRESET', async () => {
    double.setOptions({ plaintextRejected: true });
    const records = await send({ count: 6, concurrency: 2 });
    expect(records).toHaveLength(6);
    for (const record of records) {
      expect(record).toMatchObject({ status: 0, error: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/) });
    }
    expect(double.stats().resets).toBe(6);
  });

  it('records 503 overflow and 500 faults as statuses, seeded so a run repeats', async () => {
    double.setOptions({ latencyMs: 50, maxInFlight: 2 });
    const overflow = await send({ count: 12, concurrency: 6 });
    const statuses = new Set(overflow.map((r) => r.status));
    expect(statuses).toEqual(new Set([200, 503]));

    double.setOptions({ latencyMs: 0, maxInFlight: undefined, errorRate: 0.3, seed: 42 });
    const first = (await send({ count: 60, concurrency: 1 })).map((r) => r.status);
    double.setOptions({ seed: 42 });
    const second = (await send({ count: 60, concurrency: 1 })).map((r) => r.status);
    expect(second).toEqual(first);
    const errors = first.filter((s) => s === 500).length;
    expect(errors).toBeGreaterThan(5);
    expect(errors).toBeLessThan(35);
  });

  it('classifies bodies, keeps chosen headers, sends cookies and a fresh entropy header each time', async () => {
    const records = await send({
      path: '/api/v1/products/0/reviews',
      count: 5,
      keepHeaders: ['Content-Type'],
      cookie: 'a=1',
      session: { cookie: 'session=abc.def' },
      headers: { 'X-Trace': 'on' },
      entropyHeader: 'x-jitter',
      classify: (response) => `${response.status}:${JSON.parse(response.body).podname.slice(0, 10)}`,
    });
    for (const record of records) {
      expect(record.headers).toEqual({ 'content-type': 'application/json' });
      expect(record.classification).toMatch(/^200:reviews-v[123]$/);
    }
    const seen = double.stats().recent;
    expect(seen.map((r) => r.headers.cookie)).toEqual(Array(5).fill('a=1; session=abc.def'));
    expect(seen.every((r) => r.headers['x-trace'] === 'on')).toBe(true);
    expect(new Set(seen.map((r) => r.headers['x-jitter'])).size).toBe(5);
  });

  it('records a classifier that throws, instead of losing the request', async () => {
    const records = await send({
      count: 2,
      classify: () => {
        throw new Error('boom');
      },
    });
    expect(records).toEqual([
      expect.objectContaining({ status: 200, error: 'classifier failed: boom' }),
      expect.objectContaining({ status: 200, error: 'classifier failed: boom' }),
    ]);
  });

  it('sends POST bodies', async () => {
    const records = await send({
      path: '/login',
      method: 'POST',
      count: 1,
      body: 'username=x&passwd=y',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      keepHeaders: ['location'],
    });
    expect(records[0]).toMatchObject({ status: 302, headers: { location: 'None' } });
  });

  it('throws the caller’s abort reason and stops sending', async () => {
    double.setOptions({ latencyMs: 100 });
    const controller = new AbortController();
    const pending = send({ count: 100, concurrency: 2, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('suite cancelled')), 150);
    await expect(pending).rejects.toThrow('suite cancelled');
    expect(double.stats().requests).toBeLessThan(10);
  });

  it('returns nothing for count 0 and refuses invalid options', async () => {
    expect(await send({ count: 0 })).toEqual([]);
    await expect(send({ concurrency: 0 })).rejects.toThrow(MeshproofError);
    await expect(send({ count: 1.5, deadlineMs: -1 })).rejects.toThrow(/count 1.5.*deadlineMs -1/);
    await expect(send({ baseUrl: 'not a url' })).rejects.toThrow(/not a URL/);
  });

  it('records an unreachable server as ECONNREFUSED', async () => {
    const gone = await startBookinfoDouble();
    await gone.stop();
    const records = await sendTraffic({
      baseUrl: gone.url,
      path: '/productpage',
      count: 2,
      concurrency: 1,
      deadlineMs: t.batch,
      requestTimeoutMs: t.request,
    });
    expect(records).toEqual([
      expect.objectContaining({ status: 0, error: expect.stringMatching(/^ECONNREFUSED/) }),
      expect.objectContaining({ status: 0, error: expect.stringMatching(/^ECONNREFUSED/) }),
    ]);
  });
});

describe('failureText', () => {
  it('prefers the system error code, then undici’s code and message', () => {
    const reset = Object.assign(new Error('other side closed'), {
      code: 'UND_ERR_SOCKET',
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    });
    expect(failureText(reset)).toBe('ECONNRESET: other side closed');
    expect(failureText(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }))).toBe(
      'UND_ERR_SOCKET: other side closed',
    );
    expect(failureText(new Error('plain'))).toBe('plain');
    expect(failureText('text')).toBe('text');
  });
});
