import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { featureNames } from '../../helpers/config/features.ts';
import { standInCalls } from '../support/lab-stand-ins.ts';
import { prometheusAvailability } from '../support/prometheus-harness.ts';
import { rehearse, type Rehearsal } from '../support/rehearsal/rehearsal.ts';

/**
 * `npm test` itself, end to end, on the kind target a fresh machine uses — global setup (Docker's preflight, the
 * host port check, the cluster tools found on PATH, `kind create cluster` with the ingress published, every
 * provisioning phase, the readiness waits through real port-forwards), the suite files, the summary and the
 * Allure results —
 * against a simulated cluster (test/support/rehearsal) whose canary weights are wrong: the features that run in
 * seconds there are chosen, the broken one must fail with its sentence and the others pass. `npm run rehearsal`
 * rehearses every feature the simulation models, on a healthy mesh and broken one way per feature.
 */
const availability = prometheusAvailability();
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const calls = (run: Rehearsal) => run.calls.map((c) => `${c.tool} ${c.args.join(' ')}`);

describe.skipIf(!availability.available)('a dress rehearsal of npm test on a simulated cluster', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshproof-rehearsal-'));
  dirs.push(dir);
  let rehearsal: Promise<Rehearsal> | undefined;
  const run = () =>
    (rehearsal ??= rehearse({
      dir,
      only: ['traffic-shifting', 'mirroring', 'prometheus'],
      breakage: { kind: 'wrong-weights', weights: { 'reviews-v1': 70, 'reviews-v2': 20, 'reviews-v3': 10 } },
    }));

  it('runs the whole command: provisions through the stand-ins, waits, runs the chosen suites, reports', async () => {
    const rehearsed = await run();
    // The production runner spawned the stand-ins: every release installed, the traffic generator paused and resumed.
    const made = calls(rehearsed);
    for (const release of ['istio-base', 'istiod', 'istio-ingressgateway', 'prometheus', 'grafana', 'kiali']) {
      expect(made.some((c) => c.startsWith(`helm upgrade --install ${release} `)), release).toBe(true);
    }
    // A kind run: the cluster is created with the ingress published on MESHPROOF_INGRESS_PORT, where the suites
    // reach it; only the add-ons go through port-forwards.
    expect(standInCalls(path.join(dir, 'bin'), 'docker')[0]).toBe('info --format {{json .}}');
    expect(made.filter((c) => c.startsWith('kind create cluster'))).toHaveLength(1);
    expect(made.filter((c) => c.startsWith('kubectl port-forward')).map((c) => c.split(' ').at(-1)).sort()).toEqual(['svc/grafana', 'svc/kiali', 'svc/prometheus', 'svc/tracing']);
    const patches = made.filter((c) => c.startsWith('kubectl patch cronjob traffic-generator'));
    expect(patches.map((p) => JSON.parse(p.split(' -p ')[1]!).spec.suspend)).toEqual([true, false]);
    // The report's inputs are there; a feature MESHPROOF_ONLY leaves out is not even loaded, yet reported skipped.
    const results = readdirSync(path.join(rehearsed.reportsDir, 'allure-results'))
      .filter((f) => f.endsWith('-result.json'))
      .map((f) => JSON.parse(readFileSync(path.join(rehearsed.reportsDir, 'allure-results', f), 'utf8')) as { status: string; labels: { name: string; value: string }[] });
    const ofFeature = (feature: string) => results.filter((r) => r.labels.some((l) => l.name === 'feature' && l.value === feature)).map((r) => r.status);
    expect(ofFeature('mirroring')).toEqual(['passed']);
    expect(ofFeature('kiali')).toEqual(['skipped']);
    expect(rehearsed.output).not.toContain('suites/83-kiali.test.ts');
    expect(existsSync(path.join(rehearsed.reportsDir, 'setup-phases.json'))).toBe(true);
    expect(readdirSync(path.join(rehearsed.reportsDir, 'recordings')).length).toBeGreaterThan(0);
  }, 240_000);

  it('fails exactly the feature the mesh gets wrong, passes the others, and the summary names it', async () => {
    const rehearsed = await run();
    expect(rehearsed.exitCode, rehearsed.output.slice(-3000)).toBe(1);
    expect(rehearsed.summary?.result).toBe('failed');
    expect(rehearsed.summary?.reason).toBe('failed: traffic-shifting');
    expect(rehearsed.summary?.features['traffic-shifting'].verdicts.find((v) => !v.pass)?.sentence).toMatch(/reviews-v1 .* expected 80 %/);
    expect(rehearsed.summary?.features.mirroring.status).toBe('passed');
    expect(rehearsed.summary?.features.prometheus.status).toBe('passed');
    expect(rehearsed.summary?.features.kiali).toMatchObject({ status: 'skipped', reason: expect.stringContaining('not in MESHPROOF_ONLY') });
    expect(rehearsed.output).toContain(`conformance failed — 2 passed, 1 failed, ${featureNames.length - 3} skipped, 0 not run`);
  }, 240_000);
});
