import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MeshproofError } from '../../helpers/errors.ts';
import {
  buildCurlBatch,
  podExec,
  kubectlExecArgv,
  parseCurlBatch,
  sendFromPod,
  type CurlBatchOptions,
  type PodExec,
} from '../../helpers/observe/mesh-client.ts';
import { startBookinfoDouble, type BookinfoDouble } from '../support/bookinfo-double.ts';
import { startStaticHttpServer } from '../support/static-http-server.ts';
import { keptBody, keptBodyLength } from '../../helpers/observe/records.ts';
import { FakeCluster } from '../support/fake-cluster.ts';

// A write-out line as curl 8.16 prints it (more keys than 7.88, e.g. time_queue, conn_id): only the
// fields the parser needs matter.
const line = (fields: Record<string, unknown>, ...headers: string[]) =>
  [
    JSON.stringify({
      certs: '',
      content_type: 'text/html',
      errormsg: null,
      exitcode: 0,
      http_code: 200,
      response_code: 200,
      time_queue: 0.000012,
      time_total: 0.012345,
      url: 'http://productpage:9080/productpage',
      urlnum: 0,
      conn_id: 0,
      curl_version: 'libcurl/8.16.0 OpenSSL/3.5.2',
      ...fields,
    }),
    ...headers,
  ].join('\t');

describe('buildCurlBatch', () => {
  const base: CurlBatchOptions = { url: 'http://productpage:9080/productpage', count: 50, concurrency: 10, timeoutMs: 2500 };

  it('is one sh -c with the URL list built in the pod and curl run once, in parallel', () => {
    const argv = buildCurlBatch({
      ...base,
      headers: { Cookie: 'session=a b "c"' },
      keepHeaders: ['X-Envoy-Upstream-Service-Time'],
    });
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv[2]).toContain('curl "$@"; rc=$?');
    expect(argv.slice(3, 6)).toEqual(['meshproof-batch', '50', 'http://productpage:9080/productpage']);
    const curl = argv.slice(6);
    expect(curl).toEqual(expect.arrayContaining(['--parallel', '--parallel-immediate', '--no-progress-meter', '--globoff']));
    expect(curl[curl.indexOf('--parallel-max') + 1]).toBe('10');
    expect(curl[curl.indexOf('--max-time') + 1]).toBe('2.5');
    expect(curl[curl.indexOf('--write-out') + 1]).toBe('%{json}\\t%header{x-envoy-upstream-service-time}\\n');
    expect(curl[curl.indexOf('--header') + 1]).toBe('Cookie: session=a b "c"'); // an argument, never shell text
    expect(argv.join(' ').length).toBeLessThan(700); // the count does not grow the exec's argv
  });

  it('refuses what curl or the format cannot carry', () => {
    expect(() => buildCurlBatch({ ...base, concurrency: 301 })).toThrow(/cap --parallel-max at 300/);
    expect(() => buildCurlBatch({ ...base, keepHeaders: ['x}y'] })).toThrow(/not an HTTP header name/);
    expect(() => buildCurlBatch({ ...base, headers: { a: 'b\r\nc: d' } })).toThrow(MeshproofError);
    expect(() => buildCurlBatch({ ...base, url: 'productpage:9080' })).toThrow(/http:\/\//);
  });

  it('goes behind kubectl exec', () => {
    expect(kubectlExecArgv({ namespace: 'legacy', pod: 'curl-5b9', container: 'curl' }, ['sh', '-c', 'x'])).toEqual([
      'exec', '-n', 'legacy', 'curl-5b9', '-c', 'curl', '--', 'sh', '-c', 'x',
    ]);
  });
});

describe('parseCurlBatch', () => {
  it('makes one RequestRecord per line, in URL order, in the driver’s format', () => {
    const stdout = [
      line({ urlnum: 1, http_code: 503, time_total: 0.5 }, '7'),
      line({ urlnum: 0 }, '12'),
      line(
        { urlnum: 2, http_code: 0, exitcode: 56, errormsg: 'Recv failure: Connection reset by peer', time_total: 0.002 },
        '',
      ),
      '',
    ].join('\n');
    expect(parseCurlBatch(stdout, 1000, { keepHeaders: ['x-envoy-upstream-service-time'] })).toEqual([
      { startedAt: 1000, latencyMs: 12.345, status: 200, headers: { 'x-envoy-upstream-service-time': '12' } },
      { startedAt: 1000, latencyMs: 500, status: 503, headers: { 'x-envoy-upstream-service-time': '7' } },
      {
        startedAt: 1000,
        latencyMs: 2,
        status: 0,
        headers: {},
        curlExitCode: 56,
        error: 'curl exit code 56: Recv failure: Connection reset by peer',
      },
    ]);
  });

  it('keeps the start of a body that is not 2xx, and classifies bodies when asked', () => {
    const stdout = [
      line({ urlnum: 0, http_code: 503 }),
      line({ urlnum: 1, http_code: 200 }),
      '#body\t0\tupstream connect error or disconnect/reset before headers. reset reason: overflow',
      '#body\t1\t{"id": "0","podname": "reviews-v2-6f9b8d5c4-x2x7k"',
    ].join('\n');
    const records = parseCurlBatch(stdout, 0, { classifyBody: (status, body) => (status === 200 ? /"podname": "(reviews-v\d)-/.exec(body)?.[1] : undefined) });
    expect(records[0]).toMatchObject({ status: 503, body: 'upstream connect error or disconnect/reset before headers. reset reason: overflow' });
    expect(records[0]!.classification).toBeUndefined();
    expect(records[1]).toMatchObject({ status: 200, classification: 'reviews-v2' });
    expect(records[1]!.body).toBeUndefined();
  });

  it('keeps a tab inside the last header value, and records transfers curl never reported', () => {
    const records = parseCurlBatch(line({ urlnum: 0 }, 'a', 'b\tc'), 5, {
      keepHeaders: ['x-a', 'x-b'],
      count: 3,
      missingReason: 'exit code 137',
    });
    expect(records[0]!.headers).toEqual({ 'x-a': 'a', 'x-b': 'b\tc' });
    expect(records.slice(1)).toEqual([
      { startedAt: 5, latencyMs: 0, status: 0, error: 'curl printed no result for transfer 1 (exit code 137)' },
      { startedAt: 5, latencyMs: 0, status: 0, error: 'curl printed no result for transfer 2 (exit code 137)' },
    ]);
  });

  it('refuses lines that are not the write-out JSON (an old curl, a wrong format)', () => {
    expect(() => parseCurlBatch('200 0.01\n', 0)).toThrow(/not its --write-out JSON/);
    const tooOld = (() => {
      try {
        parseCurlBatch(JSON.stringify({ http_code: 200, time_total: 0.1 }), 0); // no exitcode/urlnum: before 7.75
      } catch (error) {
        return error;
      }
    })();
    expect(tooOld).toBeInstanceOf(MeshproofError);
    expect((tooOld as MeshproofError).fix).toMatch(/curl 7.84 or later/);
  });
});

describe('sendFromPod', () => {
  it('turns an exec that printed nothing into an environment error, with its stderr', async () => {
    const exec: PodExec = async () => ({ stdout: '', stderr: 'sh: curl: not found', exitCode: 127 });
    await expect(sendFromPod(exec, { url: 'http://x/', count: 3, concurrency: 1, timeoutMs: 1000 })).rejects.toThrow(
      /printed no results \(exit code 127: sh: curl: not found\)/,
    );
  });
});

// The generated command, run for real: local sh and curl against the loopback double.
const localCurl = await execa('curl', ['--version'], { reject: false }).then(
  (result) => (result.exitCode === 0 ? result.stdout.split('\n')[0] : undefined),
  () => undefined,
);
if (!localCurl) {
  console.warn('\n*** mesh-client self-test: no local `curl` binary, so the real-curl cases are SKIPPED ***\n');
}

describe.skipIf(!localCurl)(`the batch run by the local curl (${localCurl ?? 'missing'})`, () => {
  let double: BookinfoDouble;
  let execs = 0;
  const exec: PodExec = async (argv) => {
    execs += 1;
    const result = await execa(argv[0]!, argv.slice(1), { reject: false });
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? -1 };
  };
  const batch = (options: Partial<CurlBatchOptions>) =>
    sendFromPod(exec, { url: `${double.url}/productpage`, count: 12, concurrency: 3, timeoutMs: 5000, ...options });

  beforeAll(async () => {
    double = await startBookinfoDouble({ seed: 11 });
  });
  afterAll(() => double.stop());
  beforeEach(() => {
    double.setOptions({ latencyMs: 0, plaintextRejected: false, errorRate: 0 });
    double.resetStats();
    execs = 0;
  });

  it('sends N requests in one exec, `concurrency` at a time, and parses every one', async () => {
    double.setOptions({ latencyMs: 40 });
    const records = await batch({
      count: 24,
      concurrency: 6,
      headers: { cookie: 'session=x.y' },
      keepHeaders: ['content-type'],
    });
    expect(execs).toBe(1);
    expect(records).toHaveLength(24);
    for (const record of records) {
      expect(record).toMatchObject({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
      expect(record.error).toBeUndefined();
      expect(record.latencyMs).toBeGreaterThanOrEqual(35);
    }
    const stats = double.stats();
    expect(stats.requests).toBe(24);
    expect(stats.maxInFlight).toBe(6);
    expect(stats.recent.every((r) => r.headers.cookie === 'session=x.y')).toBe(true);
  });

  it('reports a reset connection as status 0 with curl exit code 56, as plaintext under STRICT mTLS', async () => {
    double.setOptions({ plaintextRejected: true });
    const records = await batch({ count: 4, concurrency: 2 });
    expect(records).toHaveLength(4);
    for (const record of records) {
      expect(record).toMatchObject({
        status: 0,
        curlExitCode: 56,
        error: expect.stringMatching(/^curl exit code 56: Recv failure: Connection reset by peer/),
      });
    }
  });

  it('brings back the start of each non-2xx body, one line however it was written', async () => {
    double.setOptions({ errorRate: 1 });
    const records = await batch({ count: 5, concurrency: 5 });
    double.setOptions({ errorRate: 0 });
    for (const record of records) expect(record).toMatchObject({ status: 500, body: 'fault filter abort' });
    const served = await batch({ count: 2, concurrency: 2, classifyBody: (_status, body) => (body.startsWith('<!doctype html>') ? 'a page' : undefined) });
    for (const record of served) expect(record).toMatchObject({ status: 200, classification: 'a page' });
    expect(served[0]!.body).toBeUndefined();
  });

  it('keeps a body exactly as `head -c | tr` would: tabs, CRLF, a last line without newline, a long line cut', async () => {
    const long = `${'x'.repeat(150)} ${'y'.repeat(100)}`;
    const server = await startStaticHttpServer({
      '/lines': { status: 500, body: 'first\tline\r\nsecond line\nlast, no newline' },
      '/long': { status: 503, body: `${long}\nnever read` },
      '/one': { status: 502, body: 'one line\n' },
    });
    try {
      const send = (p: string) => sendFromPod(exec, { url: `${server.url}${p}`, count: 2, concurrency: 2, timeoutMs: 5000 });
      for (const record of await send('/lines')) expect(record.body).toBe(keptBody('first\tline\r\nsecond line\nlast, no newline'.replace(/[\t\r\n]/g, ' ')));
      for (const record of await send('/long')) expect(record.body).toBe(long.slice(0, keptBodyLength));
      for (const record of await send('/one')) expect(record.body).toBe('one line ');
    } finally {
      await server.close();
    }
  });

  it('reports a name that does not resolve as curl exit code 6, and a closed port as 7', async () => {
    const unresolved = await batch({ url: 'http://productpage.meshproof-nowhere.invalid:9080/productpage', count: 2, concurrency: 2 });
    for (const record of unresolved) expect(record).toMatchObject({ status: 0, curlExitCode: 6 });
    const refused = await batch({ url: 'http://127.0.0.1:9/productpage', count: 2, concurrency: 2 });
    for (const record of refused) expect(record).toMatchObject({ status: 0, curlExitCode: 7 });
  });

  it('reports a transfer over its time as curl exit code 28', async () => {
    double.setOptions({ latencyMs: 400 });
    const records = await batch({ count: 2, concurrency: 2, timeoutMs: 100 });
    for (const record of records) {
      expect(record).toMatchObject({ status: 0, error: expect.stringMatching(/^curl exit code 28: Operation timed out/) });
      expect(record.latencyMs).toBeLessThan(400);
    }
  });
});

describe('podExec', () => {
  it('runs the whole batch as one kubectl exec into the client Deployment', async () => {
    const cluster = new FakeCluster();
    cluster.failures.set('exec -n meshproof', { exitCode: 0, stdout: '', stderr: '' });
    const exec = podExec(cluster, { namespace: 'meshproof', deployment: 'mesh-client', container: 'curl' }, 60_000);
    await exec(buildCurlBatch({ url: 'http://reviews.bookinfo:9080/reviews/0', count: 200, concurrency: 4, timeoutMs: 30_000 }));
    expect(cluster.calls).toHaveLength(1);
    expect(cluster.calls[0]!.args.slice(0, 8)).toEqual(['exec', '-n', 'meshproof', 'deploy/mesh-client', '-c', 'curl', '--', 'sh']);
  });
});
