import type { Sql, Tx } from './database.ts';

/**
 * Runs `fn` in a transaction on a connection reserved *before* BEGIN is sent.
 * postgres.js 3.4.9's own `sql.begin()` can send BEGIN on a connection it has
 * not yet reserved when that BEGIN fills the connection's pipeline (upstream
 * porsager/postgres#823, #1189); under load another query then lands inside
 * the transaction and the driver fails it with UNSAFE_TRANSACTION.
 */
export async function transaction<T>(sql: Sql, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const conn = await sql.reserve();
  let lost = false;
  try {
    // BEGIN is not awaited on its own: `fn`'s first queries follow it in the same
    // write, which saves a round trip per transaction. Queries on one connection
    // run in the order sent, and a BEGIN that fails means a lost session, where
    // every later query fails too; its error is surfaced below either way.
    const begun = conn`begin`.execute();
    begun.catch(() => {});
    let result: T;
    try {
      result = await fn(conn as unknown as Tx);
      await begun;
    } catch (err) {
      lost = connectionLost(err);
      if (!lost) await conn`rollback`.catch(() => {});
      throw err;
    }
    await conn`commit`;
    return result;
  } catch (err) {
    lost ||= connectionLost(err);
    throw err;
  } finally {
    // A lost connection is not handed back: the pool has parked it as closed
    // (and reconnects it on demand; the first reservation to do so may be
    // failed with the lost session's error). Released, it would be queued as
    // open with no socket, and every query given it would hang.
    if (!lost) conn.release();
  }
}

/**
 * Whether `err` says the session is gone (its backend was terminated, the socket
 * closed). The server has then rolled the transaction back itself, and nothing
 * may be sent on the reserved connection: postgres.js 3.4.9 schedules the write
 * on a socket it has already dropped, which throws outside any promise (an
 * uncaught TypeError) and leaves the query pending forever. (A query `fn` sends
 * after the loss but before any of its queries failed meets that same driver
 * bug; there is no hook on a reserved connection's close to prevent it.)
 */
function connectionLost(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, severity, syscall } = err as { code?: unknown; severity?: unknown; syscall?: unknown };
  if (code === 'CONNECTION_CLOSED' || code === 'CONNECTION_DESTROYED' || code === 'CONNECTION_ENDED') return true;
  // FATAL and PANIC end the session (57P01 admin_shutdown when a backend is terminated).
  if (severity === 'FATAL' || severity === 'PANIC') return true;
  // A socket error (ECONNRESET, EPIPE) from node:net.
  return typeof syscall === 'string';
}
