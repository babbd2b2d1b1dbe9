import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ms from 'ms';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { fixturesDirEnv } from './data-file.ts';
import { featureNames, isFeatureName, type FeatureName } from './features.ts';
import { defaultTimeouts, timeoutEnvSuffix, timeoutNames, type TimeoutName, type Timeouts } from './timeouts.ts';
import {
  allowedIstioVersions,
  allowedKubernetesVersions,
  defaultKubernetesFor,
  findIstioRelease,
  findKubernetesRelease,
  istioReleases,
  istioSupportsKubernetes,
  loadSupportedVersions,
  type IstioRelease,
  type KubernetesRelease,
} from './versions.ts';

export type Target = 'kind' | 'existing';

export interface MeshproofConfig {
  /** `kind`: create or reuse a kind cluster; `existing`: use a kubeconfig context as it is. */
  target: Target;
  clusterName: string;
  istio: IstioRelease;
  /** The kind node image to create; for `existing`, the version the user declared, if any. */
  kubernetes: KubernetesRelease | undefined;
  keepCluster: boolean;
  kubeconfig: string | undefined;
  context: string | undefined;
  containerEngine: 'auto' | 'docker' | 'podman';
  /**
   * The host port (on 127.0.0.1) where Bookinfo's ingress is reached: kind maps it to the gateway's NodePort, and on
   * an existing cluster the ingress port-forward takes it when it is free. 8080 as in the lab.
   */
  ingressPort: number;
  /**
   * Where Istio's images (and Bookinfo's) are pulled from when the user chose a registry (MESHPROOF_ISTIO_HUB):
   * a mirror, or a registry that moved. Undefined: the charts' own default, which supported-versions.yaml states.
   */
  istioHub: string | undefined;
  timeouts: Timeouts;
  /** Significance level of every statistical assertion. */
  alpha: number;
  /** Features not to run, each with the reason the report shows. */
  skip: Partial<Record<FeatureName, string>>;
  /** When non-empty, only these features run. */
  only: FeatureName[];
  toolsDir: string;
  reportsDir: string;
  /** A copy of fixtures/ to use instead of meshproof's own (MESHPROOF_FIXTURES_DIR); undefined for the shipped one. */
  fixturesDir: string | undefined;
  /** The config file that was read, if any. */
  configFile: string | undefined;
}

/**
 * One setting: the environment variable that sets it, its key in the config file, and how a raw value
 * (a string from the environment, any YAML value from the file) becomes a typed one. A parser throws a
 * sentence saying what is allowed; the caller adds where the value came from.
 */
interface Setting<T> {
  env: string;
  key: string;
  parse: (raw: unknown) => T;
}

const allowed = (what: string) => new Error(what);

function fromSchema<T>(schema: z.ZodType<T>, expected: string): (raw: unknown) => T {
  return (raw) => {
    const result = schema.safeParse(raw);
    if (!result.success) throw allowed(expected);
    return result.data;
  };
}

function parseBoolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  const text = String(raw).trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  throw allowed('expected true or false');
}

/** Durations are written with a unit ("90s", "2m", "500ms"): a bare number is ambiguous, so refused. */
export function parseDuration(raw: unknown): number {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (!/^\d+(\.\d+)?\s*(ms|s|m|h)$/.test(text)) throw allowed('expected a duration with a unit, such as 500ms, 90s, 2m or 1h');
  const value = ms(text as ms.StringValue);
  if (!Number.isFinite(value) || value <= 0) throw allowed('expected a positive duration');
  return value;
}

function parseAlpha(raw: unknown): number {
  const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isFinite(value) || value <= 0 || value >= 0.5 || String(raw).trim() === '') {
    throw allowed('expected a number between 0 and 0.5 (exclusive), such as 1e-4');
  }
  return value;
}

const featureList = `one of ${featureNames.join(', ')}`;

/** MESHPROOF_SKIP="mirroring=needs a newer Istio;kiali" or, in the file, `skip: {mirroring: "…"}`. */
function parseSkip(raw: unknown): Partial<Record<FeatureName, string>> {
  const entries: [string, string][] =
    typeof raw === 'string'
      ? raw
          .split(';')
          .map((entry) => entry.trim())
          .filter(Boolean)
          .map((entry) => {
            const [name = '', ...reason] = entry.split('=');
            return [name.trim(), reason.join('=').trim()];
          })
      : raw && typeof raw === 'object' && !Array.isArray(raw)
        ? Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, String(v ?? '')])
        : (() => {
            throw allowed('expected "feature=reason;feature=reason" or a map of feature to reason');
          })();
  const skip: Partial<Record<FeatureName, string>> = {};
  for (const [name, reason] of entries) {
    if (!isFeatureName(name)) throw allowed(`unknown feature "${name}": expected ${featureList}`);
    skip[name] = reason || 'skipped by configuration';
  }
  return skip;
}

function parseOnly(raw: unknown): FeatureName[] {
  const names = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
  const cleaned = names.map((n) => n.trim()).filter(Boolean);
  for (const name of cleaned) if (!isFeatureName(name)) throw allowed(`unknown feature "${name}": expected ${featureList}`);
  return cleaned as FeatureName[];
}

const nonEmptyPath = fromSchema(z.string().trim().min(1), 'expected a path');

/** A TCP port, from the environment (a string) or the file (a number). */
function parsePort(raw: unknown): number {
  const text = String(raw).trim();
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw allowed('expected a TCP port number from 1 to 65535, such as 8080');
  return port;
}

const settings = {
  target: { env: 'MESHPROOF_TARGET', key: 'target', parse: fromSchema(z.enum(['kind', 'existing']), 'expected one of kind, existing') },
  clusterName: {
    env: 'MESHPROOF_CLUSTER_NAME',
    key: 'clusterName',
    parse: fromSchema(
      z.string().regex(/^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/),
      'expected a lowercase name of letters, digits and dashes (at most 40 characters), such as meshproof',
    ),
  },
  istioVersion: { env: 'MESHPROOF_ISTIO_VERSION', key: 'istioVersion', parse: (raw: unknown) => String(raw).trim() },
  kubernetesVersion: { env: 'MESHPROOF_K8S_VERSION', key: 'kubernetesVersion', parse: (raw: unknown) => String(raw).trim().replace(/^v/, '') },
  keepCluster: { env: 'MESHPROOF_KEEP_CLUSTER', key: 'keepCluster', parse: parseBoolean },
  kubeconfig: { env: 'MESHPROOF_KUBECONFIG', key: 'kubeconfig', parse: nonEmptyPath },
  context: { env: 'MESHPROOF_CONTEXT', key: 'context', parse: fromSchema(z.string().trim().min(1), 'expected a kubeconfig context name') },
  containerEngine: {
    env: 'MESHPROOF_CONTAINER_ENGINE',
    key: 'containerEngine',
    parse: fromSchema(z.enum(['auto', 'docker', 'podman']), 'expected one of auto, docker, podman'),
  },
  // A registry host with an optional port and path, as Istio's `hub` takes it (docker.io/istio, registry.istio.io/release,
  // my-mirror.example:5000/istio); no scheme and no tag.
  istioHub: {
    env: 'MESHPROOF_ISTIO_HUB',
    key: 'istioHub',
    parse: fromSchema(
      z.string().trim().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$/),
      'expected an image registry and path without a scheme or tag, such as registry.istio.io/release or my-mirror.example:5000/istio',
    ),
  },
  ingressPort: { env: 'MESHPROOF_INGRESS_PORT', key: 'ingressPort', parse: parsePort },
  alpha: { env: 'MESHPROOF_ALPHA', key: 'alpha', parse: parseAlpha },
  skip: { env: 'MESHPROOF_SKIP', key: 'skip', parse: parseSkip },
  only: { env: 'MESHPROOF_ONLY', key: 'only', parse: parseOnly },
  toolsDir: { env: 'MESHPROOF_TOOLS_DIR', key: 'toolsDir', parse: nonEmptyPath },
  reportsDir: { env: 'MESHPROOF_REPORTS_DIR', key: 'reportsDir', parse: nonEmptyPath },
} satisfies Record<string, Setting<unknown>>;

type SettingName = keyof typeof settings;
type Parsed = { [K in SettingName]?: ReturnType<(typeof settings)[K]['parse']> };

export const configFileEnv = 'MESHPROOF_CONFIG';
/** The lab's own: its README opens Bookinfo at http://localhost:8080/productpage. */
export const defaultIngressPort = 8080;
export const defaultConfigFile = 'meshproof.config.yaml';

/** Every environment variable meshproof reads, with the setting it sets: for the README and `--help`. */
export function configurationVariables(): { env: string; key: string }[] {
  return [
    { env: configFileEnv, key: '(path of the config file)' },
    { env: fixturesDirEnv, key: '(a copy of fixtures/ to use instead; environment only)' },
    ...Object.values(settings).map(({ env, key }) => ({ env, key })),
    ...timeoutNames.map((name) => ({ env: `MESHPROOF_TIMEOUT_${timeoutEnvSuffix(name)}`, key: `timeouts.${name}` })),
  ];
}

function describeOrigin(origin: string, raw: unknown): string {
  const shown = typeof raw === 'string' ? raw : JSON.stringify(raw);
  return `${origin}=${shown}`;
}

function parseWithOrigin<T>(parse: (raw: unknown) => T, raw: unknown, origin: string): T {
  try {
    return parse(raw);
  } catch (error) {
    throw new ConfigError(`${describeOrigin(origin, raw)} is not valid: ${(error as Error).message}.`);
  }
}

function readConfigFile(env: NodeJS.ProcessEnv, cwd: string): { file?: string; values: Record<string, unknown> } {
  const explicit = env[configFileEnv];
  const file = explicit ? path.resolve(cwd, explicit) : path.resolve(cwd, defaultConfigFile);
  if (!existsSync(file)) {
    if (explicit) throw new ConfigError(`${configFileEnv}=${explicit} names a file that does not exist.`);
    return { values: {} };
  }
  let values: unknown;
  try {
    values = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file} is not valid YAML: ${(error as Error).message}`);
  }
  if (values === null || values === undefined) return { file, values: {} };
  if (typeof values !== 'object' || Array.isArray(values)) throw new ConfigError(`${file} must hold a map of settings.`);
  const known = new Set<string>([...Object.values(settings).map((s) => s.key), 'timeouts']);
  for (const key of Object.keys(values)) {
    if (!known.has(key)) throw new ConfigError(`${file}: unknown setting "${key}"; known settings: ${[...known].join(', ')}.`);
  }
  return { file, values: values as Record<string, unknown> };
}

/**
 * Reads the configuration: defaults, then the config file, then MESHPROOF_* variables (the environment
 * wins, so a CI matrix can override a committed file). Throws ConfigError (exit code 2) naming the
 * variable or file key, the bad value and what is allowed.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): MeshproofConfig {
  const { file, values: fileValues } = readConfigFile(env, cwd);
  const parsed: Parsed = {};
  for (const [name, setting] of Object.entries(settings) as [SettingName, Setting<unknown>][]) {
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      (parsed as Record<string, unknown>)[name] = parseWithOrigin(setting.parse, fromEnv, setting.env);
    } else if (fileValues[setting.key] !== undefined) {
      (parsed as Record<string, unknown>)[name] = parseWithOrigin(setting.parse, fileValues[setting.key], `${file}: ${setting.key}`);
    }
  }

  const timeouts: Timeouts = { ...defaultTimeouts };
  const fileTimeouts = fileValues.timeouts;
  if (fileTimeouts !== undefined) {
    if (!fileTimeouts || typeof fileTimeouts !== 'object' || Array.isArray(fileTimeouts)) {
      throw new ConfigError(`${file}: timeouts must be a map of name to duration; names: ${timeoutNames.join(', ')}.`);
    }
    for (const [name, raw] of Object.entries(fileTimeouts)) {
      if (!timeoutNames.includes(name as TimeoutName)) {
        throw new ConfigError(`${file}: timeouts.${name} is not a known timeout; known: ${timeoutNames.join(', ')}.`);
      }
      timeouts[name as TimeoutName] = parseWithOrigin(parseDuration, raw, `${file}: timeouts.${name}`);
    }
  }
  for (const name of timeoutNames) {
    const variable = `MESHPROOF_TIMEOUT_${timeoutEnvSuffix(name)}`;
    const raw = env[variable];
    if (raw !== undefined && raw !== '') timeouts[name] = parseWithOrigin(parseDuration, raw, variable);
  }
  const knownTimeoutVariables = new Set(timeoutNames.map((n) => `MESHPROOF_TIMEOUT_${timeoutEnvSuffix(n)}`));
  for (const variable of Object.keys(env)) {
    if (variable.startsWith('MESHPROOF_TIMEOUT_') && !knownTimeoutVariables.has(variable)) {
      throw new ConfigError(`${variable} is not a known timeout; known: ${[...knownTimeoutVariables].join(', ')}.`);
    }
  }

  const target = parsed.target ?? 'kind';
  const { istio, kubernetes } = resolveVersions(parsed, target, file, env);

  return {
    target,
    clusterName: parsed.clusterName ?? 'meshproof',
    istio,
    kubernetes,
    keepCluster: parsed.keepCluster ?? true,
    kubeconfig: parsed.kubeconfig ? path.resolve(cwd, parsed.kubeconfig) : undefined,
    context: parsed.context,
    containerEngine: parsed.containerEngine ?? 'auto',
    istioHub: parsed.istioHub,
    ingressPort: parsed.ingressPort ?? defaultIngressPort,
    timeouts,
    alpha: parsed.alpha ?? 1e-4,
    skip: parsed.skip ?? {},
    only: parsed.only ?? [],
    toolsDir: path.resolve(cwd, parsed.toolsDir ?? defaultToolsDir(env)),
    reportsDir: path.resolve(cwd, parsed.reportsDir ?? 'reports'),
    fixturesDir: readFixturesDir(env, cwd),
    configFile: file,
  };
}

/**
 * MESHPROOF_FIXTURES_DIR is read from the environment only (not the config file): the data files are found
 * through it before the configuration exists (supported-versions.yaml decides what a valid version is).
 */
function readFixturesDir(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const raw = env[fixturesDirEnv];
  if (!raw) return undefined;
  const dir = path.resolve(cwd, raw);
  if (!existsSync(path.join(dir, 'cluster', 'supported-versions.yaml'))) {
    throw new ConfigError(`${fixturesDirEnv}=${raw} is not valid: expected a copy of meshproof's fixtures/ folder (no cluster/supported-versions.yaml in ${dir}).`);
  }
  return dir;
}

/** XDG's cache directory; a relative XDG_CACHE_HOME is invalid by the XDG spec and ignored. */
export function defaultToolsDir(env: NodeJS.ProcessEnv): string {
  const cacheHome = env.XDG_CACHE_HOME;
  const base = cacheHome && path.isAbsolute(cacheHome) ? cacheHome : path.join(os.homedir(), '.cache');
  return path.join(base, 'meshproof', 'tools');
}

function originOf(name: 'istioVersion' | 'kubernetesVersion', file: string | undefined, env: NodeJS.ProcessEnv): string {
  const setting = settings[name];
  return env[setting.env] ? setting.env : `${file}: ${setting.key}`;
}

function resolveVersions(parsed: Parsed, target: Target, file: string | undefined, env: NodeJS.ProcessEnv) {
  const data = loadSupportedVersions();
  let istio = istioReleases(data)[0]!;
  if (parsed.istioVersion !== undefined) {
    const found = findIstioRelease(data, parsed.istioVersion);
    if (!found) {
      throw new ConfigError(
        `${describeOrigin(originOf('istioVersion', file, env), parsed.istioVersion)} is not a supported Istio version; allowed: ${allowedIstioVersions(data).join(', ')}.`,
      );
    }
    istio = found;
  }

  let kubernetes: KubernetesRelease | undefined;
  if (parsed.kubernetesVersion !== undefined) {
    const wanted = parsed.kubernetesVersion;
    const origin = describeOrigin(originOf('kubernetesVersion', file, env), wanted);
    kubernetes = findKubernetesRelease(data, wanted);
    if (target === 'kind' && !kubernetes) {
      throw new ConfigError(
        `${origin} has no pinned kind node image; allowed: ${allowedKubernetesVersions(data).join(', ')}.`,
      );
    }
    if (!/^\d+\.\d+(\.\d+)?$/.test(wanted)) throw new ConfigError(`${origin} is not a Kubernetes version such as 1.35 or 1.35.8.`);
    if (!istioSupportsKubernetes(istio, wanted)) {
      throw new ConfigError(
        `${origin} is not supported by Istio ${istio.version}, which supports Kubernetes ${istio.kubernetes.join(', ')}.`,
        'Choose another MESHPROOF_K8S_VERSION, or another MESHPROOF_ISTIO_VERSION.',
      );
    }
  } else if (target === 'kind') {
    kubernetes = defaultKubernetesFor(data, istio);
    if (!kubernetes) {
      throw new ConfigError(`no kind node image is pinned for any Kubernetes version Istio ${istio.version} supports (${istio.kubernetes.join(', ')}).`);
    }
  }
  return { istio, kubernetes };
}
