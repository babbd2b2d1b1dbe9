import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What one path answers: bytes (status 200 unless given), a redirect, headers and a first chunk then silence, or
 * an error status for the first `failFirst` requests and then another route (a flaky server).
 */
export type StaticRoute =
  | { body: string | Uint8Array; status?: number }
  | { redirect: string }
  | { stall: true }
  | { failFirst: number; status: number; then: StaticRoute };

export interface StaticHttpServer {
  /** http://127.0.0.1:<port>, without a trailing slash. */
  url: string;
  /** The served paths; tests may change them while the server runs. Unknown paths answer 404. */
  routes: Record<string, StaticRoute>;
  /** Every request path, in order: its length is the request count. */
  requests: string[];
  close(): Promise<void>;
}

/** A loopback HTTP server on a free port that serves fixed bytes: a stand-in for a download site. */
export async function startStaticHttpServer(routes: Record<string, StaticRoute> = {}): Promise<StaticHttpServer> {
  const requests: string[] = [];
  const handle: StaticHttpServer = { url: '', routes, requests, close: async () => {} };
  const server: Server = createServer((request, response) => {
    const requestPath = new URL(request.url ?? '/', 'http://loopback').pathname;
    requests.push(requestPath);
    let route = handle.routes[requestPath];
    if (route && 'failFirst' in route) {
      if (route.failFirst > 0) {
        route.failFirst -= 1;
        response.writeHead(route.status, { 'content-type': 'text/plain' }).end('try again');
        return;
      }
      route = route.then;
    }
    if (!route) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
    } else if ('redirect' in route) {
      response.writeHead(302, { location: route.redirect }).end();
    } else if ('stall' in route || 'failFirst' in route) {
      response.writeHead(200, { 'content-length': '1000000' }).write('partial');
    } else {
      const body = typeof route.body === 'string' ? Buffer.from(route.body) : route.body;
      response.writeHead(route.status ?? 200, { 'content-length': String(body.length) }).end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  handle.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Closing twice is fine: a test may close early to make the server unreachable.
  handle.close = () =>
    new Promise<void>((resolve, reject) => {
      if (!server.listening) return resolve();
      server.closeAllConnections(); // a stalled answer would otherwise keep close() waiting
      server.close((error) => (error ? reject(error) : resolve()));
    });
  return handle;
}
