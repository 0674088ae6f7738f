import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.ts';
import { openScratchPglite, type ScratchPglite } from '../support/scratch-pglite.ts';

/**
 * The embedded database runs with a small buffer pool (server/db/pglite-settings.ts).
 * Whichever leg runs this file, it opens PGlite itself: the settings are the embedded
 * engine's, a real PostgreSQL keeps its operator's.
 */
let scratch: ScratchPglite;
let db: Database;
let dataDir: string;

beforeAll(async () => {
  scratch = await openScratchPglite('pglite-settings');
  ({ db, dataDir } = scratch);
});

afterAll(async () => {
  await scratch?.close();
});

describe('embedded PostgreSQL settings', () => {
  it('uses the small buffer pool even though the data directory was made with initdb defaults', async () => {
    expect(readFileSync(join(dataDir, 'pglite', 'postgresql.conf'), 'utf8')).toMatch(/^shared_buffers = 128MB/m);
    const [row] = await db.sql<{ shared_buffers: string }[]>`show shared_buffers`;
    expect(row!.shared_buffers).toBe('16MB');
  });

  it('reads and updates a table several times the size of the buffer pool', async () => {
    // ~45MB of heap pages: every pass evicts, rereads and writes back pages through the small pool.
    await db.sql`create table big_rows as select g as id, 'x' || repeat(md5(g::text), 16) as body from generate_series(1, 80000) g`;
    await db.sql`update big_rows set body = upper(body) where id % 2 = 0`;
    const [r] = await db.sql<{ n: number; upper: number; bytes: number }[]>`
      select count(*)::int as n, count(*) filter (where body = upper(body))::int as upper, sum(length(body))::int as bytes
      from big_rows`;
    expect(r).toEqual({ n: 80000, upper: 40000, bytes: 80000 * 513 });
    const [size] = await db.sql<{ mb: number }[]>`select (pg_relation_size('big_rows') / 1048576)::int as mb`;
    expect(size!.mb).toBeGreaterThan(3 * 16);
  });
});
