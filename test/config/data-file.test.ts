import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFixture } from '../../helpers/config/manifests.ts';
import { readParsed } from '../../helpers/config/data-file.ts';
import { useTempDirs } from '../support/temp.ts';

/** Data files are parsed once per version of the file; what a caller gets is its own to change. */
const tempDir = useTempDirs('meshproof-data-file-');

describe('readParsed', () => {
  it('parses a file once while it is unchanged, again once it changes, and hands each caller a copy', () => {
    const file = path.join(tempDir(), 'values.json');
    writeFileSync(file, '{"replicas": 1}');
    let parses = 0;
    const parse = (text: string) => {
      parses += 1;
      return JSON.parse(text) as { replicas: number };
    };
    const first = readParsed(file, parse);
    first.replicas = 99;
    expect(readParsed(file, parse)).toEqual({ replicas: 1 });
    expect(parses).toBe(1);
    writeFileSync(file, '{"replicas": 22}');
    expect(readParsed(file, parse)).toEqual({ replicas: 22 });
    expect(parses).toBe(2);
  });

  it('keeps a fixture read through it as the file says, whoever changed an earlier copy', () => {
    const [first] = loadFixture('fixtures/features/01-traffic-shifting.yaml');
    first!.object.metadata.name = 'changed by a caller';
    const [again] = loadFixture('fixtures/features/01-traffic-shifting.yaml');
    expect(again!.object.metadata.name).toBe('reviews');
    expect(again!.file).toBe('fixtures/features/01-traffic-shifting.yaml');
  });
});
