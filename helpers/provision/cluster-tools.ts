import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, chmod, constants, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import * as tar from 'tar';
import { errorText, MeshproofError } from '../errors.ts';
import { formatDuration } from '../config/timeouts.ts';
import { fetchWithRetry, HttpStatusError } from './download.ts';

/**
 * kind, helm, kubectl and istioctl (the installed Istio release's own) at the versions pinned in
 * fixtures/cluster/cluster-tools.yaml: the user's own binary when it reports exactly that version, else a copy in
 * the tools cache, else a download checked against the sha256 pinned for this platform in that file (or, where
 * none is pinned yet, the publisher's checksum file, said so in the log). A binary only ever reaches its cache path after that check, so a cached file needs no
 * second check. Transient download failures (a reset, HTTP 5xx or 429) are retried with back-off within the
 * download's time budget; a 404 or a wrong checksum is not.
 */

export { clusterToolNames, clusterToolsFile, loadClusterToolSpecs, toolPlatformKeys, type ClusterToolName, type ClusterToolSpec, type ClusterToolSpecs } from '../config/cluster-tools.ts';
import { clusterToolNames, clusterToolsFile, loadClusterToolSpecs, type ClusterToolName, type ClusterToolSpec, type ClusterToolSpecs } from '../config/cluster-tools.ts';

export interface ToolPlatform {
  os: 'linux' | 'darwin';
  arch: 'amd64' | 'arm64';
}

// Node's names → the Go names the publishers use in their download paths.
const goOs = new Map<string, ToolPlatform['os']>([
  ['linux', 'linux'],
  ['darwin', 'darwin'],
]);
const goArch = new Map<string, ToolPlatform['arch']>([
  ['x64', 'amd64'],
  ['arm64', 'arm64'],
]);

export function toolPlatform(platform: string = process.platform, arch: string = process.arch): ToolPlatform {
  const osName = goOs.get(platform);
  const archName = goArch.get(arch);
  if (!osName || !archName) {
    throw new MeshproofError(
      `meshproof cannot download kind, helm, kubectl and istioctl for ${platform}/${arch}: ` +
        'it knows their downloads for linux and darwin on x64 (amd64) and arm64',
      'Install the versions pinned in fixtures/cluster/cluster-tools.yaml yourself and put them on PATH, ' +
        'or run meshproof on Linux or macOS (on Windows, inside WSL2).',
    );
  }
  return { os: osName, arch: archName };
}

/** The concrete download, checksum and archive paths of one tool on one platform. */
export function resolveToolUrls(spec: ClusterToolSpec, platform: ToolPlatform) {
  const os = spec.osNames?.[platform.os] ?? platform.os;
  const fill = (template: string) => template.replaceAll('{version}', spec.version).replaceAll('{os}', os).replaceAll('{arch}', platform.arch);
  return {
    url: fill(spec.download.url),
    checksumUrl: fill(spec.checksum.url),
    binaryInArchive: spec.download.archive === 'tar.gz' ? fill(spec.download.binaryInArchive) : undefined,
  };
}

/** The expected sha256 (lower case) from a publisher's checksum file; throws saying what is wrong with it. */
export function parseChecksumFile(
  text: string,
  format: ClusterToolSpec['checksum']['format'],
  fileName: string,
): string {
  if (format === 'hash') {
    const hash = text.trim();
    if (!/^[0-9a-f]{64}$/i.test(hash)) {
      throw new Error(`the checksum file is not a sha256 hash: "${text.slice(0, 80)}"`);
    }
    return hash.toLowerCase();
  }
  // sha256sum and `shasum -a 256` write "<hash>  <name>", or "<hash> *<name>" in binary mode; Istio's release
  // tooling writes "<hash> <name>" with one space (istio/release-builder pkg/util/files.go CreateSha).
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{64}) [ *]?(.+)$/i.exec(line.trim());
    if (match && path.posix.basename(match[2]!) === fileName) return match[1]!.toLowerCase();
  }
  throw new Error(`the checksum file has no sha256 line for ${fileName}: "${text.slice(0, 160)}"`);
}

export interface EnsureClusterToolOptions {
  /** Budget for fetching one tool, checksum file and download together (timeouts.toolDownload). */
  timeoutMs: number;
  /** The first pause before retrying a failed request, doubling after each (timeouts.toolDownloadRetry). */
  retryMinMs?: number;
  /** Budget for one `<binary> version` call; defaults to timeoutMs. */
  versionCheckTimeoutMs?: number;
  /** Where downloaded tools are kept: <toolsDir>/<tool>/<version>/<binary> (config.toolsDir). */
  toolsDir: string;
  /** The pinned tools; defaults to loadClusterToolSpecs() for istioVersion. Tests pass specs that point at loopback. */
  specs?: ClusterToolSpecs;
  /** The Istio release the run installs: istioctl is its own version (config.istio.version). */
  istioVersion?: string;
  /** The PATH searched for a binary of the pinned version; defaults to process.env.PATH. */
  pathEnv?: string;
  /** Progress lines for the user ("kind v0.33.0: sha256 verified"). */
  log?: (line: string) => void;
}

export interface EnsuredClusterTool {
  tool: ClusterToolName;
  version: string;
  path: string;
  source: 'path' | 'cache' | 'download';
}

export async function ensureClusterTools(
  options: EnsureClusterToolOptions,
): Promise<Record<ClusterToolName, EnsuredClusterTool>> {
  const specs = options.specs ?? loadClusterToolSpecs(undefined, options.istioVersion);
  // Settle all before failing, so no download is still writing into the cache when the caller sees the error.
  const results = await Promise.allSettled(clusterToolNames.map((tool) => ensureClusterTool(tool, { ...options, specs })));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return Object.fromEntries(results.map((result) => {
    const ensured = (result as PromiseFulfilledResult<EnsuredClusterTool>).value;
    return [ensured.tool, ensured];
  })) as Record<ClusterToolName, EnsuredClusterTool>;
}

export async function ensureClusterTool(
  tool: ClusterToolName,
  options: EnsureClusterToolOptions,
): Promise<EnsuredClusterTool> {
  const spec = (options.specs ?? loadClusterToolSpecs(undefined, options.istioVersion))[tool];
  const say = (line: string) => options.log?.(`${tool} ${spec.version}: ${line}`);
  const versionCheckTimeoutMs = options.versionCheckTimeoutMs ?? options.timeoutMs;
  const result = (toolPath: string, source: EnsuredClusterTool['source']) => ({
    tool,
    version: spec.version,
    path: toolPath,
    source,
  });

  for (const dir of (options.pathEnv ?? process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.resolve(dir, spec.binary);
    if (!(await isExecutableFile(candidate))) continue;
    const reported = await reportedVersion(candidate, spec, versionCheckTimeoutMs);
    if (reported === spec.version) {
      say(`using ${candidate} from PATH`);
      return result(candidate, 'path');
    }
    say(`ignoring ${candidate} from PATH: it reports ${reported ?? 'no readable version'}`);
  }

  const toolsDir = options.toolsDir;
  const cached = path.join(toolsDir, tool, spec.version, spec.binary);
  if (await isExecutableFile(cached)) {
    say(`using ${cached} from the tools cache`);
    return result(cached, 'cache');
  }

  await downloadVerified(tool, spec, { ...options, toolsDir, destination: cached, versionCheckTimeoutMs, say });
  return result(cached, 'download');
}

async function downloadVerified(
  tool: ClusterToolName,
  spec: ClusterToolSpec,
  context: EnsureClusterToolOptions & {
    toolsDir: string;
    destination: string;
    versionCheckTimeoutMs: number;
    say: (line: string) => void;
  },
): Promise<void> {
  const platform = toolPlatform();
  const { url, checksumUrl, binaryInArchive } = resolveToolUrls(spec, platform);
  const pinned = spec.sha256?.[`${platform.os}/${platform.arch}`];
  const versionCommand = [spec.binary, ...spec.versionCheck.args].join(' ');
  const failure = (failedUrl: string, problem: string) =>
    new MeshproofError(
      `${tool} ${spec.version}: ${problem}\n  URL: ${failedUrl}`,
      `Retry later; meshproof already retried what a network hiccup or a rate limit explains. Without internet ` +
        `access, provide ${tool} ${spec.version} yourself: either on PATH (meshproof uses any ${spec.binary} whose ` +
        `\`${versionCommand}\` reports ${spec.version}), or as ${context.destination} (MESHPROOF_TOOLS_DIR moves ` +
        `that folder, e.g. to a copy from a machine that has it).`,
    );
  const signal = AbortSignal.timeout(context.timeoutMs);
  // Turns a network error, an abort at the deadline or a broken archive into the user-facing failure.
  const step = async <T>(stepUrl: string, what: string, body: () => Promise<T>): Promise<T> => {
    try {
      return await body();
    } catch (error) {
      if (error instanceof MeshproofError) throw error;
      throw failure(
        stepUrl,
        signal.aborted
          ? `${what} did not finish within ${formatDuration(context.timeoutMs)}`
          : `${what} failed: ${errorText(error)}`,
      );
    }
  };
  // Transient failures (a reset, HTTP 5xx or 429) are retried within the budget; a 404 is final.
  const get = (getUrl: string, what: string) =>
    step(getUrl, what, async () => {
      try {
        return await fetchWithRetry(getUrl, { signal, retryMinMs: context.retryMinMs ?? 500, onRetry: (why) => context.say(`${what} failed (${why}); retrying`) });
      } catch (error) {
        if (error instanceof HttpStatusError) throw failure(getUrl, `${what} failed: ${error.message}`);
        throw error;
      }
    });

  // Staged inside the tools dir: the final rename stays on one filesystem (so it is atomic), and a failure
  // leaves only this directory to remove.
  await mkdir(context.toolsDir, { recursive: true });
  const workDir = await mkdtemp(path.join(context.toolsDir, `.download-${tool}-`));
  try {
    const fileName = path.posix.basename(new URL(url).pathname);
    let expected: string;
    let expectedFrom: string;
    if (pinned) {
      expected = pinned;
      expectedFrom = `pinned in ${clusterToolsFile}`;
    } else {
      const checksumResponse = await get(checksumUrl, 'fetching the checksum file');
      const checksumText = await step(checksumUrl, 'fetching the checksum file', () => checksumResponse.text());
      expected = await step(checksumUrl, 'reading the checksum file', async () => parseChecksumFile(checksumText, spec.checksum.format, fileName));
      expectedFrom = `from ${checksumUrl}`;
      context.say(`no sha256 is pinned for ${platform.os}/${platform.arch} in ${clusterToolsFile}: checked against the publisher's checksum file only`);
    }

    const response = await get(url, 'the download');
    const size = Number(response.headers.get('content-length'));
    context.say(`downloading ${url}${size > 0 ? ` (${(size / 1e6).toFixed(1)} MB)` : ''}`);
    const downloaded = path.join(workDir, fileName);
    const hash = createHash('sha256');
    await step(url, 'the download', () =>
      pipeline(
        Readable.fromWeb(response.body!),
        async function* hashWhileStreaming(chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(downloaded),
        { signal },
      ),
    );
    const actual = hash.digest('hex');
    if (actual !== expected) {
      throw failure(
        url,
        `sha256 mismatch, the download was refused: expected ${expected} (${expectedFrom}), got ${actual}`,
      );
    }
    context.say(`sha256 verified (${expectedFrom})`);

    let staged = downloaded;
    if (binaryInArchive) {
      const extractDir = path.join(workDir, 'extracted');
      await mkdir(extractDir);
      await step(url, 'unpacking the archive', () => tar.x({ file: downloaded, cwd: extractDir }, [binaryInArchive]));
      staged = path.join(extractDir, binaryInArchive);
      if (!(await isFile(staged))) throw failure(url, `the archive holds no ${binaryInArchive}`);
    }
    await chmod(staged, 0o755);
    // The right bytes can still be the wrong build for this machine; running it says so before it is cached.
    const reported = await reportedVersion(staged, spec, context.versionCheckTimeoutMs);
    if (reported !== spec.version) {
      const seen = reported ?? 'no readable version';
      throw failure(url, `the downloaded ${spec.binary} reports ${seen}, not ${spec.version}`);
    }
    await mkdir(path.dirname(context.destination), { recursive: true });
    await rename(staged, context.destination);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function reportedVersion(binary: string, spec: ClusterToolSpec, timeoutMs: number): Promise<string | undefined> {
  const run = await execa(binary, spec.versionCheck.args, {
    all: true,
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
  });
  return new RegExp(spec.versionCheck.pattern, 'm').exec(run.all ?? '')?.[1];
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then((info) => info.isFile(), () => false);
}

async function isExecutableFile(file: string): Promise<boolean> {
  return (await isFile(file)) && access(file, constants.X_OK).then(() => true, () => false);
}
