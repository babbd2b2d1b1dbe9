import { describe, expect, it } from 'vitest';
import { PollTimeoutError } from '../../../helpers/wait/poll.ts';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
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
    const observed = await observeStrictMtls(env);
    const verdicts = verdictsOf(observed);
    expect(verdicts.map((v) => v.judge)).toEqual(['all-match', 'all-match', 'metric-increase']);
    for (const verdict of verdicts) expect(verdict.pass, verdict.sentence).toBe(true);
    expect(observed.recordings[0]!.requests.every((r) => r.curlExitCode === 56)).toBe(true);
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
    const [refused, served] = verdictsOf(await observeStrictMtls(env));
    expect(refused!.pass).toBe(false);
    expect(refused!.sentence).toMatch(/^plaintext from outside the mesh is refused by the sidecar \(connection reset after it was accepted or connection closed without a reply or TLS handshake failed\): 0 of 88 requests; 88 exceptions: #1 HTTP 200/);
    expect(served!.pass, served!.sentence).toBe(true);
  }, 40_000);
});
