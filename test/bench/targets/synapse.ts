import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSynapseConfig } from '../synapse/config.ts';
import type { SynapseInstall } from '../synapse/setup.ts';
import { createDatabase } from './postgres.ts';
import { freePort, scrubbedEnv, ServerProcess } from './process.ts';
import type { RunningTarget } from './types.ts';

/** Synapse as a single process (no workers) on PostgreSQL, in a scratch directory and database. */
export async function startSynapse(install: Extract<SynapseInstall, { ok: true }>): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'synapse-bench-'));
  const port = await freePort();
  const db = await createDatabase('synbench');
  const sharedSecret = randomBytes(24).toString('hex');
  const cleanup = async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  let proc: ServerProcess | undefined;
  try {
    const configPath = writeSynapseConfig({ python: install.python, dir, port, dbName: db.name, sharedSecret });
    proc = ServerProcess.spawn(install.python, ['-m', 'synapse.app.homeserver', '--config-path', configPath], {
      cwd: dir,
      env: { ...scrubbedEnv(), SYNAPSE_CACHE_FACTOR: process.env.SYNAPSE_CACHE_FACTOR ?? '0.5' },
    });
    const url = `http://127.0.0.1:${port}`;
    const startupMs = await proc.waitReady(url, 300_000);
    const p = proc;
    return {
      name: 'synapse',
      url,
      sharedSecret,
      pid: p.pid,
      database: `PostgreSQL (database ${db.name})`,
      dbName: db.name,
      version: `synapse ${install.version}`,
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
