import { describe, expect, it } from 'vitest';
import { inParallel } from './in-parallel.ts';

describe('inParallel', () => {
  it.each([
    [0, 4],
    [1, 4],
    [3, 4],
    [10, 4],
    [10, 1],
  ])('%i items, at most %i at once: results in input order, never more in flight than the limit', async (n, limit) => {
    let inFlight = 0;
    let most = 0;
    const items = Array.from({ length: n }, (_, i) => i);
    const out = await inParallel(items, limit, async (i) => {
      most = Math.max(most, ++inFlight);
      // Later items finish first, so order comes from the index, not from completion.
      await new Promise((resolve) => setTimeout(resolve, (n - i) * 2));
      inFlight -= 1;
      return i * 10;
    });
    expect(out).toEqual(items.map((i) => i * 10));
    expect(most).toBe(Math.min(limit, n));
  });

  it('a failure rejects the whole map', async () => {
    await expect(
      inParallel([1, 2, 3], 2, async (i) => {
        if (i === 2) throw new Error('boom');
        return i;
      }),
    ).rejects.toThrow('boom');
  });
});
