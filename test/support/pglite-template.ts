import { cpSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openDatabase } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';

/**
 * initdb inside PGlite takes seconds; tests copy an initialised, migrated data
 * directory made once per run instead (vitest globalSetup).
 */
export const TEMPLATE_DIR = join(tmpdir(), `commcomms-pglite-template-${process.env.COMMCOMMS_TEMPLATE_ID ?? 'default'}`);

export default async function setup(): Promise<void> {
  // An existing template is reused and migrated forward, so only the first run pays for initdb.
  mkdirSync(TEMPLATE_DIR, { recursive: true });
  const log = pino({ level: 'silent' });
  const db = await openDatabase({ url: null, maxConnections: 1, dataDir: TEMPLATE_DIR, log });
  try {
    await migrate(db.sql, readMigrations(MIGRATIONS_DIR), log);
  } finally {
    await db.close();
  }
}

export function copyTemplate(dataDir: string): void {
  cpSync(join(TEMPLATE_DIR, 'pglite'), join(dataDir, 'pglite'), { recursive: true });
}
