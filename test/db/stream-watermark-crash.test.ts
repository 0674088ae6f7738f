import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { openDatabase, type Database, type Sql } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { nextStreamPosition, streamWatermark } from '../../server/db/stream.ts';
import { transaction } from '../../server/db/transaction.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';
import { writeTestConfig } from '../support/homeserver.ts';

/**
 * A backend that dies under a writer: the stream watermark W is not held back by
 * the position it took (the advisory lock goes with the session), and the
 * writer's transaction fails at once instead of hanging. PostgreSQL only
 * (vitest.config.ts): PGlite is one session. Nothing may be sent on a reserved
 * connection whose backend is gone: postgres.js 3.4.9 then throws an uncaught
 * TypeError and never settles the query (see server/db/transaction.ts).
 */
const log = pino({ level: 'silent' });
let db: Database;
let dbUrl: string | null;
let dataDir: string;
let dropDb: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const written = await writeTestConfig();
  dropDb = written.dropDb;
  const config = loadConfig({ configPath: written.configPath, env: {} });
  dbUrl = config.database.url;
  dataDir = config.data_dir;
  db = await openDatabase({ url: dbUrl, maxConnections: 20, dataDir, log });
  await migrate(db.sql, readMigrations(MIGRATIONS_DIR), log);
  await db.sql`create table if not exists watermark_probe (pos bigint primary key)`;
});

afterAll(async () => {
  await db?.close();
  await dropDb?.();
});

/** A transaction left open on its own connection, so a test decides when it ends. */
async function openTx(sql: Sql) {
  const conn = await sql.reserve();
  await conn`begin`;
  const tx = conn as unknown as Sql;
  const [{ pid }] = (await conn<{ pid: number }[]>`select pg_backend_pid()::int as pid`) as unknown as [{ pid: number }];
  return {
    tx,
    pid,
    take: () => nextStreamPosition(tx),
    commit: async () => {
      try {
        await conn`commit`;
      } finally {
        conn.release();
      }
    },
    /**
     * For a connection whose backend is gone: neither a word on it nor a release
     * (the pool has parked it as closed; see server/db/transaction.ts).
     */
    abandon: () => {},
  };
}

describe('stream watermark and a dead backend', () => {
  it('is not blocked by a position whose backend died', async () => {
    const doomed = await openTx(db.sql);
    const p = await doomed.take();
    const later = await openTx(db.sql);
    const q = await later.take();
    await later.commit();
    expect(await streamWatermark(db.sql)).toBe(p - 1);
    await db.sql`select pg_terminate_backend(${doomed.pid})`;
    await expect.poll(() => streamWatermark(db.sql)).toBe(q);
    doomed.abandon();
  });

  it('fails at once the transaction of a writer whose backend died, and the pool goes on', async () => {
    let taken = 0;
    const started = Date.now();
    const run = transaction(db.sql, async (tx) => {
      const [{ pid }] = (await tx<{ pid: number }[]>`select pg_backend_pid()::int as pid`) as unknown as [{ pid: number }];
      taken = await nextStreamPosition(tx);
      await tx`insert into watermark_probe (pos) values (${taken})`;
      const sleeping = tx`select pg_sleep(30)`.execute();
      setTimeout(() => void db.sql`select pg_terminate_backend(${pid})`.execute(), 100);
      await sleeping;
    });
    const err = (await run.then(
      () => null,
      (e: unknown) => e,
    )) as { code?: string } | null;
    // The FATAL 57P01 itself, or the socket's close when that is read first.
    expect(['57P01', 'CONNECTION_CLOSED']).toContain(err?.code);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await db.sql`select pos from watermark_probe where pos = ${taken}`).toHaveLength(0);
    await expect.poll(() => streamWatermark(db.sql)).toBeGreaterThanOrEqual(taken);
    // Every reservation settles; the driver may hand the lost connection's error
    // to the one that reconnects it, once. After that every connection serves.
    const round = () => Promise.allSettled(Array.from({ length: 20 }, () => transaction(db.sql, (tx) => tx`select 1 as one`)));
    const first = await round();
    expect(first.filter((r) => r.status === 'rejected').length).toBeLessThanOrEqual(1);
    expect((await round()).every((r) => r.status === 'fulfilled')).toBe(true);
  });
});
