import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { excerpt } from '../../helpers/net/excerpt.ts';
import { httpRequest, HttpTimeoutError } from '../../helpers/net/http.ts';
import { startStaticHttpServer, type StaticHttpServer } from '../support/static-http-server.ts';

describe('httpRequest', () => {
  let server: StaticHttpServer;
  beforeAll(async () => {
    server = await startStaticHttpServer({
      '/ok': { body: 'fine' },
      '/moved': { redirect: '/ok' },
      '/slow': { stall: true },
    });
  });
  afterAll(() => server.close());

  it('answers with status, headers and the whole body; an HTTP error status is an answer too', async () => {
    const answer = await httpRequest(`${server.url}/ok`, { timeoutMs: 2_000 });
    expect(answer).toMatchObject({ status: 200, body: 'fine', headers: { 'content-length': '4' } });
    expect(await httpRequest(`${server.url}/nothing`, { timeoutMs: 2_000 })).toMatchObject({ status: 404, body: 'Not Found' });
  });

  it('leaves a redirect as it is unless asked to follow it', async () => {
    expect((await httpRequest(`${server.url}/moved`, { timeoutMs: 2_000 })).status).toBe(302);
    expect(await httpRequest(`${server.url}/moved`, { timeoutMs: 2_000, followRedirects: true })).toMatchObject({ status: 200, body: 'fine' });
  });

  it('gives up at its own bound with an HttpTimeoutError that says how long it waited', async () => {
    const error = await httpRequest(`${server.url}/slow`, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpTimeoutError);
    expect((error as Error).message).toBe('no answer within 150 ms');
  });

  it("throws the caller's abort reason as it is when the caller's signal fires first", async () => {
    const reason = new Error('the poll ended');
    const caller = new AbortController();
    setTimeout(() => caller.abort(reason), 50);
    await expect(httpRequest(`${server.url}/slow`, { timeoutMs: 5_000, signal: caller.signal })).rejects.toBe(reason);
  });

  it('throws the network error when nothing answers', async () => {
    const closed = await startStaticHttpServer();
    await closed.close();
    await expect(httpRequest(`${closed.url}/ok`, { timeoutMs: 2_000 })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('httpRequest with a body, on a connection of its own', () => {
  let server: Server;
  let url: string;
  const seen: { method?: string; type?: string; body: string; connection?: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, type: req.headers['content-type'], body, connection: req.headers.connection });
        res.setHeader('set-cookie', ['session=abc; HttpOnly; Path=/', 'other=1']);
        res.end('posted');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const openConnections = () => new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));

  it('sends the method, headers and body, and closes its connection afterwards', async () => {
    const answer = await httpRequest(`${url}/login`, {
      timeoutMs: 2_000,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=jason',
      ownConnection: true,
    });
    expect(answer.headers['set-cookie']).toEqual(['session=abc; HttpOnly; Path=/', 'other=1']);
    expect(seen.at(-1)).toEqual({ method: 'POST', type: 'application/x-www-form-urlencoded', body: 'username=jason', connection: 'keep-alive' });
    await vi.waitFor(async () => expect(await openConnections()).toBe(0), { timeout: 2_000 });
  });

  it('keeps the connection in the shared pool otherwise (the control)', async () => {
    await httpRequest(`${url}/logout`, { timeoutMs: 2_000 });
    expect(await openConnections()).toBe(1);
    server.closeAllConnections();
  });
});

describe('excerpt', () => {
  it('flattens whitespace and cuts long bodies with an ellipsis', () => {
    expect(excerpt('  <html>\n  <body>  hi </body>\n</html>  ')).toBe('<html> <body> hi </body> </html>');
    expect(excerpt('x'.repeat(10), 4)).toBe('xxxx…');
  });
});
