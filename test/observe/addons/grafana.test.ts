import { describe, expect, it } from 'vitest';
import type { Answered } from '../../../helpers/observe/addons/answer.ts';
import { countPanels, grafanaApi, readDashboardPanels, readDashboardsInFolder } from '../../../helpers/observe/addons/grafana.ts';
import { labDashboards } from '../../../helpers/suite/observability-steps.ts';

/** The Grafana readers on answers written from the documented /api/search and dashboard shapes, healthy and broken. */
const ok = (body: unknown): Answered => ({ status: 200, body: JSON.stringify(body) });

describe('grafanaApi', () => {
  it('asks the search and dashboard APIs at their documented paths', () => {
    expect(grafanaApi.search('http://g:3000/', 'Istio')).toBe('http://g:3000/api/search?query=Istio&type=dash-db');
    expect(grafanaApi.dashboard('http://g:3000', '1a9a8ea4/x')).toBe('http://g:3000/api/dashboards/uid/1a9a8ea4%2Fx');
  });
});

const folder = { folderId: 1, folderUid: 'b2c0e1f4-istio', folderTitle: 'istio', folderUrl: '/dashboards/f/b2c0e1f4-istio/istio' };
/** inFolder null: a dashboard at the root (Grafana's General), which has no folder fields. */
function hit(title: string, uid: string, inFolder: typeof folder | null = folder) {
  const slug = title.toLowerCase().replace(/ /g, '-');
  return { id: uid.length, uid, orgId: 1, title, uri: `db/${slug}`, url: `/d/${uid}/${slug}`, slug: '', type: 'dash-db', tags: [], isStarred: false, sortMeta: 0, ...(inFolder ?? {}) };
}
const istioDashboards = [
  hit('Istio Control Plane Dashboard', '1813f692a8e4ac77155348d4c7d2fba8'),
  hit('Istio Mesh Dashboard', '1a9a8ea49444aae205c7737573e894f9'),
  hit('Istio Performance Dashboard', 'c6a5b2e8-perf'),
  hit('Istio Service Dashboard', 'LJ_uJAvmk'),
  hit('Istio Workload Dashboard', 'UbsSZTDik'),
];
const four = labDashboards;

describe('the Grafana readers', () => {
  it('find every title as a dashboard in folder istio, with its uid', () => {
    const folderHit = { id: 1, uid: 'b2c0e1f4-istio', title: 'istio', uri: 'db/istio', url: '/dashboards/f/b2c0e1f4-istio/istio', slug: '', type: 'dash-folder', tags: [], isStarred: false };
    const reading = readDashboardsInFolder(ok([folderHit, ...istioDashboards]), four);
    expect(reading).toMatchObject({ pass: true, classification: 'all 4 in folder istio', expected: 'all 4 in folder istio' });
    expect(reading.uids).toEqual({
      'Istio Mesh Dashboard': '1a9a8ea49444aae205c7737573e894f9',
      'Istio Service Dashboard': 'LJ_uJAvmk',
      'Istio Workload Dashboard': 'UbsSZTDik',
      'Istio Control Plane Dashboard': '1813f692a8e4ac77155348d4c7d2fba8',
    });
  });

  it('name a dashboard missing, one at the root (General), and a title that is only close', () => {
    const hits = [
      hit('Istio Mesh Dashboard', '1a9a8ea49444aae205c7737573e894f9'),
      hit('Istio Service Dashboard', 'LJ_uJAvmk', null),
      hit('Istio Workload dashboard', 'UbsSZTDik'),
    ];
    const reading = readDashboardsInFolder(ok(hits), four);
    expect(reading.pass).toBe(false);
    expect(reading.classification).toBe(
      'Istio Service Dashboard: in folder General; Istio Workload Dashboard: not found; Istio Control Plane Dashboard: not found — dashboards found: ' +
        'Istio Mesh Dashboard (istio), Istio Service Dashboard (General) and Istio Workload dashboard (istio)',
    );
    expect(reading.uids).toEqual({ 'Istio Mesh Dashboard': '1a9a8ea49444aae205c7737573e894f9' });
    expect(readDashboardsInFolder({ status: 401, body: '{"message":"Unauthorized"}' }, four).classification).toBe('HTTP 401: {"message":"Unauthorized"}');
  });

  const dashboard = (title: string, panels: unknown[], extra: Record<string, unknown> = {}) => ({
    dashboard: { id: 3, uid: '1a9a8ea49444aae205c7737573e894f9', title, tags: [], timezone: 'browser', schemaVersion: 39, version: 1, editable: false, panels, ...extra },
    meta: { type: 'db', canSave: true, canEdit: true, slug: 'istio-mesh-dashboard', url: '/d/1a9a8ea49444aae205c7737573e894f9/istio-mesh-dashboard', provisioned: true, folderId: 1, folderUid: 'b2c0e1f4-istio', folderTitle: 'istio' },
  });
  const stat = (title: string) => ({ id: title.length, type: 'stat', title, gridPos: { h: 3, w: 6, x: 0, y: 0 }, targets: [{ expr: 'round(sum(irate(istio_requests_total{reporter="source"}[1m])), 0.001)', refId: 'A' }] });

  it('count panels through rows, collapsed ones included, and in the old rows[] schema', () => {
    expect(countPanels([{ type: 'row', panels: [] }, stat('Global Request Volume'), { type: 'row', panels: [stat('a'), stat('b')] }] as never)).toBe(3);
    const mesh = dashboard('Istio Mesh Dashboard', [{ id: 1, type: 'row', title: 'Global', collapsed: false, panels: [] }, stat('Global Request Volume'), stat('Global Success Rate (non-5xx responses)')]);
    expect(readDashboardPanels(ok(mesh), 'Istio Mesh Dashboard')).toEqual({ pass: true, classification: 'has panels', expected: 'has panels', panels: 2 });
    const old = dashboard('Istio Mesh Dashboard', [], { panels: undefined, rows: [{ title: 'Row', panels: [stat('Requests')] }] });
    expect(readDashboardPanels(ok(old), 'Istio Mesh Dashboard').panels).toBe(1);
  });

  it('fail a dashboard with only empty rows, another title, or a 404', () => {
    expect(readDashboardPanels(ok(dashboard('Istio Service Dashboard', [{ type: 'row', collapsed: true, panels: [] }])), 'Istio Service Dashboard')).toMatchObject({ pass: false, classification: 'no panels' });
    expect(readDashboardPanels(ok(dashboard('Istio Mesh', [stat('x')])), 'Istio Mesh Dashboard').classification).toBe('the dashboard is titled "Istio Mesh"');
    expect(readDashboardPanels({ status: 404, body: '{"message":"Dashboard not found"}' }, 'Istio Mesh Dashboard').classification).toBe('HTTP 404: {"message":"Dashboard not found"}');
  });
});
