import { describe, expect, it } from 'vitest';
import { PollTimeoutError } from '../../../helpers/wait/poll.ts';
import { allOf, verdictsOf } from '../../../helpers/suite/step-env.ts';
import { observeKialiMtls, observeKialiSidecars, observeKialiValidations } from '../../../helpers/suite/steps/kiali.ts';
import { proveInEveryProxy, provePlaintextRefused } from '../../../helpers/suite/live.ts';
import { observePlaintextServedAfter, observePlaintextServedBefore, observeStrictMtls } from '../../../helpers/suite/steps/mtls.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/** The STRICT mTLS suite's steps (70 mtls-strict) against the simulated mesh, with both controls. */
const availability = prometheusAvailability();
const strictFile = ['fixtures/features/07-mtls-strict.yaml'];

describe.skipIf(!availability.available)('the mTLS steps on a simulated mesh', () => {
  const mesh = useSimulatedMesh({ seed: 3 });

  it('serves plaintext before, refuses it under STRICT in every server sidecar, and serves it again after the restore', async () => {
    const { env, apply, restore } = mesh();
    const [before] = verdictsOf(await observePlaintextServedBefore(env));
    expect(before!.pass, before!.sentence).toBe(true);
    const applied = await apply(strictFile);
    expect((await proveInEveryProxy(env, applied, 'STRICT')).proxies).toEqual([]); // a PeerAuthentication is proven by its effect
    await provePlaintextRefused(env, 'STRICT mTLS in bookinfo');
    const since = Date.now();
    const observed = await observeStrictMtls(env);
    const verdicts = verdictsOf(observed);
    expect(verdicts.map((v) => v.judge)).toEqual(['all-match', 'all-match', 'metric-increase']);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    expect(observed.recordings[0]!.requests.every((r) => r.curlExitCode === 56)).toBe(true);
    // Kiali, asked under STRICT: every edge into bookinfo is mTLS, every Bookinfo pod has its sidecar, no config error.
    const kiali = allOf(await observeKialiMtls(env, since), await observeKialiSidecars(env), await observeKialiValidations(env, 'mtls-strict'));
    expect(kiali.recordings.map((r) => r.check)).toEqual(['mtls-strict/kiali-mtls', 'mtls-strict/kiali-sidecars', 'mtls-strict/kiali-validations']);
    for (const verdict of verdictsOf(kiali)) expect(verdict.pass, verdict.sentence).toBe(true);
    await restore(applied);
    const [after] = verdictsOf(await observePlaintextServedAfter(env));
    expect(after!.pass, after!.sentence).toBe(true);
  }, 40_000);

  it('fails when plaintext is accepted under STRICT: the gate waits in vain, the verdict and the mutual_tls count say so', async () => {
    const { env, sim, apply, envWith } = mesh();
    await apply(strictFile);
    sim.break({ kind: 'plaintext-accepted' });
    const notLive = await provePlaintextRefused(envWith({ configLive: 2_000 }), 'STRICT mTLS in bookinfo').catch((e: unknown) => e);
    expect(notLive).toBeInstanceOf(PollTimeoutError);
    expect((notLive as Error).message).toMatch(/last seen: plaintext to productpage: HTTP 200; plaintext to details: HTTP 200/);
    const since = Date.now();
    const [refused, served] = verdictsOf(await observeStrictMtls(env));
    const [kiali] = verdictsOf(await observeKialiMtls(env, since));
    expect(kiali!.pass).toBe(false);
    expect(kiali!.sentence).toMatch(/\d of \d+ edges with traffic into bookinfo over the last \d+ s carried requests without mutual TLS: .*unknown → productpage-v1 \([\d.]+\/s, no isMTLS: no mTLS seen\)/);
    expect(refused!.pass).toBe(false);
    expect(refused!.sentence).toMatch(/^plaintext from outside the mesh is refused by the sidecar \(connection reset after it was accepted or connection closed without a reply or TLS handshake failed\): 0 of 88 requests; 88 exceptions: #1 HTTP 200/);
    expect(served!.pass, served!.sentence).toBe(true);
  }, 40_000);

  it("fails Kiali's sidecars for a pod started without one, and its validations for a subset that selects no pod", async () => {
    const { env, sim } = mesh();
    sim.break({ kind: 'no-sidecar', workload: 'ratings-v1' });
    const [sidecars] = verdictsOf(await observeKialiSidecars(env));
    sim.heal();
    expect(sidecars!.pass).toBe(false);
    expect(sidecars!.sentence).toMatch(/: ratings-v1: 1 pod, no sidecar \(of 6 workloads in bookinfo\)$/);
    const [rule] = sim.objects('DestinationRule').filter((o) => o.metadata.name === 'reviews');
    const withV4 = structuredClone(rule!);
    (withV4.spec as { subsets: { name: string; labels: Record<string, string> }[] }).subsets.push({ name: 'v4', labels: { version: 'v4' } });
    sim.apply([withV4]);
    const [validations] = verdictsOf(await observeKialiValidations(env, 'mtls-strict'));
    sim.apply([rule!]);
    expect(validations!.pass).toBe(false);
    expect(validations!.sentence).toMatch(/: Kiali validated \d+ Istio objects in bookinfo \(cluster Kubernetes\): 1 errors, 0 warnings; Kiali finds an error in the configuration as applied$/);
  });
});
