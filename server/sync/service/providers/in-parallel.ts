/**
 * Maps `items` through `fn` with at most `limit` calls in flight, results in input order.
 * A sync's rooms are independent reads bounded by the same positions, so a user in many rooms
 * waits for the slowest few round trips instead of the sum of all of them.
 */
export async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
