import type { Tx } from './database.ts';

/*
 * Stream positions without a lock held to commit (schema 000006_stream_watermark).
 *
 * Writers take positions from one shared sequence and commit in any order: writes
 * to different rooms run concurrently. A position is "in flight" from the moment it
 * is taken until its transaction commits, rolls back or its backend dies; the
 * database itself tracks that (a transaction-scoped advisory lock per position),
 * so it holds across processes and crashes with nothing to clean up.
 *
 * Readers never use a position above the watermark W: every position <= W has
 * committed or been abandoned, so a /sync that has read up to W has seen
 * everything before it and never skips an event committed late.
 */

/**
 * Takes the next stream position for the changes `tx` commits. W cannot pass it
 * until `tx` ends, so take it as late in the transaction as possible.
 */
export async function nextStreamPosition(tx: Tx): Promise<number> {
  const [row] = await tx<{ pos: number }[]>`select take_stream_position()::bigint as pos`;
  return row!.pos;
}

/** `n` positions at once (ascending), for a transaction that commits several changes in order. */
export async function nextStreamPositions(tx: Tx, n: number): Promise<number[]> {
  const rows = await tx<{ pos: number }[]>`select take_stream_position()::bigint as pos from generate_series(1, ${n})`;
  return rows.map((r) => r.pos).sort((a, b) => a - b);
}

/** The watermark W: the newest position at and below which nothing is still in flight. */
export async function streamWatermark(sql: Tx): Promise<number> {
  const [row] = await sql<{ pos: number }[]>`select stream_watermark()::bigint as pos`;
  return row!.pos;
}

/**
 * Waits (polling briefly) until the watermark reaches `pos`, i.e. the transaction that
 * took it has ended; gives up after `timeoutMs` (a later poll catches up then).
 */
export async function awaitWatermark(sql: Tx, pos: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await streamWatermark(sql)) < pos && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}
