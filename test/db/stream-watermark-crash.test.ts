import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { openDatabase, type Database, type Sql } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { nextStreamPosition, streamWatermark } from '../../server/db/stream.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';
import { writeTestConfig } from '../support/homeserver.ts';

/**
 * The stream watermark W is not held back by a position whose backend died (the
 * advisory lock goes with the session). PostgreSQL only (vitest.config.ts): PGlite
 * is one session. Its own file: after a backend was terminated under it, the
 * driver's later reservations in the same process were seen to hang with no
 * backend busy and no lock held, so nothing else runs after it here.
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
    rollback: async () => {
      try {
        await conn`rollback`;
      } finally {
        conn.release();
      }
    },
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
    // The dead connection errors; the driver replaces it.
    await doomed.commit().catch(() => {});
  });
});
