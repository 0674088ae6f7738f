import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openDatabase, type Database } from '../../server/db/database.ts';
import { copyTemplate, TEMPLATE_DIR } from './pglite-template.ts';

export interface ScratchPglite {
  db: Database;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * An embedded database of its own in a temporary directory, whichever leg runs the test. The
 * pglite leg has a migrated template; elsewhere PGlite runs initdb (slower, same result).
 */
export async function openScratchPglite(name: string): Promise<ScratchPglite> {
  const dataDir = mkdtempSync(join(tmpdir(), `commcomms-${name}-`));
  if (existsSync(join(TEMPLATE_DIR, 'ready'))) copyTemplate(dataDir);
  const db = await openDatabase({ url: null, maxConnections: 1, dataDir, log: pino({ level: 'silent' }) });
  return {
    db,
    dataDir,
    async close() {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
