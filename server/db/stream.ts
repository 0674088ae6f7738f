import type { Tx } from './database.ts';

// Held until commit: positions become visible in the order they were taken, so a
// reader that has seen position N has seen every change before it. Take it as the
// last step of a transaction to keep the serialised part short.
const STREAM_LOCK = 0x73747265;

/**
 * Take the stream lock until this transaction ends. The domain-event outbox takes it
 * too, so outbox ids also become visible in the order they were taken, and one lock
 * (not two taken in either order) can never deadlock a writer that does both.
 */
export async function holdStreamLock(tx: Tx): Promise<void> {
  await tx`select pg_advisory_xact_lock(${STREAM_LOCK})`;
}

/** Waits until every transaction holding the stream lock now has committed or rolled back. */
export async function awaitStreamWriters(sql: Tx): Promise<void> {
  await sql`select pg_advisory_xact_lock_shared(${STREAM_LOCK})`;
}

export async function nextStreamPosition(tx: Tx): Promise<number> {
  await holdStreamLock(tx);
  const [row] = await tx<{ pos: number }[]>`select nextval('stream_positions')::bigint as pos`;
  return row!.pos;
}

/** The newest committed position (waits for a writer holding the stream lock to commit). */
export async function committedStreamPosition(sql: Tx): Promise<number> {
  const [row] = await sql<{ pos: number }[]>`
    select case when is_called then last_value else 0 end::bigint as pos
    from stream_positions, (select pg_advisory_xact_lock_shared(${STREAM_LOCK})) l`;
  return row!.pos;
}
