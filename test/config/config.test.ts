import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, parseDuration } from '../../helpers/config/config.ts';
import { ConfigError } from '../../helpers/errors.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshproof-config-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function configError(env: NodeJS.ProcessEnv, cwd = tempDir()): ConfigError {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('defaults to kind with the newest compatible Istio and Kubernetes pair', () => {
    const config = loadConfig({}, tempDir());
    expect(config.target).toBe('kind');
    expect(config.istio.version).toBe('1.31.1');
    expect(config.kubernetes?.minor).toBe('1.36');
    expect(config.kubernetes?.nodeImage).toMatch(/^kindest\/node:v1\.36\.4@sha256:[0-9a-f]{64}$/);
    expect(config.alpha).toBe(1e-4);
    expect(config.keepCluster).toBe(true);
    expect(config.timeouts.configLive).toBe(60_000);
  });

  it('accepts a minor or an exact release and picks that release\'s newest Kubernetes', () => {
    const config = loadConfig({ MESHPROOF_ISTIO_VERSION: '1.30' }, tempDir());
    expect(config.istio.version).toBe('1.30.5');
    expect(config.istio.bookinfo.imagePrefix).toBe('registry.istio.io/release/examples-bookinfo-');
    expect(config.kubernetes?.minor).toBe('1.36');
    expect(loadConfig({ MESHPROOF_ISTIO_VERSION: '1.30.5', MESHPROOF_K8S_VERSION: '1.34.11' }, tempDir()).kubernetes?.version).toBe('1.34.11');
  });

  it('takes an image hub for Istio and Bookinfo, and refuses one with a scheme or a tag', () => {
    expect(loadConfig({}, tempDir()).istioHub).toBeUndefined();
    expect(loadConfig({ MESHPROOF_ISTIO_HUB: 'mirror.example:5000/istio' }, tempDir()).istioHub).toBe('mirror.example:5000/istio');
    expect(configError({ MESHPROOF_ISTIO_HUB: 'https://mirror.example/istio' }).message).toMatch(/^MESHPROOF_ISTIO_HUB=https:\/\/mirror\.example\/istio is not valid: expected an image registry/);
    expect(configError({ MESHPROOF_ISTIO_HUB: 'docker.io/istio:1.31' }).exitCode).toBe(2);
  });

  it('names the variable, the bad value and the allowed values for an unknown Istio version', () => {
    const error = configError({ MESHPROOF_ISTIO_VERSION: 'banana' });
    expect(error.message).toBe(
      'MESHPROOF_ISTIO_VERSION=banana is not a supported Istio version; allowed: 1.31, 1.31.1, 1.30, 1.30.5.',
    );
  });

  it('refuses an unsupported Istio/Kubernetes pair', () => {
    const error = configError({ MESHPROOF_ISTIO_VERSION: '1.30', MESHPROOF_K8S_VERSION: '1.37' });
    expect(error.message).toContain('MESHPROOF_K8S_VERSION=1.37 is not supported by Istio 1.30.5');
  });

  it('refuses a Kubernetes version with no pinned node image on kind, but not on an existing cluster', () => {
    expect(configError({ MESHPROOF_K8S_VERSION: '1.33' }).message).toContain('has no pinned kind node image');
    const config = loadConfig({ MESHPROOF_TARGET: 'existing', MESHPROOF_K8S_VERSION: '1.33' }, tempDir());
    expect(config.target).toBe('existing');
  });

  it.each([
    ['MESHPROOF_TARGET', 'minikube', 'expected one of kind, existing'],
    ['MESHPROOF_KEEP_CLUSTER', 'maybe', 'expected true or false'],
    ['MESHPROOF_ALPHA', '0.7', 'between 0 and 0.5'],
    ['MESHPROOF_CLUSTER_NAME', 'My Cluster', 'lowercase name'],
    ['MESHPROOF_TIMEOUT_CONFIG_LIVE', '90', 'a duration with a unit'],
    ['MESHPROOF_SKIP', 'warp-drive=not yet', 'unknown feature "warp-drive"'],
    ['MESHPROOF_INGRESS_PORT', '80800', 'a TCP port number from 1 to 65535'],
    ['MESHPROOF_INGRESS_PORT', '8080.5', 'a TCP port number from 1 to 65535'],
  ])('%s=%s is refused with what is allowed', (variable, value, allowed) => {
    const error = configError({ [variable]: value });
    expect(error.message).toContain(`${variable}=${value} is not valid`);
    expect(error.message).toContain(allowed);
  });

  it("takes the ingress host port from the file or the environment, the lab's 8080 otherwise", () => {
    expect(loadConfig({}, tempDir()).ingressPort).toBe(8080);
    const dir = tempDir();
    writeFileSync(path.join(dir, 'meshproof.config.yaml'), 'ingressPort: 18080\n');
    expect(loadConfig({}, dir).ingressPort).toBe(18080);
    expect(loadConfig({ MESHPROOF_INGRESS_PORT: '28080' }, dir).ingressPort).toBe(28080);
  });

  it('refuses a timeout variable that names no timeout (a typo would otherwise be ignored)', () => {
    expect(configError({ MESHPROOF_TIMEOUT_CONFIGLIVE: '10s' }).message).toContain('MESHPROOF_TIMEOUT_CONFIGLIVE is not a known timeout');
  });

  it('reads the config file, and the environment wins over it', () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'meshproof.config.yaml'),
      'target: existing\ncontext: kind-lab\nalpha: 0.001\nskip:\n  mirroring: needs a newer Istio\ntimeouts:\n  configLive: 2m\n',
    );
    const config = loadConfig({ MESHPROOF_ALPHA: '0.01', MESHPROOF_TIMEOUT_METRIC_POLL: '5s' }, dir);
    expect(config.target).toBe('existing');
    expect(config.context).toBe('kind-lab');
    expect(config.alpha).toBe(0.01);
    expect(config.skip).toEqual({ mirroring: 'needs a newer Istio' });
    expect(config.timeouts.configLive).toBe(120_000);
    expect(config.timeouts.metricPoll).toBe(5_000);
    expect(config.configFile).toBe(path.join(dir, 'meshproof.config.yaml'));
  });

  it('names the file and key of a bad value in the config file', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'meshproof.config.yaml'), 'timeouts:\n  configLive: 30\n');
    const error = configError({}, dir);
    expect(error.message).toContain('meshproof.config.yaml: timeouts.configLive=30 is not valid');
  });

  it('refuses unknown keys in the config file', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'meshproof.config.yaml'), 'istio_version: 1.30\n');
    expect(configError({}, dir).message).toContain('unknown setting "istio_version"');
  });

  it('parses MESHPROOF_SKIP entries with reasons and MESHPROOF_ONLY lists', () => {
    const config = loadConfig({ MESHPROOF_SKIP: 'kiali=no UI here; jaeger', MESHPROOF_ONLY: 'kiali, jaeger,prometheus' }, tempDir());
    expect(config.skip).toEqual({ kiali: 'no UI here', jaeger: 'skipped by configuration' });
    expect(config.only).toEqual(['kiali', 'jaeger', 'prometheus']);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['2m', 120_000],
    ['1.5s', 1_500],
  ])('%s is %d ms', (text, expected) => expect(parseDuration(text)).toBe(expected));
  it.each(['90', 90, '', '-1s', 'soon'])('%s is refused', (raw) => expect(() => parseDuration(raw)).toThrow(/with a unit/));
});

describe('toolsDir', () => {
  it('caches under $XDG_CACHE_HOME/meshproof/tools, else ~/.cache/meshproof/tools (a relative XDG path is invalid)', () => {
    expect(loadConfig({ XDG_CACHE_HOME: '/var/cache/me' }, tempDir()).toolsDir).toBe('/var/cache/me/meshproof/tools');
    expect(loadConfig({ XDG_CACHE_HOME: 'relative' }, tempDir()).toolsDir).toMatch(/\.cache\/meshproof\/tools$/);
  });
});
