/** Rows a pruning statement deletes at most: short statements and locks, however much expired. */
export const PRUNE_BATCH = 10_000;

/** Runs `deleteSome(limit)` until it deletes fewer than `limit` rows; how many it deleted in all. */
export async function pruneInBatches(deleteSome: (limit: number) => Promise<number>, limit = PRUNE_BATCH): Promise<number> {
  let removed = 0;
  for (let n = limit; n === limit; removed += n) n = await deleteSome(limit);
  return removed;
}
