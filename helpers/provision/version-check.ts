import { parse as parseYaml } from 'yaml';
import type { SupportedVersions } from '../config/versions.ts';
import { errorText } from '../errors.ts';
import { httpRequest } from '../net/http.ts';
import type { ClusterToolSpecs } from './cluster-tools.ts';

/**
 * `meshproof versions --check`: what the publishers list now, against what meshproof pins. It only reads and
 * prints; it never changes a pin and never fails a run. Every source is asked at once, each within `timeoutMs`;
 * a source that does not answer is one line in the output, and when none answers (offline) the whole check is one
 * line saying so.
 */

/** Where each publisher lists its releases. Tests point these at a loopback server. */
export interface PublisherSources {
  /** GitHub's releases API for istio/istio: [{tag_name, prerelease, draft}] newest first. */
  istioReleases: string;
  /** istio.io's support table (istio/istio.io data/compatibility/supportStatus.yml): version, supported, eolDate. */
  istioSupport: string;
  kindLatest: string;
  helmReleases: string;
  /** dl.k8s.io's stable-<minor>.txt for a minor ("1.35"): the newest patch, e.g. "v1.35.10". */
  kubectlStable: (minor: string) => string;
  /** dl.k8s.io's stable.txt: the newest release overall. */
  kubectlNewest: string;
}

export const publisherSources: PublisherSources = {
  istioReleases: 'https://api.github.com/repos/istio/istio/releases?per_page=100',
  istioSupport: 'https://raw.githubusercontent.com/istio/istio.io/master/data/compatibility/supportStatus.yml',
  kindLatest: 'https://api.github.com/repos/kubernetes-sigs/kind/releases/latest',
  helmReleases: 'https://api.github.com/repos/helm/helm/releases?per_page=100',
  kubectlStable: (minor) => `https://dl.k8s.io/release/stable-${minor}.txt`,
  kubectlNewest: 'https://dl.k8s.io/release/stable.txt',
};

export interface VersionFinding {
  /** What was compared: "Istio 1.31.1", "kind v0.33.0". */
  subject: string;
  /** 'current' when nothing newer is listed; 'newer' when an update exists; 'eol' for a release past its end. */
  status: 'current' | 'newer' | 'eol' | 'unknown';
  says: string;
}

type Semver = [number, number, number];
const semverOf = (text: string): Semver | undefined => {
  const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
};
const compare = (a: Semver, b: Semver) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
const minorOf = (v: Semver) => `${v[0]}.${v[1]}`;
const newest = (versions: Semver[]) => [...versions].sort(compare).at(-1);
const show = (v: Semver, prefix = '') => `${prefix}${v.join('.')}`;

async function get(url: string, timeoutMs: number): Promise<string> {
  // dl.k8s.io redirects to its CDN; GitHub's API wants a User-Agent.
  const { status, body } = await httpRequest(url, {
    timeoutMs,
    followRedirects: true,
    headers: { accept: 'application/json, text/plain, */*', 'user-agent': 'meshproof-versions-check' },
  });
  if (status < 200 || status > 299) throw new Error(`HTTP ${status}`);
  return body;
}

/** Release tags that are final releases (no prerelease, no draft, plain vX.Y.Z). */
function finalReleases(json: string): Semver[] {
  const releases = JSON.parse(json) as { tag_name?: string; prerelease?: boolean; draft?: boolean }[];
  return releases.filter((r) => !r.prerelease && !r.draft).flatMap((r) => {
    const version = semverOf(r.tag_name ?? '');
    return version ? [version] : [];
  });
}

export interface VersionCheckResult {
  findings: VersionFinding[];
  /** Sources that did not answer, with why. */
  unreachable: string[];
}

export async function checkVersions(
  pinned: { versions: SupportedVersions; tools: ClusterToolSpecs },
  options: { timeoutMs: number; sources?: PublisherSources },
): Promise<VersionCheckResult> {
  const sources = options.sources ?? publisherSources;
  const kubectlPinned = semverOf(pinned.tools.kubectl.version)!;
  const asked: [what: string, url: string][] = [
    ['Istio releases', sources.istioReleases],
    ["istio.io's support table", sources.istioSupport],
    ['kind releases', sources.kindLatest],
    ['helm releases', sources.helmReleases],
    [`kubectl ${minorOf(kubectlPinned)} releases`, sources.kubectlStable(minorOf(kubectlPinned))],
    ['kubectl releases', sources.kubectlNewest],
  ];
  const answers = await Promise.all(
    asked.map(([what, url]) =>
      get(url, options.timeoutMs).then(
        (text) => ({ text }),
        (error: unknown) => ({ failed: `${what} (${url}): ${errorText(error)}` }),
      ),
    ),
  );
  // In the order the sources are asked, not the order they failed in: offline, every name fails to resolve at
  // about the same time, and the one line printed then must not depend on which came first.
  const unreachable = answers.flatMap((answer) => ('failed' in answer ? [answer.failed] : []));
  const [istioJson, supportYaml, kindJson, helmJson, kubectlMinor, kubectlNewest] = answers.map((answer) => ('text' in answer ? answer.text : undefined));
  const findings: VersionFinding[] = [];
  const guard = (what: string, body: () => void) => {
    try {
      body();
    } catch (error) {
      unreachable.push(`${what}: the answer could not be read (${errorText(error)})`);
    }
  };

  if (istioJson !== undefined) {
    guard('Istio releases', () => {
      const listed = finalReleases(istioJson);
      const support = supportYaml === undefined ? [] : ((parseYaml(supportYaml) as { version?: string; supported?: string; eolDate?: string | null }[]) ?? []);
      for (const release of pinned.versions.istio) {
        const version = semverOf(release.version)!;
        const sameMinor = newest(listed.filter((v) => minorOf(v) === minorOf(version)));
        const row = support.find((r) => String(r.version) === minorOf(version));
        const eol = row && /^no\b/i.test(String(row.supported ?? '')) ? ` is past its end of life (istio.io: supported "${row.supported}", end of life ${row.eolDate ?? 'not stated'})` : undefined;
        if (eol) findings.push({ subject: `Istio ${release.version}`, status: 'eol', says: `Istio ${minorOf(version)}${eol}` });
        if (sameMinor && compare(sameMinor, version) > 0) {
          findings.push({ subject: `Istio ${release.version}`, status: 'newer', says: `a newer patch is out: ${show(sameMinor)}` });
        } else if (!eol) {
          findings.push({ subject: `Istio ${release.version}`, status: 'current', says: `the newest ${minorOf(version)} patch${row?.eolDate ? `; end of life ${row.eolDate}` : ''}` });
        }
      }
      const newestPinned = newest(pinned.versions.istio.map((r) => semverOf(r.version)!))!;
      const newerMinors = [...new Set(listed.filter((v) => v[0] > newestPinned[0] || (v[0] === newestPinned[0] && v[1] > newestPinned[1])).map(minorOf))];
      if (newerMinors.length > 0) {
        const latest = newest(listed)!;
        findings.push({ subject: 'Istio', status: 'newer', says: `a newer minor is out: ${newerMinors.join(', ')} (newest ${show(latest)})` });
      }
    });
  }
  if (kindJson !== undefined) {
    guard('kind releases', () => {
      const latest = semverOf((JSON.parse(kindJson) as { tag_name?: string }).tag_name ?? '');
      const mine = semverOf(pinned.tools.kind.version)!;
      if (!latest) throw new Error('no tag_name');
      findings.push(
        compare(latest, mine) > 0
          ? { subject: `kind ${pinned.tools.kind.version}`, status: 'newer', says: `a newer release is out: ${show(latest, 'v')} (its node images have new digests)` }
          : { subject: `kind ${pinned.tools.kind.version}`, status: 'current', says: 'the newest release' },
      );
    });
  }
  if (helmJson !== undefined) {
    guard('helm releases', () => {
      const listed = finalReleases(helmJson);
      const mine = semverOf(pinned.tools.helm.version)!;
      const sameMajor = newest(listed.filter((v) => v[0] === mine[0]));
      const latest = newest(listed);
      const major = latest && latest[0] > mine[0] ? `; Helm ${latest[0]} is out (${show(latest, 'v')}): meshproof pins Helm ${mine[0]} on purpose (README)` : '';
      findings.push(
        sameMajor && compare(sameMajor, mine) > 0
          ? { subject: `helm ${pinned.tools.helm.version}`, status: 'newer', says: `a newer ${mine[0]}.x release is out: ${show(sameMajor, 'v')}${major}` }
          : { subject: `helm ${pinned.tools.helm.version}`, status: 'current', says: `the newest ${mine[0]}.x release${major}` },
      );
    });
  }
  if (kubectlMinor !== undefined) {
    guard('kubectl releases', () => {
      const latestPatch = semverOf(kubectlMinor);
      if (!latestPatch) throw new Error(`"${kubectlMinor.trim().slice(0, 40)}" is not a version`);
      const latest = kubectlNewest === undefined ? undefined : semverOf(kubectlNewest);
      const newerMinor = latest && compare(latest, kubectlPinned) > 0 && minorOf(latest) !== minorOf(kubectlPinned) ? `; the newest release is ${show(latest, 'v')}` : '';
      findings.push(
        compare(latestPatch, kubectlPinned) > 0
          ? { subject: `kubectl ${pinned.tools.kubectl.version}`, status: 'newer', says: `a newer patch is out: ${show(latestPatch, 'v')}${newerMinor}` }
          : { subject: `kubectl ${pinned.tools.kubectl.version}`, status: 'current', says: `the newest ${minorOf(kubectlPinned)} patch${newerMinor}` },
      );
    });
  }
  return { findings, unreachable };
}

/** The check as lines for a person: one per finding, one per source that did not answer, or one if none did. */
export function renderVersionCheck(result: VersionCheckResult): string {
  if (result.findings.length === 0) {
    const why = result.unreachable[0]?.replace(/^[^:]*\(([^)]*)\): /, '$1: ') ?? 'no source answered';
    return `meshproof could not check for newer versions (offline?): ${why}\n`;
  }
  const mark = { current: '✓', newer: '↑', eol: '✗', unknown: '?' } as const;
  const lines = result.findings.map((f) => `${mark[f.status]} ${f.subject.padEnd(16)} ${f.says}`);
  for (const source of result.unreachable) lines.push(`? not checked: ${source}`);
  return `${lines.join('\n')}\n`;
}
