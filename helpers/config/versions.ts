import { z } from 'zod';
import { loadYamlData } from './data-file.ts';

const minor = z.string().regex(/^\d+\.\d+$/, 'a Kubernetes minor such as "1.35"');
const nodeImage = z
  .string()
  .regex(/^kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/, 'kindest/node:vX.Y.Z@sha256:<64 hex> (pinned by digest)');

const supportedVersionsSchema = z.object({
  kind: z.object({ release: z.string().regex(/^v\d+\.\d+\.\d+$/), nodeImages: z.record(minor, nodeImage) }),
  istio: z
    .array(
      z.object({
        version: z.string().regex(/^\d+\.\d+\.\d+$/),
        /** The day the release was published (istio.io's announcement). */
        released: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        /** Its end of life, when istio.io has stated it; null until then. */
        endOfLife: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable(),
        kubernetes: z.array(minor).min(1),
        /** Where this release's own images come from by default (MESHPROOF_ISTIO_HUB overrides it). */
        hub: z.string().min(1),
        bookinfo: z.object({ imagePrefix: z.string().min(1), tag: z.string().min(1) }),
      }),
    )
    .min(1),
});

export type SupportedVersions = z.infer<typeof supportedVersionsSchema>;
export type IstioRelease = SupportedVersions['istio'][number];

export interface KubernetesRelease {
  minor: string;
  /** The full version of the node image, e.g. 1.35.8. */
  version: string;
  nodeImage: string;
}

export interface VersionPair {
  istio: IstioRelease;
  kubernetes: KubernetesRelease;
}

export function loadSupportedVersions(): SupportedVersions {
  return loadYamlData('fixtures/cluster/supported-versions.yaml', supportedVersionsSchema);
}

const minorOf = (version: string) => version.split('.').slice(0, 2).join('.');

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

export function kubernetesReleases(data: SupportedVersions): KubernetesRelease[] {
  return Object.entries(data.kind.nodeImages)
    .map(([m, image]) => ({ minor: m, version: image.match(/:v([\d.]+)@/)![1]!, nodeImage: image }))
    .sort((a, b) => compareVersions(b.version, a.version));
}

/** Newest first. */
export function istioReleases(data: SupportedVersions): IstioRelease[] {
  return [...data.istio].sort((a, b) => compareVersions(b.version, a.version));
}

/** Accepted spellings: the minor ("1.30") or the exact release ("1.30.3"). */
export function allowedIstioVersions(data: SupportedVersions): string[] {
  return istioReleases(data).flatMap((r) => [minorOf(r.version), r.version]);
}

export function allowedKubernetesVersions(data: SupportedVersions): string[] {
  return kubernetesReleases(data).flatMap((r) => [r.minor, r.version]);
}

export function findIstioRelease(data: SupportedVersions, wanted: string): IstioRelease | undefined {
  return istioReleases(data).find((r) => r.version === wanted || minorOf(r.version) === wanted);
}

export function findKubernetesRelease(data: SupportedVersions, wanted: string): KubernetesRelease | undefined {
  return kubernetesReleases(data).find((r) => r.version === wanted || r.minor === wanted);
}

/** Whether an Istio release supports a Kubernetes version (any patch of a listed minor). */
export function istioSupportsKubernetes(istio: IstioRelease, kubernetesVersion: string): boolean {
  return istio.kubernetes.includes(minorOf(kubernetesVersion));
}

/** The newest Kubernetes minor with a node image that the given Istio release supports. */
export function defaultKubernetesFor(data: SupportedVersions, istio: IstioRelease): KubernetesRelease | undefined {
  return kubernetesReleases(data).find((k) => istio.kubernetes.includes(k.minor));
}

/** The kind node images an Istio release can be tested on: the CI matrix for that release. */
export function kindMatrixFor(data: SupportedVersions, istio: IstioRelease): KubernetesRelease[] {
  return kubernetesReleases(data).filter((k) => istio.kubernetes.includes(k.minor));
}
