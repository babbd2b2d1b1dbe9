import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MeshproofError } from '../../helpers/errors.ts';
import { fetchPinned, sha256Of } from '../../helpers/provision/download.ts';
import { startStaticHttpServer, type StaticHttpServer } from '../support/static-http-server.ts';
import { useTempDirs } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-download-');
let server: StaticHttpServer;
beforeEach(async () => {
  server = await startStaticHttpServer();
});
afterEach(() => server.close());

const body = '{"title":"Istio Mesh Dashboard"}';
const options = (cacheDir: string) => ({ cacheDir, timeoutMs: 5_000, retryMinMs: 10, what: 'the mesh dashboard' });

describe('fetchPinned', () => {
  it('fetches a file whose sha256 is the pinned one, keeps it under its hash, and reads it from there next time', async () => {
    server.routes['/mesh.json'] = { body };
    const cacheDir = tempDir();
    const file = { url: `${server.url}/mesh.json`, sha256: sha256Of(body) };
    expect(await fetchPinned(file, options(cacheDir))).toBe(body);
    expect(readdirSync(cacheDir)).toEqual([sha256Of(body)]);
    await server.close();
    expect(await fetchPinned(file, options(cacheDir))).toBe(body);
  });

  it('retries a flaky server and refuses other bytes, naming both hashes and keeping nothing', async () => {
    server.routes['/mesh.json'] = { failFirst: 2, status: 502, then: { body: 'changed' } };
    const cacheDir = tempDir();
    const error = (await fetchPinned({ url: `${server.url}/mesh.json`, sha256: sha256Of(body) }, options(cacheDir)).catch((e: unknown) => e)) as MeshproofError;
    expect(error.message).toBe(`the mesh dashboard was refused: its sha256 is ${sha256Of('changed')}, but ${sha256Of(body)} is pinned\n  URL: ${server.url}/mesh.json`);
    expect(server.requests).toHaveLength(3);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('says where to put the file when it cannot be fetched', async () => {
    const cacheDir = tempDir();
    const error = (await fetchPinned({ url: `${server.url}/missing.json`, sha256: sha256Of(body) }, options(cacheDir)).catch((e: unknown) => e)) as MeshproofError;
    expect(error).toBeInstanceOf(MeshproofError);
    expect(error.message).toMatch(/^the mesh dashboard could not be fetched: the server answered HTTP 404 Not Found\n {2}URL: /);
    expect(error.fix).toContain(`Offline, put the file at ${path.join(cacheDir, sha256Of(body))}`);
  });
});
