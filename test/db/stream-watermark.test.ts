import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { openDatabase, type Database, type Sql } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { nextStreamPosition, streamWatermark } from '../../server/db/stream.ts';
import { transaction } from '../../server/db/transaction.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';
import { TEST_DB, writeTestConfig } from '../support/homeserver.ts';

/**
 * The stream watermark W on the leg's database: every position <= W has committed
 * or been abandoned. PGlite is one session, so the cases that need two sessions
 * at once (out-of-order commits, a dead backend, racing writers) exist only on
 * PostgreSQL and are registered only there. A dead backend: stream-watermark-crash.test.ts.
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

class RolledBack extends Error {}

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

describe('stream watermark', () => {
  it('is the newest committed position when nothing is in flight', async () => {
    const t = await openTx(db.sql);
    const p = await t.take();
    await t.commit();
    expect(await streamWatermark(db.sql)).toBe(p);
  });

  it('stays below a position its own transaction holds until that commits', async () => {
    const t = await openTx(db.sql);
    const p = await t.take();
    expect(await streamWatermark(t.tx)).toBe(p - 1);
    await t.commit();
    expect(await streamWatermark(db.sql)).toBe(p);
  });

  it('is not held back by a rolled-back position', async () => {
    const t = await openTx(db.sql);
    const p = await t.take();
    await t.rollback();
    expect(await streamWatermark(db.sql)).toBe(p);
    const after = await openTx(db.sql);
    const q = await after.take();
    await after.commit();
    expect(q).toBeGreaterThan(p);
    expect(await streamWatermark(db.sql)).toBe(q);
  });

  if (TEST_DB === 'postgres') {
    it('does not pass a position taken earlier that commits later', async () => {
      const first = await openTx(db.sql);
      const second = await openTx(db.sql);
      const p1 = await first.take();
      const p2 = await second.take();
      expect(p2).toBeGreaterThan(p1);
      await second.commit();
      expect(await streamWatermark(db.sql)).toBe(p1 - 1);
      await first.commit();
      expect(await streamWatermark(db.sql)).toBe(p2);
    });

    it('is not blocked by an earlier position rolled back while a later one commits', async () => {
      const first = await openTx(db.sql);
      const second = await openTx(db.sql);
      const p1 = await first.take();
      const p2 = await second.take();
      await second.commit();
      expect(await streamWatermark(db.sql)).toBe(p1 - 1);
      await first.rollback();
      expect(await streamWatermark(db.sql)).toBe(p2);
    });

    it('never passes a position whose rows are not yet visible (racing writers)', async () => {
      const committed = new Set<number>();
      let writing = true;
      const violations: string[] = [];
      // Writers and the reader get pools of their own, fresh ones (the shared pool has had a
      // backend terminated under it by the test above).
      const readerDb = await openDatabase({ url: dbUrl, maxConnections: 1, dataDir, log });
      const writerDb = await openDatabase({ url: dbUrl, maxConnections: 8, dataDir, log });
      const reader = (async () => {
        let reads = 0;
        while (writing || reads < 5) {
          reads += 1;
          const w = await streamWatermark(readerDb.sql);
          const visible = new Set(
            (await readerDb.sql<{ pos: number }[]>`select pos from watermark_probe where pos <= ${w}`).map((r) => r.pos),
          );
          // Every position at or below W that its writer committed must be visible now.
          for (const p of committed) if (p <= w && !visible.has(p)) violations.push(`W=${w} but ${p} not visible`);
        }
      })();
      const writer = async (n: number) => {
        for (let i = 0; i < 15; i++) {
          const rollback = (n * 7 + i) % 5 === 0;
          const p = await transaction(writerDb.sql, async (tx) => {
            const pos = await nextStreamPosition(tx);
            await tx`insert into watermark_probe (pos) values (${pos})`;
            // Commit out of order: some writers linger, a few roll back.
            if ((n + i) % 3 === 0) await tx`select pg_sleep(0.01)`;
            if (rollback) throw new RolledBack();
            return pos;
          }).catch((err: unknown) => {
            if (err instanceof RolledBack) return undefined;
            throw err;
          });
          if (p !== undefined) committed.add(p);
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, n) => writer(n)));
      writing = false;
      await reader;
      await readerDb.close();
      await writerDb.close();
      expect(violations).toEqual([]);
      // Once everything has ended, W is the sequence's newest position.
      const [{ last }] = (await db.sql<{ last: number }[]>`select last_value::bigint as last from stream_positions`) as unknown as [
        { last: number },
      ];
      expect(await streamWatermark(db.sql)).toBe(last);
    });
  }
});
