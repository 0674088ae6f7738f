/** How one item of a batch ended. */
export type Settled<R> = { value: R } | { error: unknown };

/**
 * Group commit per room. A room's writes are serialised anyway, so the sends that
 * arrive while one is being written wait, and then all go in the next write
 * together: one transaction (one BEGIN, lock and COMMIT, one WAL flush) for the
 * batch instead of one each. Nothing waits to fill a batch: a send to an idle room
 * is written at once, alone, and batches form only under load, as large as it is.
 */
export function createSendQueue<T, R>(
  flush: (roomId: string, items: T[]) => Promise<Array<Settled<R>>>,
  maxBatch: number,
): (roomId: string, item: T) => Promise<R> {
  const queues = new Map<string, Array<{ item: T; resolve: (r: R) => void; reject: (err: unknown) => void }>>();

  async function drain(roomId: string, queue: NonNullable<ReturnType<typeof queues.get>>): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      let outcomes: Array<Settled<R>>;
      try {
        outcomes = await flush(
          roomId,
          batch.map((b) => b.item),
        );
      } catch (error) {
        outcomes = batch.map(() => ({ error }));
      }
      batch.forEach((b, i) => {
        const o = outcomes[i] ?? { error: new Error('the batch gave no outcome for this item') };
        if ('value' in o) b.resolve(o.value);
        else b.reject(o.error);
      });
    }
    queues.delete(roomId);
  }

  return (roomId, item) =>
    new Promise<R>((resolve, reject) => {
      const queued = queues.get(roomId);
      if (queued) {
        queued.push({ item, resolve, reject });
        return;
      }
      const queue = [{ item, resolve, reject }];
      queues.set(roomId, queue);
      void drain(roomId, queue);
    });
}
