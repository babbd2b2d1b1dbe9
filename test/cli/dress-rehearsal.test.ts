import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prometheusAvailability } from '../support/prometheus-harness.ts';
import { rehearse, type Rehearsal } from '../support/rehearsal/rehearsal.ts';

/**
 * `npm test` itself, end to end — global setup (preflight, the cluster tools found on PATH, every provisioning
 * phase, the readiness waits through real port-forwards), the suite files, the summary and the Allure results —
 * against a simulated cluster (test/support/rehearsal). Two runs at once: a healthy mesh, and one whose canary
 * weights are wrong. Only the features that run in seconds on the simulation are chosen here; `npm run
 * rehearsal` rehearses every feature the simulation models, healthy and broken one way per feature.
 */
const availability = prometheusAvailability();
const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshproof-rehearsal-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const calls = (run: Rehearsal) => run.calls.map((c) => `${c.tool} ${c.args.join(' ')}`);

describe.skipIf(!availability.available)('a dress rehearsal of npm test on a simulated cluster', () => {
  const runs = Promise.all([
    rehearse({ dir: fresh(), only: ['traffic-shifting', 'mirroring', 'prometheus'] }),
    rehearse({ dir: fresh(), only: ['traffic-shifting', 'mirroring'], breakage: { kind: 'wrong-weights', weights: { 'reviews-v1': 70, 'reviews-v2': 20, 'reviews-v3': 10 } } }),
  ]);

  it('passes a healthy mesh: the command provisions, waits, runs the suites and says passed', async () => {
    const [healthy] = await runs;
    expect(healthy.exitCode, healthy.output.slice(-3000)).toBe(0);
    expect(healthy.summary?.result).toBe('passed');
    expect(healthy.summary?.features['traffic-shifting'].status).toBe('passed');
    expect(healthy.summary?.features.mirroring.status).toBe('passed');
    expect(healthy.summary?.features.prometheus.status).toBe('passed');
    expect(healthy.summary?.features.kiali).toMatchObject({ status: 'skipped', reason: expect.stringContaining('not in MESHPROOF_ONLY') });
    // The production runner spawned the stand-ins: every release installed, the traffic generator paused and resumed.
    const made = calls(healthy);
    for (const release of ['istio-base', 'istiod', 'istio-ingressgateway', 'prometheus', 'grafana', 'kiali']) {
      expect(made.some((c) => c.startsWith(`helm upgrade --install ${release} `))).toBe(true);
    }
    expect(made.filter((c) => c.startsWith('kubectl port-forward')).map((c) => c.split(' ').at(-1))).toEqual(
      expect.arrayContaining(['svc/istio-ingressgateway', 'svc/prometheus', 'svc/grafana', 'svc/tracing', 'svc/kiali']),
    );
    const patches = made.filter((c) => c.startsWith('kubectl patch cronjob traffic-generator'));
    expect(patches.map((p) => JSON.parse(p.split(' -p ')[1]!).spec.suspend)).toEqual([true, false]);
    // The report's inputs are there; a feature MESHPROOF_ONLY leaves out is not even loaded, yet reported skipped.
    const results = readdirSync(path.join(healthy.reportsDir, 'allure-results'))
      .filter((f) => f.endsWith('-result.json'))
      .map((f) => JSON.parse(readFileSync(path.join(healthy.reportsDir, 'allure-results', f), 'utf8')) as { status: string; labels: { name: string; value: string }[] });
    const ofFeature = (feature: string) => results.filter((r) => r.labels.some((l) => l.name === 'feature' && l.value === feature)).map((r) => r.status);
    expect(ofFeature('traffic-shifting')).toEqual(['passed']);
    expect(ofFeature('kiali')).toEqual(['skipped']);
    expect(healthy.output).not.toContain('suites/83-kiali.test.ts');
    expect(existsSync(path.join(healthy.reportsDir, 'setup-phases.json'))).toBe(true);
    expect(readdirSync(path.join(healthy.reportsDir, 'recordings')).length).toBeGreaterThan(0);
  }, 240_000);

  it('fails exactly the feature the mesh gets wrong, and the summary names it', async () => {
    const [, broken] = await runs;
    expect(broken.exitCode).toBe(1);
    expect(broken.summary?.result).toBe('failed');
    expect(broken.summary?.reason).toBe('failed: traffic-shifting');
    expect(broken.summary?.features['traffic-shifting'].verdicts.find((v) => !v.pass)?.sentence).toMatch(/reviews-v1 .* expected 80 %/);
    expect(broken.summary?.features.mirroring.status).toBe('passed');
    expect(broken.output).toContain('conformance failed — 1 passed, 1 failed, 10 skipped, 0 not run');
  }, 240_000);
});
