import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { readParsed, resolveDataPath } from './data-file.ts';
import type { IstioRelease } from './versions.ts';
import { MeshproofError } from '../errors.ts';

/**
 * The lab's YAML fixtures, read (manifest-schemas.ts validates them against the schema of each kind, apart: the
 * schemas are hundreds of modules, which a command that only reads a fixture, such as `meshproof judge`, should not
 * load): configuration, as the settings and the catalogue are. Provisioning plans and applies the stack from them, apply adds a feature's on top, the
 * gate reads their durations and cleanup their namespaces, so they sit below every stage that uses them.
 */

/** A Kubernetes object as read from a fixture: the fields every object has, the rest untyped. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** An object together with the fixture it came from, so every error can name the file. */
export interface FixtureObject {
  file: string;
  object: KubeObject;
}

/** A fixture that cannot be applied as written: invalid input, so exit code 2, before anything is applied. */
export class ManifestError extends MeshproofError {
  constructor(file: string, object: string | undefined, problem: string, fix = 'Fix the fixture; every object must be valid for its kind.') {
    super(`${file}${object ? `: ${object}` : ''}: ${problem}`, fix, 2);
  }
}

export function describeObject(object: Partial<KubeObject>): string {
  const name = object.metadata?.name ?? '(no name)';
  return `${object.kind ?? '(no kind)'} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${name}`;
}

/** Reads every document of a fixture (relative to the project root); empty documents (comment-only) are skipped. */
export function loadFixture(file: string): FixtureObject[] {
  const where = resolveDataPath(file);
  if (!existsSync(where)) {
    throw new ManifestError(file, undefined, `no such file (looked for ${path.relative(process.cwd(), where) || where})`, 'Restore the file, or point MESHPROOF_FIXTURES_DIR at a complete copy of fixtures/.');
  }
  // Parsed once per version of the file (readParsed); each document's first error, or its value.
  const documents = readParsed(where, (text) =>
    parseAllDocuments(text).map((document) => (document.errors.length > 0 ? { error: document.errors[0]!.message } : { value: document.toJS() as unknown })),
  );
  const objects: FixtureObject[] = [];
  for (const document of documents) {
    if ('error' in document) throw new ManifestError(file, undefined, `not valid YAML: ${document.error}`);
    const { value } = document;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new ManifestError(file, undefined, 'a document is not a Kubernetes object');
    const object = value as KubeObject;
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string') {
      throw new ManifestError(file, describeObject(object), 'every object needs apiVersion, kind and metadata.name');
    }
    objects.push({ file, object });
  }
  return objects;
}

/** A Go duration as Istio's CRDs take it: "500ms", "3s", "1m30s". */
export const goDuration = /^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/;
const durationUnitsMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };

/** An Istio duration ("7s", "3m", "1m30s", "500ms") in milliseconds; anything else throws. */
export function istioDurationMs(text: string): number {
  if (!goDuration.test(text)) throw new MeshproofError(`"${text}" is not a duration such as 500ms, 3s or 1m`, undefined, 2);
  let total = 0;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) total += Number(value) * durationUnitsMs[unit!]!;
  return total;
}

/** The Bookinfo image prefix the fixtures are written with (Istio 1.30's registry). */
export const fixtureBookinfoImagePrefix = 'registry.istio.io/release/examples-bookinfo-';

/**
 * Adapts objects to the configured Istio release: Bookinfo images come from the registry and tag shipped with
 * that release (the registry moved at 1.30), or from the hub the user chose (MESHPROOF_ISTIO_HUB), where Istio
 * publishes them beside its own images. Returns new objects; the fixtures stay as a person applies them.
 */
export function renderForRelease(objects: FixtureObject[], istio: IstioRelease, hub?: string): FixtureObject[] {
  const prefix = hub ? `${hub}/examples-bookinfo-` : istio.bookinfo.imagePrefix;
  const rewrite = (image: string) =>
    image.startsWith(fixtureBookinfoImagePrefix)
      ? `${prefix}${image.slice(fixtureBookinfoImagePrefix.length).replace(/:[^:]+$/, '')}:${istio.bookinfo.tag}`
      : image;
  return objects.map(({ file, object }) => {
    const copy = structuredClone(object);
    const containers = (copy as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }).spec?.template?.spec?.containers;
    for (const container of containers ?? []) if (container.image) container.image = rewrite(container.image);
    return { file, object: copy };
  });
}

/**
 * The fault delay a request gets from a VirtualService for `host` in `files`, in ms: the fixedDelay of the first of
 * its routes whose header matches hold for `headers` (a route without a match holds for every request), or
 * undefined when that route injects none. First match wins, as in Istio's routes (the lab's 02-fault-injection.yaml:
 * 7 s for end-user: jason, none for anyone else).
 */
export function faultDelayMs(files: readonly string[], host: string, headers: Record<string, string>): number | undefined {
  type Route = { match?: { headers?: Record<string, { exact?: string }> }[]; fault?: { delay?: { fixedDelay?: string } } };
  for (const { object } of files.flatMap(loadFixture)) {
    const spec = (object as { spec?: { hosts?: string[]; http?: Route[] } }).spec;
    if (object.kind !== 'VirtualService' || !spec?.hosts?.includes(host)) continue;
    const holds = (route: Route) =>
      !route.match?.length || route.match.some((m) => Object.entries(m.headers ?? {}).every(([name, want]) => want.exact === undefined || headers[name] === want.exact));
    const route = (spec.http ?? []).find(holds);
    const delay = route?.fault?.delay?.fixedDelay;
    return delay === undefined ? undefined : istioDurationMs(delay);
  }
  return undefined;
}
