import { transaction } from './transaction.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Sql } from './database.ts';

export interface Migration {
  version: number;
  name: string;
  up: string;
  down: string;
}

const FILE = /^(\d{6})_([a-z0-9_]+)\.(up|down)\.sql$/;

/** Read NNNNNN_name.up.sql / .down.sql pairs (golang-migrate's naming). */
export function readMigrations(dir: string): Migration[] {
  const byVersion = new Map<number, Partial<Migration>>();
  for (const file of readdirSync(dir)) {
    const m = FILE.exec(file);
    if (!m) continue;
    const version = Number(m[1]);
    const entry = byVersion.get(version) ?? { version, name: m[2] };
    if (entry.name !== m[2]) throw new Error(`migration ${version} has two names: ${entry.name} and ${m[2]}`);
    entry[m[3] as 'up' | 'down'] = readFileSync(join(dir, file), 'utf8');
    byVersion.set(version, entry);
  }
  return [...byVersion.values()]
    .map((m) => {
      if (m.up === undefined || m.down === undefined) throw new Error(`migration ${m.version}_${m.name} lacks its up or down file`);
      return m as Migration;
    })
    .sort((a, b) => a.version - b.version);
}

export class SchemaTooNewError extends Error {
  constructor(dbVersion: number, known: number) {
    super(
      `database schema is at version ${dbVersion}, newer than this CommComms knows (${known}); upgrade CommComms before starting it on this database`,
    );
    this.name = 'SchemaTooNewError';
  }
}

// An arbitrary constant: several processes starting at once migrate one at a time.
const MIGRATION_LOCK = 0x636f6d6d;

export async function migrate(sql: Sql, migrations: Migration[], log: Logger): Promise<{ applied: number[]; version: number }> {
  return transaction(sql, async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`create table if not exists schema_migrations (
      version bigint primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )`;
    const rows = await tx<{ version: number }[]>`select version from schema_migrations order by version`;
    const done = new Set(rows.map((r) => r.version));
    const known = migrations.at(-1)?.version ?? 0;
    const newest = rows.at(-1)?.version ?? 0;
    if (newest > known) throw new SchemaTooNewError(newest, known);
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.unsafe(m.up);
      await tx`insert into schema_migrations (version, name) values (${m.version}, ${m.name})`;
      applied.push(m.version);
      log.info({ version: m.version, name: m.name }, 'migration applied');
    }
    return { applied, version: Math.max(newest, applied.at(-1) ?? 0) };
  });
}

/** Roll back the newest `steps` migrations (CLI `migrate --down N`). */
export async function migrateDown(sql: Sql, migrations: Migration[], steps: number, log: Logger): Promise<number[]> {
  return transaction(sql, async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    const rows = await tx<{ version: number }[]>`select version from schema_migrations order by version desc limit ${steps}`;
    const reverted: number[] = [];
    for (const { version } of rows) {
      const m = migrations.find((x) => x.version === version);
      if (!m) throw new Error(`migration ${version} is not known to this build; cannot roll it back`);
      await tx.unsafe(m.down);
      await tx`delete from schema_migrations where version = ${version}`;
      reverted.push(version);
      log.info({ version, name: m.name }, 'migration reverted');
    }
    return reverted;
  });
}
