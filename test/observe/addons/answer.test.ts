import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerRecord, fetchAnswer } from '../../../helpers/observe/addons/answer.ts';
import { kialiApi } from '../../../helpers/observe/addons/kiali.ts';
import { startStaticHttpServer, type StaticHttpServer } from '../../support/static-http-server.ts';

describe('fetchAnswer', () => {
  let server: StaticHttpServer;
  beforeAll(async () => {
    server = await startStaticHttpServer({ '/kiali/api/status': { body: '{"status":{"Kiali state":"running"}}' }, '/slow': { stall: true } });
  });
  afterAll(() => server.close());

  it('keeps status, body and timing, and never throws: a refused connection or a stall is status 0 with the reason', async () => {
    const answer = await fetchAnswer(kialiApi.status(`${server.url}/`), 2_000);
    expect(answer).toMatchObject({ status: 200, body: '{"status":{"Kiali state":"running"}}', url: `${server.url}/kiali/api/status` });
    expect(answerRecord(answer, 'Kiali state: running')).toEqual({ startedAt: answer.startedAt, latencyMs: answer.latencyMs, status: 200, classification: 'Kiali state: running' });
    expect((await fetchAnswer(`${server.url}/nothing`, 2_000)).status).toBe(404);
    const stalled = await fetchAnswer(`${server.url}/slow`, 200);
    expect(stalled).toMatchObject({ status: 0, error: 'no answer within 200 ms' });
    const closed = await startStaticHttpServer();
    await closed.close();
    const refused = await fetchAnswer(`${closed.url}/jaeger/api/services`, 2_000);
    expect(refused.status).toBe(0);
    expect(refused.error).toMatch(/ECONNREFUSED/);
    expect(answerRecord(refused, 'no answer')).toMatchObject({ status: 0, error: refused.error });
  });
});
