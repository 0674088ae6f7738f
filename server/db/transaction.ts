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
  try {
    await conn`begin`;
    let result: T;
    try {
      result = await fn(conn as unknown as Tx);
    } catch (err) {
      await conn`rollback`.catch(() => {});
      throw err;
    }
    await conn`commit`;
    return result;
  } finally {
    conn.release();
  }
}
