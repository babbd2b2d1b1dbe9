import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../helpers/config/config.ts';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { formatPodLines, monitorTest, podLines } from '../../helpers/provision/monitor.ts';
import {
  describeIstioObject,
  formatReleases,
  formatSyncStatus,
  formatTrafficGenerator,
  formatWarningEvents,
  monitorFull,
  syncState,
} from '../../helpers/provision/monitor-full.ts';
import type { ClusterRunner, CommandResult } from '../../helpers/provision/runner.ts';
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

describe('meshproof monitor full: each section as a person reads it', () => {
  const now = Date.parse('2026-11-02T10:00:00Z');

  it("reports each proxy's sync with istiod by istiod's own rule, per xDS type", () => {
    const cds = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
    const lds = 'type.googleapis.com/envoy.config.listener.v3.Listener';
    const eds = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
    const rds = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
    const text = formatSyncStatus([
      {
        proxy: 'productpage-v1-6d8c6b9d8b-2kq5x.bookinfo',
        proxy_type: 'sidecar',
        istio_version: '1.31.1',
        resources: { [cds]: { sent: 'a1', acked: 'a1' }, [lds]: { sent: 'b1', acked: 'b1' }, [eds]: { sent: 'c1', acked: 'c1' }, [rds]: { sent: 'd1', acked: 'd1' } },
      },
      {
        proxy: 'reviews-v2-5b9c7c8f4d-x7wq2.bookinfo',
        proxy_type: 'sidecar',
        istio_version: '1.31.1',
        resources: { [cds]: { sent: 'a2', acked: 'a1' }, [lds]: { sent: 'b2', acked: 'b1', lastError: 'rejected: invalid listener' }, [eds]: { sent: 'c2', acked: 'c2' }, [rds]: {} },
      },
      // The form without `resources` (the top-level nonces only), where an unsent type is simply absent.
      { proxy: 'istio-ingressgateway-7c9d8f-abcde.istio-system', proxy_type: 'router', istio_version: '1.31.1', cluster_sent: 'x', cluster_acked: 'x', listener_sent: 'y', listener_acked: 'y', endpoint_sent: 'z', endpoint_acked: 'z' },
    ]);
    expect(text.split('\n')).toEqual([
      'PROXY                                           TYPE     CDS     LDS     EDS     RDS       ISTIO',
      'productpage-v1-6d8c6b9d8b-2kq5x.bookinfo        sidecar  SYNCED  SYNCED  SYNCED  SYNCED    1.31.1',
      'reviews-v2-5b9c7c8f4d-x7wq2.bookinfo            sidecar  STALE   ERROR   SYNCED  NOT SENT  1.31.1',
      'istio-ingressgateway-7c9d8f-abcde.istio-system  router   SYNCED  SYNCED  SYNCED  –         1.31.1',
      '1 of 3 proxies are not in sync with istiod',
    ]);
    expect(syncState('n1', 'n1')).toBe('SYNCED');
    expect(formatSyncStatus([{ proxy: 'a', resources: { [cds]: { sent: 'n', acked: 'n' } } }])).toMatch(/all 1 proxies in sync with istiod$/);
  });

  it('lists the newest warnings of the lab namespaces only, newest first, with their age', () => {
    const text = formatWarningEvents(
      [
        { metadata: { namespace: 'kube-system' }, involvedObject: { kind: 'Pod', name: 'coredns-1' }, reason: 'Unhealthy', message: 'not ours', count: 9, lastTimestamp: '2026-11-02T09:59:59Z' },
        { metadata: { namespace: 'bookinfo' }, involvedObject: { kind: 'Pod', name: 'ratings-v1-7d9c4b5f8-abcde' }, reason: 'BackOff', message: 'Back-off pulling image "registry.istio.io/release/examples-bookinfo-ratings-v1:1.20.3"', count: 4, lastTimestamp: '2026-11-02T09:57:00Z' },
        // Written by the events.k8s.io API: no lastTimestamp, an eventTime and a series.
        { metadata: { namespace: 'istio-system' }, involvedObject: { kind: 'Pod', name: 'kiali-5f7b9d-q2w3e' }, reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503', lastTimestamp: null, eventTime: '2026-11-02T09:40:00Z', series: { count: 12, lastObservedTime: '2026-11-02T09:59:30Z' } },
      ],
      now,
    );
    expect(text.split('\n')).toEqual([
      'LAST SEEN  NAMESPACE     OBJECT                          REASON     COUNT  MESSAGE',
      '30 s ago   istio-system  Pod/kiali-5f7b9d-q2w3e          Unhealthy  12     Readiness probe failed: HTTP probe failed with statuscode: 503',
      '3 min ago  bookinfo      Pod/ratings-v1-7d9c4b5f8-abcde  BackOff    4      Back-off pulling image "registry.istio.io/release/examples-bookinfo-ratings-v1:1.20.3"',
    ]);
    expect(formatWarningEvents([], now)).toBe('no warning events in the lab namespaces');
  });

  it("shows the traffic generator's state and its last jobs, oldest of them first", () => {
    const jobs = [1, 2, 3, 4, 5, 6, 7].map((minute) => ({
      metadata: { name: `traffic-generator-2938${minute}`, creationTimestamp: `2026-11-02T09:5${minute}:00Z` },
      status: minute === 7 ? { startTime: '2026-11-02T09:57:00Z', active: 1 } : { startTime: `2026-11-02T09:5${minute}:00Z`, completionTime: `2026-11-02T09:5${minute}:58Z`, succeeded: 1 },
    }));
    const text = formatTrafficGenerator(
      { spec: { schedule: '* * * * *', suspend: false }, status: { lastScheduleTime: '2026-11-02T09:57:00Z', lastSuccessfulTime: '2026-11-02T09:56:58Z' } },
      [...jobs].reverse(),
      now,
    );
    expect(text.split('\n')).toEqual([
      'traffic-gen/traffic-generator: running, schedule "* * * * *", last scheduled 3 min ago, last succeeded 3 min 2 s ago',
      'JOB                      STARTED    STATUS     TOOK',
      'traffic-generator-29383  7 min ago  succeeded  58 s',
      'traffic-generator-29384  6 min ago  succeeded  58 s',
      'traffic-generator-29385  5 min ago  succeeded  58 s',
      'traffic-generator-29386  4 min ago  succeeded  58 s',
      'traffic-generator-29387  3 min ago  running',
    ]);
    expect(formatTrafficGenerator(undefined, [], now)).toBe('the traffic generator is not deployed');
  });

  it('says what each Istio object does, and which versions and values each release runs', () => {
    const routing = parseAllDocuments(readFileSync(fromRoot('fixtures', 'features', '01-traffic-shifting.yaml'), 'utf8')).map((d) => d.toJS());
    expect(describeIstioObject(routing[0])).toBe('hosts reviews → v1 80 %, v2 10 %, v3 10 %');
    expect(describeIstioObject({ kind: 'PeerAuthentication', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } })).toBe('mTLS STRICT');
    expect(describeIstioObject({ kind: 'DestinationRule', metadata: { name: 'reviews' }, spec: { host: 'reviews', subsets: [{ name: 'v1' }, { name: 'v2' }], trafficPolicy: { connectionPool: {}, outlierDetection: {} } } })).toBe(
      'host reviews, subsets v1 v2 (connectionPool, outlierDetection)',
    );
    expect(formatReleases([{ name: 'istiod', chart: 'istiod-1.31.1', app_version: '1.31.1', revision: '2', status: 'deployed', updated: '2026-11-02 09:12:13.456789 +0000 UTC' }]).split('\n')).toEqual([
      'RELEASE  CHART          APP VERSION  REVISION  STATUS    UPDATED',
      'istiod   istiod-1.31.1  1.31.1       2         deployed  2026-11-02 09:12:13 UTC',
    ]);
  });

  it('prints every section even when one question fails, saying which and what else tells', async () => {
    const answers: [RegExp, CommandResult][] = [
      [/^kubectl get pods -n bookinfo/, { exitCode: 0, stdout: JSON.stringify({ items: [{ metadata: { name: 'details-v1-1', namespace: 'bookinfo' }, status: { phase: 'Running', containerStatuses: [{ name: 'details', ready: true, restartCount: 3 }] } }] }), stderr: '' }],
      [/^kubectl get pods/, { exitCode: 0, stdout: '{"items":[]}', stderr: '' }],
      [/^helm list/, { exitCode: 0, stdout: '[{"name":"istiod","chart":"istiod-1.31.1","app_version":"1.31.1","revision":"1","status":"deployed"}]', stderr: '' }],
      [/^kubectl get gateways\.networking\.istio\.io,virtualservices/, { exitCode: 0, stdout: '{"items":[]}', stderr: '' }],
      [/^kubectl exec -n istio-system deploy\/istiod -c discovery -- \/usr\/local\/bin\/pilot-discovery request GET \/debug\/syncz$/, { exitCode: 1, stdout: '', stderr: 'Error from server (NotFound): deployments.apps "istiod" not found' }],
      [/^kubectl get events -A --field-selector type=Warning/, { exitCode: 0, stdout: '{"items":[]}', stderr: '' }],
      [/^kubectl get cronjob traffic-generator/, { exitCode: 1, stdout: '', stderr: 'Error from server (NotFound): cronjobs.batch "traffic-generator" not found' }],
      [/^kubectl get jobs/, { exitCode: 0, stdout: '{"items":[]}', stderr: '' }],
    ];
    const asked: string[] = [];
    const runner: ClusterRunner = {
      run: async (tool, args) => {
        const line = [tool, ...args].join(' ');
        asked.push(line);
        return answers.find(([pattern]) => pattern.test(line))?.[1] ?? { exitCode: 1, stdout: '', stderr: `unexpected: ${line}` };
      },
      portForward: () => Promise.reject(new Error('monitor full opens no forward of its own')),
    };
    const unreachable = new Error('kubectl port-forward to istio-system/svc/kiali:20001 exited: services "kiali" not found');
    const report = await monitorFull(runner, loadConfig({}, tempDir()), { ingress: unreachable, prometheus: unreachable, grafana: unreachable, jaeger: unreachable, kiali: unreachable }, () => now);
    expect(report.split('\n').filter((line) => line.startsWith('== '))).toEqual([
      '== Pods in istio-system, bookinfo, meshproof, meshproof-legacy, traffic-gen',
      '== Helm releases in istio-system',
      '== Istio configuration',
      "== Proxy sync status (istiod's /debug/syncz)",
      '== Recent warning events (newest 10)',
      '== Traffic generator',
      '== Each component answering now',
    ]);
    expect(report).toMatch(/details-v1-1 +1\/1 +Running +3 +no/);
    expect(report).toContain('warning: no sidecar in details-v1-1');
    expect(report).toContain('istiod   istiod-1.31.1  1.31.1       1         deployed');
    expect(report).toContain('deployments.apps "istiod" not found\nistiod\'s record of what each proxy acknowledged could not be read; `istioctl proxy-status` shows the same where istioctl is installed.');
    expect(report).toContain('the traffic generator is not deployed');
    expect(report).toContain('✗ Kiali                            kubectl port-forward to istio-system/svc/kiali:20001 exited: services "kiali" not found');
    expect(asked.filter((line) => line.includes('syncz'))).toHaveLength(1);
  });
});
