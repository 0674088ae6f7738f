/**
 * Serialises writes to one room inside this process, so events are built on the
 * room's latest extremity one after another and the DAG never forks. Across
 * processes the writer also takes a PostgreSQL advisory lock per room.
 */
export function createRoomLocks() {
  const tails = new Map<string, Promise<unknown>>();
  return async function withRoomLock<T>(roomId: string, fn: () => Promise<T>): Promise<T> {
    const prev = tails.get(roomId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    tails.set(roomId, tail);
    try {
      return await run;
    } finally {
      if (tails.get(roomId) === tail) tails.delete(roomId);
    }
  };
}

export type RoomLocks = ReturnType<typeof createRoomLocks>;
