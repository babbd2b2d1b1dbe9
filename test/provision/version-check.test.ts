import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { loadSupportedVersions } from '../../helpers/config/versions.ts';
import { loadClusterToolSpecs } from '../../helpers/provision/cluster-tools.ts';
import { checkVersions, renderVersionCheck, type PublisherSources } from '../../helpers/provision/version-check.ts';
import { startStaticHttpServer, type StaticHttpServer } from '../support/static-http-server.ts';

/** A loopback server playing GitHub's releases API, istio.io's support table and dl.k8s.io. */
let server: StaticHttpServer;
beforeEach(async () => {
  server = await startStaticHttpServer();
});
afterEach(() => server.close());

const sources = (): PublisherSources => ({
  istioReleases: `${server.url}/repos/istio/istio/releases`,
  istioSupport: `${server.url}/istio.io/supportStatus.yml`,
  kindLatest: `${server.url}/repos/kubernetes-sigs/kind/releases/latest`,
  helmReleases: `${server.url}/repos/helm/helm/releases`,
  kubectlStable: (minor) => `${server.url}/release/stable-${minor}.txt`,
  kubectlNewest: `${server.url}/release/stable.txt`,
});
const releases = (...tags: (string | [string, 'pre'])[]) => ({
  body: JSON.stringify(tags.map((t) => (Array.isArray(t) ? { tag_name: t[0], prerelease: true, draft: false } : { tag_name: t, prerelease: false, draft: false }))),
});
const pinned = () => ({ versions: loadSupportedVersions(), tools: loadClusterToolSpecs() });

function publishers(options: { istio: string[]; support: string; kind: string; helm: string[]; kubectl135: string; kubectl: string }) {
  server.routes['/repos/istio/istio/releases'] = releases(...options.istio, ['1.33.0-alpha.0', 'pre']);
  server.routes['/istio.io/supportStatus.yml'] = { body: options.support };
  server.routes['/repos/kubernetes-sigs/kind/releases/latest'] = { body: JSON.stringify({ tag_name: options.kind }) };
  server.routes['/repos/helm/helm/releases'] = releases(...options.helm);
  // dl.k8s.io redirects to its CDN.
  server.routes['/release/stable-1.35.txt'] = { redirect: '/cdn/stable-1.35.txt' };
  server.routes['/cdn/stable-1.35.txt'] = { body: `${options.kubectl135}\n` };
  server.routes['/release/stable.txt'] = { body: options.kubectl };
}

const support = (rows: [string, string, string][]) => rows.map(([version, supported, eol]) => `- version: "${version}"\n  supported: "${supported}"\n  eolDate: "${eol}"\n`).join('');

describe('meshproof versions --check', () => {
  it('says what is current when the publishers list nothing newer', async () => {
    publishers({
      istio: ['1.31.1', '1.30.5', '1.29.9'],
      support: support([['1.31', 'Yes', '~Feb 2027 (Expected)'], ['1.30', 'Yes', '~Nov 2026 (Expected)'], ['1.29', 'No', 'Oct 12, 2026']]),
      kind: 'v0.33.0',
      helm: ['v3.21.4'],
      kubectl135: 'v1.35.9',
      kubectl: 'v1.35.9',
    });
    const out = renderVersionCheck(await checkVersions(pinned(), { timeoutMs: 2_000, sources: sources() }));
    expect(out).toBe(
      [
        '✓ Istio 1.31.1     the newest 1.31 patch; end of life ~Feb 2027 (Expected)',
        '✓ Istio 1.30.5     the newest 1.30 patch; end of life ~Nov 2026 (Expected)',
        '✓ kind v0.33.0     the newest release',
        '✓ helm v3.21.4     the newest 3.x release',
        '✓ kubectl v1.35.9  the newest 1.35 patch',
        '',
      ].join('\n'),
    );
  });

  it('prints newer patches, a newer minor, a release past its end of life, and Helm 4 beside the pinned Helm 3', async () => {
    publishers({
      istio: ['1.32.0', '1.31.3', '1.31.2', '1.31.1', '1.30.7', '1.30.5'],
      support: support([['1.32', 'Yes', '~May 2027 (Expected)'], ['1.31', 'Yes', '~Feb 2027 (Expected)'], ['1.30', 'No', 'Jan 13, 2027']]),
      kind: 'v0.34.0',
      helm: ['v4.3.1', 'v3.22.1', 'v3.21.4'],
      kubectl135: 'v1.35.12',
      kubectl: 'v1.37.2',
    });
    const out = renderVersionCheck(await checkVersions(pinned(), { timeoutMs: 2_000, sources: sources() }));
    expect(out.trim().split('\n')).toEqual([
      '↑ Istio 1.31.1     a newer patch is out: 1.31.3',
      '✗ Istio 1.30.5     Istio 1.30 is past its end of life (istio.io: supported "No", end of life Jan 13, 2027)',
      '↑ Istio 1.30.5     a newer patch is out: 1.30.7',
      '↑ Istio            a newer minor is out: 1.32 (newest 1.32.0)',
      '↑ kind v0.33.0     a newer release is out: v0.34.0 (its node images have new digests)',
      '↑ helm v3.21.4     a newer 3.x release is out: v3.22.1; Helm 4 is out (v4.3.1): meshproof pins Helm 3 on purpose (README)',
      '↑ kubectl v1.35.9  a newer patch is out: v1.35.12; the newest release is v1.37.2',
    ]);
  });

  it('reports a source that does not answer, and checks the rest', async () => {
    publishers({ istio: ['1.31.1', '1.30.5'], support: '', kind: 'v0.33.0', helm: ['v3.21.4'], kubectl135: 'v1.35.9', kubectl: 'v1.35.9' });
    server.routes['/repos/kubernetes-sigs/kind/releases/latest'] = { stall: true };
    const out = renderVersionCheck(await checkVersions(pinned(), { timeoutMs: 300, sources: sources() }));
    expect(out).toContain('✓ helm v3.21.4');
    expect(out).toMatch(/\? not checked: kind releases \(http:\/\/127\.0\.0\.1:\d+\/repos\/kubernetes-sigs\/kind\/releases\/latest\): /);
  });

  it('names the first source asked when none answers, however fast each failed', async () => {
    // Istio's releases fail last (at the timeout), every other source at once (404): the line must not change.
    server.routes['/repos/istio/istio/releases'] = { stall: true };
    const out = renderVersionCheck(await checkVersions(pinned(), { timeoutMs: 300, sources: sources() }));
    expect(out).toBe(`meshproof could not check for newer versions (offline?): ${server.url}/repos/istio/istio/releases: no answer within 300 ms\n`);
  });

  it('offline, prints one line saying it could not check, and exits 0 without a stack', async () => {
    const run = await execa(process.execPath, [fromRoot('bin', 'meshproof.js'), 'versions', '--check'], {
      cwd: fromRoot(),
      reject: false,
      // No network on this machine: the names do not resolve; the short preflight timeout bounds it otherwise.
      env: { ...process.env, MESHPROOF_TIMEOUT_PREFLIGHT: '3s', HTTPS_PROXY: '', https_proxy: '' },
    });
    expect(run.exitCode).toBe(0);
    const last = run.stdout.trim().split('\n').at(-1)!;
    if (last.startsWith('meshproof could not check')) expect(last).toMatch(/^meshproof could not check for newer versions \(offline\?\): https:\/\/api\.github\.com\//);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 30_000);
});
