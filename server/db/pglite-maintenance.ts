import type { Logger } from 'pino';
import type { Sql } from './database.ts';
import { streamWatermark } from './stream.ts';

export interface PgliteMaintenanceOptions {
  /** How often to look whether enough was written for a round. */
  checkEveryMs: number;
  /** Stream positions written since the last round that make the next one due. */
  minWrites: number;
  /** And the share of the stream's length (as autovacuum's scale factor), whichever is more. */
  scale: number;
}

export const PGLITE_MAINTENANCE: PgliteMaintenanceOptions = { checkEveryMs: 30_000, minWrites: 500, scale: 0.1 };

/**
 * What autovacuum does on PostgreSQL, for PGlite, which runs as one backend without it: tables
 * never get planner statistics there, so the planner guesses, and guesses badly once tables grow
 * (a user in 500 rooms: 44 ms for a presence query that takes 1.6 ms once analyzed), and dead rows
 * of updated tables are never reclaimed. A round runs `VACUUM (ANALYZE)` table by table (other
 * queries run between tables) whenever the stream has grown by `minWrites` positions or `scale`
 * of its length since the last round, like autovacuum's thresholds; an idle server does nothing.
 * Statistics are kept on disk, so a restart runs a round at once only if a table has never been
 * analyzed (a new database, a migration's new table).
 */
export function startPgliteMaintenance(sql: Sql, log: Logger, opts: PgliteMaintenanceOptions = PGLITE_MAINTENANCE) {
  let lastPos = -Infinity;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function round(): Promise<void> {
    const pos = await streamWatermark(sql);
    if (lastPos === -Infinity && !(await someTableUnanalyzed())) lastPos = pos;
    if (pos - lastPos < Math.max(opts.minWrites, opts.scale * pos)) return;
    const tables = await sql<{ name: string }[]>`
      select format('%I.%I', schemaname, relname) as name from pg_stat_user_tables order by relname`;
    const started = performance.now();
    for (const t of tables) {
      if (stopped) return;
      await sql.unsafe(`vacuum (analyze) ${t.name}`);
    }
    lastPos = pos;
    log.debug({ tables: tables.length, ms: Math.round(performance.now() - started), pos }, 'pglite maintenance round');
  }

  async function someTableUnanalyzed(): Promise<boolean> {
    // reltuples is -1 until a table's first VACUUM or ANALYZE.
    const [row] = await sql<{ any: boolean }[]>`
      select exists (select 1 from pg_stat_user_tables s join pg_class c on c.oid = s.relid where c.reltuples < 0) as any`;
    return row!.any;
  }

  function tick(): void {
    if (running || stopped) return;
    running = round()
      .catch((err: unknown) => log.warn({ err }, 'pglite maintenance round failed'))
      .finally(() => (running = undefined));
  }

  tick();
  const timer = setInterval(tick, opts.checkEveryMs);
  timer.unref();
  return {
    /** Resolves when the round in progress (if any) has finished its current table. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await running;
    },
    /** Runs a round now if one is due, and resolves when it is done (for tests). */
    async runDue(): Promise<void> {
      await running;
      tick();
      await running;
    },
  };
}
