import { readdirSync, readFileSync, existsSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../helpers/config/data-file.ts';

describe('toolchain', () => {
  it('has exactly one @kubernetes-models/validate: two copies keep two schema registries and break every Istio validate()', () => {
    const copies: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const full = `${dir}/${entry.name}`;
        if (full.endsWith('@kubernetes-models/validate') && existsSync(`${full}/package.json`)) copies.push(full);
        else if (entry.name === 'node_modules' || entry.name.startsWith('@') || dir.endsWith('node_modules')) walk(full);
      }
    };
    walk(fromRoot('node_modules'));
    expect(copies).toHaveLength(1);
  });

  it('supports Node 22 and 24, and every installed package does too, so npm ci warns of no engine there', () => {
    const own = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { engines: { node: string } };
    const supported = ['22.13.0', '22.21.0', '24.0.0', '24.11.0'];
    for (const node of supported) expect(semver.satisfies(node, own.engines.node), `${node} in ${own.engines.node}`).toBe(true);
    expect(semver.satisfies('20.20.2', own.engines.node)).toBe(false); // end of life: npm says so (EBADENGINE)
    const lock = JSON.parse(readFileSync(fromRoot('package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };
    const refusing = Object.entries(lock.packages)
      .filter(([name]) => name.startsWith('node_modules/'))
      .flatMap(([name, entry]) => {
        const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return range ? supported.filter((node) => !semver.satisfies(node, range)).map((node) => `${name} wants node ${range}, not ${node}`) : [];
      });
    expect(refusing).toEqual([]);
  });

  it('pins the versions that work on Node 20', () => {
    const installed = (name: string) =>
      (JSON.parse(readFileSync(fromRoot('node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    expect(installed('vitest')).toMatch(/^4\.1\./);
    expect(installed('@kubernetes/client-node')).toMatch(/^1\.4\./);
    expect(installed('undici')).toMatch(/^7\./);
    expect(installed('execa')).toMatch(/^9\./);
    expect(installed('p-retry')).toMatch(/^7\./);
  });
});
