import path from 'node:path';
import { z } from 'zod';
import { loadYamlData } from './data-file.ts';
import { istioReleases, loadSupportedVersions } from './versions.ts';

/**
 * The cluster tools meshproof drives and how each is pinned (fixtures/cluster/cluster-tools.yaml): the data only.
 * helpers/provision/cluster-tools.ts finds, downloads and verifies them.
 */
export const clusterToolNames = ['kind', 'helm', 'kubectl', 'istioctl'] as const;
export type ClusterToolName = (typeof clusterToolNames)[number];

export const clusterToolsFile = 'fixtures/cluster/cluster-tools.yaml';

const urlTemplate = z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL template');
const relativePath = z
  .string()
  .min(1)
  .refine((p) => !path.isAbsolute(p) && !p.split('/').includes('..'), 'must be a path inside the archive');

export const toolPlatformKeys = ['linux/amd64', 'linux/arm64', 'darwin/amd64', 'darwin/arm64'] as const;
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case sha256 (64 hex digits)');

/** Written for istioctl instead of a version: it is the Istio release the run installs (see the YAML file). */
export const istioReleaseVersion = 'istio-release';

const toolSpecSchema = z.strictObject({
  version: z.union([z.string().regex(/^v\d+\.\d+\.\d+$/, 'must look like v1.2.3'), z.literal(istioReleaseVersion)]),
  /** The sha256 of the downloaded file per platform, from the publisher's release material (cited beside it). */
  sha256: z.partialRecord(z.enum(toolPlatformKeys), sha256Hex).optional(),
  binary: z.string().regex(/^[\w.-]+$/, 'must be a file name'),
  /** The publisher's name for an operating system where it is not Go's ({os} becomes it): istioctl's darwin is osx. */
  osNames: z.partialRecord(z.enum(['linux', 'darwin']), z.string().regex(/^[\w.-]+$/)).optional(),
  download: z.discriminatedUnion('archive', [
    z.strictObject({ url: urlTemplate, archive: z.literal('none') }),
    z.strictObject({ url: urlTemplate, archive: z.literal('tar.gz'), binaryInArchive: relativePath }),
  ]),
  checksum: z.strictObject({
    url: urlTemplate,
    /** `hash`: the file holds only the hash; `sha256sum`: "<hash>  <file name>" lines. */
    format: z.enum(['hash', 'sha256sum']),
  }),
  versionCheck: z.strictObject({
    args: z.array(z.string()),
    pattern: z.string().refine(hasCaptureGroup, 'must be a regular expression with a capture group'),
  }),
});

const toolsFileSchema = z.strictObject({
  tools: z.strictObject({ kind: toolSpecSchema, helm: toolSpecSchema, kubectl: toolSpecSchema, istioctl: toolSpecSchema }),
});

/** A tool's pin with its version resolved: istioctl's `istio-release` is the Istio version ("1.31.1"). */
export type ClusterToolSpec = Omit<z.infer<typeof toolSpecSchema>, 'version'> & { version: string };
export type ClusterToolSpecs = Record<ClusterToolName, ClusterToolSpec>;

function hasCaptureGroup(pattern: string): boolean {
  try {
    // The added empty alternative always matches, and the result's length counts the groups.
    return new RegExp(`${pattern}|`).exec('')!.length > 1;
  } catch {
    return false;
  }
}

/**
 * The pins, with `istio-release` resolved to `istioVersion`: the Istio release the run installs (config.istio), by
 * default the newest supported one (fixtures/cluster/supported-versions.yaml).
 */
export function loadClusterToolSpecs(file: string = clusterToolsFile, istioVersion?: string): ClusterToolSpecs {
  const tools = loadYamlData(file, toolsFileSchema).tools;
  const istio = istioVersion ?? istioReleases(loadSupportedVersions())[0]!.version;
  const resolve = (spec: z.infer<typeof toolSpecSchema>): ClusterToolSpec => ({ ...spec, version: spec.version === istioReleaseVersion ? istio : spec.version });
  return { kind: resolve(tools.kind), helm: resolve(tools.helm), kubectl: resolve(tools.kubectl), istioctl: resolve(tools.istioctl) };
}

