import { describe, expect, it } from 'vitest';
import { pollUntil, PollTimeoutError } from '../../helpers/wait/poll.ts';

describe('pollUntil', () => {
  it('returns the value once the probe is done', async () => {
    let calls = 0;
    const value = await pollUntil({ what: 'the third call', timeoutMs: 2_000, intervalMs: 5 }, async () => {
      calls += 1;
      return calls >= 3 ? { done: true, value: calls } : { done: false, seen: `call ${calls}` };
    });
    expect(value).toBe(3);
  });

  it('needs the given number of successes in a row; a failure resets the streak', async () => {
    const script = [true, true, false, true, true, true, false];
    let i = 0;
    const seenAt = await pollUntil(
      { what: 'three in a row', timeoutMs: 2_000, intervalMs: 1, consecutiveSuccesses: 3 },
      async () => (script[i++] ? { done: true, value: i } : { done: false, seen: 'miss' }),
    );
    expect(seenAt).toBe(6);
  });

  it('names the wait and what it last saw when the deadline passes', async () => {
    const error = await pollUntil({ what: 'istiod to answer', timeoutMs: 120, intervalMs: 20 }, async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:15014');
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PollTimeoutError);
    expect((error as Error).message).toMatch(
      /^timed out after 120 ms waiting for istiod to answer; last seen: connect ECONNREFUSED 127\.0\.0\.1:15014 \(\d+ probes\)$/,
    );
  });

  it('abandons a probe that hangs past the deadline', async () => {
    const started = performance.now();
    const error = await pollUntil({ what: 'a hanging probe', timeoutMs: 100, intervalMs: 10 }, () => new Promise(() => {})).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PollTimeoutError);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
