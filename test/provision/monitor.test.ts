import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../helpers/config/config.ts';
import { formatPodLines, monitorTest, podLines } from '../../helpers/provision/monitor.ts';
import { startBookinfoDouble } from '../support/bookinfo-double.ts';
import { startStaticHttpServer } from '../support/static-http-server.ts';
import { useTempDirs } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-monitor-');

describe('meshproof monitor summary', () => {
  it('shows each pod as kubectl does, and whether its sidecar was injected', () => {
    const lines = podLines({
      items: [
        {
          metadata: { name: 'reviews-v1-5b8f7c6d9-q4m2n', namespace: 'bookinfo' },
          status: { phase: 'Running', containerStatuses: [{ name: 'reviews', ready: true, restartCount: 1 }, { name: 'istio-proxy', ready: true, restartCount: 0 }] },
        },
        {
          metadata: { name: 'ratings-v1-7d9c4b5f8-abcde', namespace: 'bookinfo' },
          status: { phase: 'Pending', containerStatuses: [{ name: 'ratings', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }] },
        },
      ],
    });
    expect(lines).toEqual([
      { namespace: 'bookinfo', name: 'reviews-v1-5b8f7c6d9-q4m2n', ready: '2/2', status: 'Running', restarts: 1, sidecar: true },
      { namespace: 'bookinfo', name: 'ratings-v1-7d9c4b5f8-abcde', ready: '0/1', status: 'ImagePullBackOff', restarts: 0, sidecar: false },
    ]);
    expect(formatPodLines(lines).split('\n')[0]).toMatch(/^NAMESPACE +POD +READY +STATUS +RESTARTS +SIDECAR$/);
  });
});

describe('meshproof monitor test', () => {
  it('checks every component once and reports each, answering or not', async () => {
    const bookinfo = await startBookinfoDouble();
    const addons = await startStaticHttpServer({
      '/api/v1/query': { body: '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1732560000,"42"]}]}}' },
      '/api/health': { body: '{"database":"ok","version":"12.0.1"}' },
      '/kiali/api/status': { body: '{"status":{"Kiali state":"running"}}' },
    });
    try {
      const checks = await monitorTest(
        { ingress: bookinfo.url, prometheus: addons.url, grafana: addons.url, jaeger: addons.url, kiali: 'http://127.0.0.1:1' },
        loadConfig({ MESHPROOF_TIMEOUT_REQUEST: '2s' }, tempDir()),
      );
      expect(checks.map((c) => [c.component, c.ok])).toEqual([
        ['Bookinfo (through the gateway)', true],
        ['Prometheus, with Istio metrics', true],
        ['Grafana', true],
        ['Jaeger', false],
        ['Kiali', false],
      ]);
      expect(checks[3]!.seen).toMatch(/^HTTP 404/);
      expect(checks[4]!.seen).toMatch(/ECONNREFUSED/);
      // The control: a Prometheus that answers but has no Istio series yet (count() of nothing is an empty vector).
      addons.routes['/api/v1/query'] = { body: '{"status":"success","data":{"resultType":"vector","result":[]}}' };
      const again = await monitorTest(
        { ingress: bookinfo.url, prometheus: addons.url, grafana: addons.url, jaeger: addons.url, kiali: 'http://127.0.0.1:1' },
        loadConfig({ MESHPROOF_TIMEOUT_REQUEST: '2s' }, tempDir()),
      );
      expect(again[1]).toMatchObject({ component: 'Prometheus, with Istio metrics', ok: false });
    } finally {
      await Promise.all([bookinfo.stop(), addons.close()]);
    }
  });
});
