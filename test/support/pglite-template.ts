import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { openDatabase } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';

/**
 * initdb inside PGlite takes seconds; tests copy an initialised, migrated data
 * directory made once (vitest globalSetup) instead.
 *
 * Several test runs may share this machine's tmpdir at once (developers, CI), so a
 * template is never opened again once made: its name carries a hash of the
 * migrations and of the PGlite version, it is built under a private name and
 * renamed into place whole, and a run that finds it ready only copies it.
 */
function templateKey(): string {
  const h = createHash('sha256');
  // The package does not export its package.json: read it beside its entry point.
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  h.update(readFileSync(join(dir, 'package.json')));
  for (const m of readMigrations(MIGRATIONS_DIR)) h.update(`${m.version} ${m.name}\n${m.up}\n${m.down}\n`);
  return h.digest('hex').slice(0, 16);
}

export const TEMPLATE_DIR = join(tmpdir(), `commcomms-pglite-template-${templateKey()}`);
const READY = join(TEMPLATE_DIR, 'ready');

export default async function setup(): Promise<void> {
  if (existsSync(READY)) return;
  const building = `${TEMPLATE_DIR}.building-${process.pid}-${randomBytes(4).toString('hex')}`;
  const log = pino({ level: 'silent' });
  try {
    const db = await openDatabase({ url: null, maxConnections: 1, dataDir: building, log });
    try {
      await migrate(db.sql, readMigrations(MIGRATIONS_DIR), log);
    } finally {
      await db.close();
    }
    // The marker goes in before the rename, so a visible template is always complete.
    writeFileSync(join(building, 'ready'), new Date().toISOString());
    try {
      renameSync(building, TEMPLATE_DIR);
    } catch (err) {
      // Another run renamed its template into place first: use that one.
      if (!existsSync(READY)) throw err;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

export function copyTemplate(dataDir: string): void {
  cpSync(join(TEMPLATE_DIR, 'pglite'), join(dataDir, 'pglite'), { recursive: true });
}
