import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { sha256Of } from '../../helpers/provision/download.ts';
import { loadSupportedVersions } from '../../helpers/config/versions.ts';
import type { StaticHttpServer } from './static-http-server.ts';

/**
 * Istio's Grafana dashboards come from the internet, each pinned by its sha256
 * (fixtures/addons/grafana-dashboards.yaml). Offline, a copy of the fixtures points at a loopback server that
 * serves a dashboard of its own for every pinned file, with the hashes of what it serves: MESHPROOF_FIXTURES_DIR
 * set to the returned folder makes a run install those.
 */
export function fixturesWithLoopbackDashboards(into: string, dashboards: StaticHttpServer): string {
  // Every supported release's URLs: a run may pick any of them (MESHPROOF_ISTIO_VERSION).
  const istioVersions = loadSupportedVersions().istio.map((release) => release.version);
  const fixtures = path.join(into, 'fixtures');
  cpSync(fromRoot('fixtures'), fixtures, { recursive: true });
  const file = path.join(fixtures, 'addons', 'grafana-dashboards.yaml');
  let text = readFileSync(file, 'utf8').replace(/^url: .*$/m, `url: ${dashboards.url}/istio/{version}/{file}`);
  for (const [, name, key] of text.matchAll(/- file: (\S+)\n\s+key: (\S+)/g)) {
    const body = JSON.stringify({ title: `dashboard ${key}`, panels: [] });
    for (const version of istioVersions) dashboards.routes[`/istio/${version}/${name}`] = { body };
    text = text.replace(new RegExp(`(- file: ${name!.replace(/\./g, '\\.')}[\\s\\S]*?sha256: )[0-9a-f]{64}`), `$1${sha256Of(body)}`);
  }
  writeFileSync(file, text);
  return fixtures;
}
