import { describe, expect, it } from 'vitest';
import { jsonDocuments, parseProxyStatus, unsyncedProxies } from '../../helpers/provision/proxy-status.ts';
import { labProxies, proxyStatusJson } from '../support/istioctl-outputs.ts';

const command = 'istioctl proxy-status -o json';

describe('istioctl proxy-status, read', () => {
  it('reads every proxy of a healthy mesh as SYNCED on each subscribed type', () => {
    const statuses = parseProxyStatus(command, proxyStatusJson(labProxies));
    expect(statuses).toHaveLength(8);
    expect(statuses[2]).toEqual({ proxy: 'productpage-v1-7c9c5b9c8b-x2lq4.bookinfo', types: { CDS: 'SYNCED', EDS: 'SYNCED', LDS: 'SYNCED', RDS: 'SYNCED' } });
    expect(unsyncedProxies(statuses)).toEqual([]);
  });

  it('names each proxy that is STALE or NOT_SENT, with the types', () => {
    const proxies = labProxies.map((p) =>
      p.id.startsWith('reviews-v2') ? { ...p, off: { RDS: 'STALE' } } : p.id.startsWith('ratings') ? { ...p, off: { EDS: 'NOT_SENT', LDS: 'ERROR' } } : p,
    );
    expect(unsyncedProxies(parseProxyStatus(command, proxyStatusJson(proxies)))).toEqual([
      'ratings-v1-5d9f7c6b84-m8s2w.bookinfo: EDS NOT_SENT, LDS ERROR',
      'reviews-v2-6d7c8f9b5-p9wql.bookinfo: RDS STALE',
    ]);
  });

  it('reads one document per istiod, and a mesh without proxies is not ready', () => {
    const twoIstiods = proxyStatusJson(labProxies.slice(0, 2)) + proxyStatusJson(labProxies.slice(2, 3));
    expect(parseProxyStatus(command, twoIstiods).map((s) => s.proxy)).toEqual(labProxies.slice(0, 3).map((p) => p.id));
    expect(unsyncedProxies(parseProxyStatus(command, proxyStatusJson([])))).toEqual(['istiod reports no proxy at all']);
  });

  it('refuses the table, or a document cut short, saying what it saw', () => {
    const table = 'NAME     CLUSTER     ISTIOD     VERSION     SUBSCRIBED TYPES\n';
    expect(() => parseProxyStatus(command, table)).toThrow(/`istioctl proxy-status -o json` printed something that is not JSON .*"NAME/);
    expect(() => jsonDocuments('{"a": "}{"')).toThrow(/ends inside a JSON document/);
  });
});
