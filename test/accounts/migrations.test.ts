import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { openDatabase } from '../../server/db/database.ts';
import { migrate, migrateDown, readMigrations, SchemaTooNewError } from '../../server/db/migrate.ts';
import { MIGRATIONS_DIR, startHomeserver } from '../../server/main.ts';
import { writeTestConfig } from '../support/homeserver.ts';

const log = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

async function database() {
  const { configPath, dropDb } = await writeTestConfig();
  if (dropDb) cleanups.push(dropDb);
  const config = loadConfig({ configPath, env: {} });
  const open = () => openDatabase({ url: config.database.url, maxConnections: 1, dataDir: config.data_dir, log });
  return { config, open };
}

describe('migrations', () => {
  const migrations = readMigrations(MIGRATIONS_DIR);

  it('are numbered pairs, applied once and recorded', async () => {
    expect(migrations.length).toBeGreaterThan(0);
    const { open } = await database();
    const db = await open();
    try {
      await migrate(db.sql, migrations, log);
      const again = await migrate(db.sql, migrations, log);
      expect(again.applied).toEqual([]);
      const rows = await db.sql<{ version: number }[]>`select version from schema_migrations order by version`;
      expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    } finally {
      await db.close();
    }
  });

  it('roll back with their down files and apply again', async () => {
    const { open } = await database();
    const db = await open();
    try {
      await migrate(db.sql, migrations, log);
      const newest = migrations.at(-1)!.version;
      expect(await migrateDown(db.sql, migrations, 1, log)).toEqual([newest]);
      const { applied } = await migrate(db.sql, migrations, log);
      expect(applied).toEqual([newest]);
    } finally {
      await db.close();
    }
  });

  it('the server refuses a database whose schema is newer than it knows', async () => {
    const { config, open } = await database();
    const db = await open();
    try {
      await migrate(db.sql, migrations, log);
      await db.sql`insert into schema_migrations (version, name) values (999999, 'from_the_future')`;
    } finally {
      await db.close();
    }
    await expect(startHomeserver(config, { log })).rejects.toBeInstanceOf(SchemaTooNewError);
    // Nothing was applied or removed by the refused start.
    const check = await open();
    try {
      const [row] = await check.sql<{ n: number }[]>`select count(*)::bigint as n from schema_migrations where version = 999999`;
      expect(row!.n).toBe(1);
    } finally {
      await check.close();
    }
  });
});
