import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configurationVariables } from '../../helpers/config/config.ts';
import { fromRoot } from '../../helpers/config/data-file.ts';

describe('README', () => {
  const readme = readFileSync(fromRoot('README.md'), 'utf8');

  it('opens with the two set-up commands', () => {
    const firstBlock = readme.split('```')[1] ?? '';
    expect(firstBlock).toContain('npm ci && npm test');
    expect(firstBlock).toContain('npm run test:self');
  });

  it('documents every MESHPROOF_* variable meshproof reads', () => {
    const missing = configurationVariables()
      .map(({ env }) => env)
      .filter((env) => !readme.includes(`\`${env}\``));
    expect(missing).toEqual([]);
  });

  it('is what .ci/run runs', () => {
    const ci = readFileSync(fromRoot('.ci', 'run'), 'utf8');
    expect(ci.trim().split('\n').at(-1)).toBe('npm run test:self');
  });
});
