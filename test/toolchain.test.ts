import { readdirSync, readFileSync, existsSync } from 'node:fs';
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
