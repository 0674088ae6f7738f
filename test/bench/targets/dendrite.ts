import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDendriteConfig } from '../dendrite/config.ts';
import type { DendriteInstall } from '../dendrite/setup.ts';
import { createDatabase } from './postgres.ts';
import { freePort, scrubbedEnv, ServerProcess } from './process.ts';
import type { RunningTarget } from './types.ts';

/** Dendrite as one process (monolith) on PostgreSQL, in a scratch directory and database. */
export async function startDendrite(install: Extract<DendriteInstall, { ok: true }>): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'dendrite-bench-'));
  const port = await freePort();
  const db = await createDatabase('denbench');
  const sharedSecret = randomBytes(24).toString('hex');
  const cleanup = async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  let proc: ServerProcess | undefined;
  try {
    const url = new URL(db.url);
    url.searchParams.set('sslmode', 'disable');
    const configPath = writeDendriteConfig({ bin: install.bin, dir, databaseUrl: url.toString(), sharedSecret });
    proc = ServerProcess.spawn(join(install.bin, 'dendrite'), ['--config', configPath, '--http-bind-address', `127.0.0.1:${port}`], {
      cwd: dir,
      env: scrubbedEnv(),
    });
    const base = `http://127.0.0.1:${port}`;
    const startupMs = await proc.waitReady(base, 300_000);
    const p = proc;
    return {
      name: 'dendrite',
      url: base,
      sharedSecret,
      pid: p.pid,
      database: `PostgreSQL (database ${db.name})`,
      dbName: db.name,
      version: `dendrite ${install.version}`,
      startupMs,
      dbSize: () => db.size(),
      output: () => p.output(),
      async stop() {
        await p.stop();
        await cleanup();
      },
    };
  } catch (e) {
    await proc?.stop(2000);
    await cleanup();
    throw e;
  }
}
