import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { startPgliteMaintenance } from '../../server/db/pglite-maintenance.ts';
import { nextStreamPositions } from '../../server/db/stream.ts';
import { transaction } from '../../server/db/transaction.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';
import { openScratchPglite, type ScratchPglite } from '../support/scratch-pglite.ts';

/**
 * PGlite runs no autovacuum: the server's own maintenance gives its tables planner statistics
 * and reclaims dead rows once enough was written. Whichever leg runs this file, it opens PGlite.
 */
const log = pino({ level: 'silent' });
let scratch: ScratchPglite;
let db: Database;

beforeAll(async () => {
  scratch = await openScratchPglite('pglite-maintenance');
  db = scratch.db;
  await migrate(db.sql, readMigrations(MIGRATIONS_DIR), log);
  await db.sql`create table maintenance_probe (id int primary key, v int)`;
}, 120_000);

afterAll(async () => {
  await scratch?.close();
});

interface ProbeStats {
  analyzed: Date | null;
  dead: number;
  tuples: number;
  columnsWithStats: number;
}
async function probe(): Promise<ProbeStats> {
  const [r] = await db.sql<ProbeStats[]>`
    select s.last_analyze as analyzed, s.n_dead_tup::int as dead, c.reltuples::int as tuples,
      (select count(*)::int from pg_stats where tablename = 'maintenance_probe') as "columnsWithStats"
    from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.relname = 'maintenance_probe'`;
  return r!;
}

describe('maintenance of the embedded database', () => {
  it('analyzes and vacuums every table at start, again once enough was written, and not while idle', async () => {
    const maintenance = startPgliteMaintenance(db.sql, log, { checkEveryMs: 3_600_000, minWrites: 50, scale: 0.1 });
    try {
      await maintenance.runDue();
      const first = await probe();
      expect(first.analyzed).not.toBeNull();
      const tables = await db.sql<{ relname: string }[]>`select relname from pg_stat_user_tables where last_analyze is null`;
      expect(tables.map((t) => t.relname)).toEqual([]);

      await db.sql`insert into maintenance_probe select g, g from generate_series(1, 2000) g`;
      await db.sql`update maintenance_probe set v = v + 1 where id <= 1000`;
      // A backend flushes its table counters at most once a second; an update's dead rows still
      // pending when VACUUM reports its count would land on top of it afterwards (CI saw 1000).
      await db.sql`select pg_stat_force_next_flush()`;
      // Not enough written to the stream yet: nothing runs.
      await transaction(db.sql, (tx) => nextStreamPositions(tx, 10));
      await maintenance.runDue();
      expect((await probe()).analyzed).toEqual(first.analyzed);

      await transaction(db.sql, (tx) => nextStreamPositions(tx, 100));
      await maintenance.runDue();
      const after = await probe();
      expect(after.analyzed!.getTime()).toBeGreaterThan(first.analyzed!.getTime());
      expect(after).toMatchObject({ dead: 0, tuples: 2000, columnsWithStats: 2 });
    } finally {
      await maintenance.stop();
    }
  }, 120_000);

  it('a restart with every table analyzed runs no round until enough is written again', async () => {
    const before = await probe();
    expect(before.analyzed).not.toBeNull();
    const maintenance = startPgliteMaintenance(db.sql, log, { checkEveryMs: 3_600_000, minWrites: 50, scale: 0.1 });
    try {
      await maintenance.runDue();
      expect((await probe()).analyzed).toEqual(before.analyzed);
      await transaction(db.sql, (tx) => nextStreamPositions(tx, 100));
      await maintenance.runDue();
      expect((await probe()).analyzed!.getTime()).toBeGreaterThan(before.analyzed!.getTime());
    } finally {
      await maintenance.stop();
    }
  }, 120_000);
});
