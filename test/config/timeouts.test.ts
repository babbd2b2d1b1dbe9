import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../helpers/config/timeouts.ts';

describe('formatDuration', () => {
  it('writes milliseconds below a second, rounded', () => {
    expect([0, 12, 999.4].map(formatDuration)).toEqual(['0 ms', '12 ms', '999 ms']);
  });

  it('keeps two decimals of a second where a verdict needs them, and drops trailing zeros', () => {
    expect([999.6, 1_000, 1_500, 7_010, 7_100, 7_004, 30_000, 90_000].map(formatDuration)).toEqual(['1 s', '1 s', '1.5 s', '7.01 s', '7.1 s', '7 s', '30 s', '90 s']);
  });

  it('leads with whole minutes from two minutes on, and keeps the seconds exact', () => {
    expect([119_994, 119_996, 150_000, 180_370, 182_400, 600_000].map(formatDuration)).toEqual(['119.99 s', '2 min', '2 min 30 s', '3 min 0.37 s', '3 min 2.4 s', '10 min']);
  });
});
