import { readFileSync } from 'node:fs';
import { fromRoot } from './data-file.ts';

/** meshproof's own version, as package.json states it; recordings and reports carry it. */
export const meshproofVersion = (JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string }).version;
