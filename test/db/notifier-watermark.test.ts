import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { openDatabase, type Database, type Sql } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { nextStreamPosition, streamWatermark } from '../../server/db/stream.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';
import { createNotifier } from '../../server/notifier/notifier.ts';
import { TEST_DB, writeTestConfig } from '../support/homeserver.ts';

/**
 * The notifier against the real watermark: it never moves /sync's upper bound
 * past W, holds a change committed above W and delivers it once W passes it.
 * Commits out of order need two sessions: PostgreSQL only.
 */
const log = pino({ level: 'silent' });
let db: Database;
let dropDb: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const written = await writeTestConfig();
  dropDb = written.dropDb;
  const config = loadConfig({ configPath: written.configPath, env: {} });
  db = await openDatabase({ url: config.database.url, maxConnections: 10, dataDir: config.data_dir, log });
  await migrate(db.sql, readMigrations(MIGRATIONS_DIR), log);
});

afterAll(async () => {
  await db?.close();
  await dropDb?.();
});

async function openTx(sql: Sql) {
  const conn = await sql.reserve();
  await conn`begin`;
  const tx = conn as unknown as Sql;
  return {
    take: () => nextStreamPosition(tx),
    end: async (how: 'commit' | 'rollback') => {
      await conn.unsafe(how);
      conn.release();
    },
  };
}

const room = { userId: '@a:x', rooms: new Set(['!r:x']) };

describe('notifier and the stream watermark', () => {
  it('delivers a change after a rolled-back position once W has passed it', async () => {
    const notifier = createNotifier({ pos: await streamWatermark(db.sql), typing: 0 }, { watermark: () => streamWatermark(db.sql) });
    const since = notifier.current();
    const lost = await openTx(db.sql);
    await lost.take();
    await lost.end('rollback');
    const t = await openTx(db.sql);
    const p = await t.take();
    await t.end('commit');
    const woke = notifier.wait(room, since, 60_000);
    notifier.notify({ pos: p, roomId: '!r:x' });
    await woke;
    expect(notifier.current().pos).toBe(p);
    notifier.close();
  });

  it('has a change announced above an unannounced position in current() once settled', async () => {
    const notifier = createNotifier({ pos: await streamWatermark(db.sql), typing: 0 }, { watermark: () => streamWatermark(db.sql) });
    // Like an outbox id: taken and committed, never announced.
    const silent = await openTx(db.sql);
    await silent.take();
    await silent.end('commit');
    const t = await openTx(db.sql);
    const p = await t.take();
    await t.end('commit');
    notifier.notify({ pos: p, roomId: '!r:x' });
    // Held until W is read: a /sync reading current() now would miss the change.
    expect(notifier.current().pos).toBeLessThan(p);
    await notifier.settled();
    expect(notifier.current().pos).toBe(p);
    notifier.close();
  });

  if (TEST_DB === 'postgres') {
    it('holds a change committed above W until the earlier position commits', async () => {
      const notifier = createNotifier({ pos: await streamWatermark(db.sql), typing: 0 }, { watermark: () => streamWatermark(db.sql) });
      const since = notifier.current();
      const first = await openTx(db.sql);
      const second = await openTx(db.sql);
      const p1 = await first.take();
      const p2 = await second.take();
      await second.end('commit');
      let woke = false;
      const waiting = notifier.wait(room, since, 60_000).then(() => (woke = true));
      notifier.notify({ pos: p2, roomId: '!r:x' });
      // Let the notifier read W (still below p1) and settle.
      await notifier.refresh();
      expect(notifier.current().pos).toBeLessThan(p1);
      expect(woke).toBe(false);
      await first.end('commit');
      notifier.notify({ pos: p1, roomId: '!elsewhere:x' });
      await waiting;
      expect(notifier.current().pos).toBe(p2);
      notifier.close();
    });

    it('delivers a held change when the earlier position rolls back, with no other announcement', async () => {
      const notifier = createNotifier({ pos: await streamWatermark(db.sql), typing: 0 }, { watermark: () => streamWatermark(db.sql) });
      const since = notifier.current();
      const first = await openTx(db.sql);
      const second = await openTx(db.sql);
      const p1 = await first.take();
      const p2 = await second.take();
      await second.end('commit');
      const woke = notifier.wait(room, since, 60_000);
      notifier.notify({ pos: p2, roomId: '!r:x' });
      await notifier.refresh();
      expect(notifier.current().pos).toBe(p1 - 1);
      await first.end('rollback');
      await woke;
      expect(notifier.current().pos).toBe(p2);
      notifier.close();
    });

    it('catches up on a change whose announcement never came, waking its waiters', async () => {
      const notifier = createNotifier({ pos: await streamWatermark(db.sql), typing: 0 }, { watermark: () => streamWatermark(db.sql) });
      const since = notifier.current();
      const woke = notifier.wait(room, since, 60_000);
      const t = await openTx(db.sql);
      const p = await t.take();
      await t.end('commit');
      // No notify: the message was lost. The reconnect path reads W and wakes everyone behind it.
      await notifier.catchUp();
      await woke;
      expect(notifier.current().pos).toBe(p);
      notifier.close();
    });

    it('the periodic refresh wakes waiters for an unannounced position after its grace', async () => {
      const notifier = createNotifier(
        { pos: await streamWatermark(db.sql), typing: 0 },
        { watermark: () => streamWatermark(db.sql), graceMs: 100, recheckMs: 20 },
      );
      const since = notifier.current();
      const woke = notifier.wait(room, since, 60_000);
      const t = await openTx(db.sql);
      const p = await t.take();
      await t.end('commit');
      await notifier.refresh();
      expect(notifier.current().pos).toBe(p);
      await woke;
      notifier.close();
    });
  }
});
