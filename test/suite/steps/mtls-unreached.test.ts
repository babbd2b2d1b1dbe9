import { describe, expect, it } from 'vitest';
import { verdictsOf } from '../../../helpers/suite/step-env.ts';
import { provePlaintextRefused } from '../../../helpers/suite/live.ts';
import { observePlaintextServedBefore, observeStrictMtls } from '../../../helpers/suite/steps/mtls.ts';
import { useSimulatedMesh } from '../../support/mesh-sim/harness.ts';
import { prometheusAvailability } from '../../support/prometheus-harness.ts';

/**
 * The STRICT mTLS suite's verdicts when the plaintext client never reaches the mesh (its name does not resolve,
 * its port refuses, it times out): none of that may count as the mesh refusing plaintext.
 */
const availability = prometheusAvailability();
const strictFile = ['fixtures/features/07-mtls-strict.yaml'];

describe.skipIf(!availability.available)('the mTLS steps with a client that never reaches the mesh', () => {
  const mesh = useSimulatedMesh({ seed: 3 });

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
