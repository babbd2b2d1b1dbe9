import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { awaitConfigLive, probeAnswer } from '../../helpers/gate/config-live.ts';
import { liveProbeStatus, probeUserAgent } from '../../helpers/apply/live-probe.ts';
import { httpRequest } from '../../helpers/net/http.ts';
import { PollTimeoutError } from '../../helpers/wait/poll.ts';

describe('awaitConfigLive over a real socket', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A gateway whose new route arrives after `switchAfter` probes, and flaps once (two sidecars disagreeing). */
  async function propagatingGateway(applyId: string, script: boolean[]): Promise<{ url: string; seen: () => number }> {
    let probes = 0;
    server = http.createServer((req, res) => {
      const live = req.headers['user-agent'] === probeUserAgent(applyId, 'reviews') && (script[probes++] ?? true);
      res.statusCode = live ? liveProbeStatus : 200;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen: () => probes };
  }

  it('succeeds only after three probe answers in a row from the new config', async () => {
    const gateway = await propagatingGateway('id1', [false, false, true, false, true, true, true]);
    await awaitConfigLive({ what: 'the canary split', timeoutMs: 5_000, intervalMs: 10 }, async () => {
      const { status } = await httpRequest(`${gateway.url}/api/v1/products/0/reviews`, { timeoutMs: 1_000, headers: { 'user-agent': probeUserAgent('id1', 'reviews') } });
      return probeAnswer(status, 'the gateway');
    });
    expect(gateway.seen()).toBe(7);
  });

  it('never passes on the previous config, and says so when the deadline passes', async () => {
    const gateway = await propagatingGateway('new-id', []);
    const error = await awaitConfigLive({ what: 'the canary split', timeoutMs: 300, intervalMs: 20 }, async () => {
      // A probe carrying another apply's id: the route that answers it does not exist in this config.
      const { status } = await httpRequest(`${gateway.url}/api/v1/products/0/reviews`, { timeoutMs: 1_000, headers: { 'user-agent': probeUserAgent('old-id', 'reviews') } });
      return probeAnswer(status, 'the gateway');
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PollTimeoutError);
    expect((error as Error).message).toMatch(
      /^timed out after 300 ms waiting for the canary split to be the configuration serving; last seen: the gateway answered 200: the previous configuration still serves, or the mesh does not apply the probe route's fault abort \(418\)/,
    );
  });
});
