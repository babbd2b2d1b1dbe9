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

  it.each([
    ['dns', /#1 the name did not resolve \(curl exit code 6\)/],
    ['refused', /#1 connection refused \(curl exit code 7\)/],
  ] as const)('does not count a client that never reached the mesh (%s) as refused by it, and fails the control too', async (fails, seen) => {
    const { sim, apply, envWith } = mesh();
    sim.break({ kind: 'legacy-client', fails });
    // curl's threaded resolver can stall a few parallel transfers that fail to resolve until --max-time.
    const quick = { request: 1_500 };
    const [before] = verdictsOf(await observePlaintextServedBefore(envWith(quick)));
    expect(before!.pass).toBe(false);
    expect(before!.sentence).toMatch(seen);
    await apply(strictFile);
    // Long enough for one probe of the four servers to finish on a loaded machine, so the error says what it saw.
    const notLive = await provePlaintextRefused(envWith({ ...quick, configLive: 4 * quick.request + 1_000 }), 'STRICT mTLS').catch((e: unknown) => e);
    expect((notLive as Error).message).toMatch(/plaintext to productpage: (the name did not resolve|connection refused)/);
    const [refused] = verdictsOf(await observeStrictMtls(envWith({ ...quick, metricPropagation: 2_000 })));
    expect(refused!.pass).toBe(false);
    expect(refused!.sentence).toMatch(seen);
  }, 40_000);

  it('fails a plaintext client that times out as never having reached the mesh', async () => {
    const { sim, apply, envWith } = mesh();
    await apply(strictFile);
    sim.break({ kind: 'legacy-client', fails: 'timeout' });
    const [refused] = verdictsOf(await observeStrictMtls(envWith({ request: 500, metricPropagation: 2_000 })));
    expect(refused!.pass).toBe(false);
    expect(refused!.sentence).toMatch(/#1 timed out \(curl exit code 28\)/);
  }, 40_000);
});
