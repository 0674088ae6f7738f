import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { generateConfigYaml } from '../../../server/config/generate.ts';
import { openDatabase } from '../../../server/db/database.ts';
import { CACHE_DIR } from '../options.ts';
import { createDatabase, redact, type ScratchDb } from './postgres.ts';
import { freePort, scrubbedEnv, ServerProcess } from './process.ts';
import type { RunningTarget } from './types.ts';

/**
 * CommComms as `npm start` runs it (`bin/commcomms.mjs start` with COMMCOMMS_DATA_DIR,
 * COMMCOMMS_PORT and, for PostgreSQL, DATABASE_URL), so the pid we watch is the server
 * itself and `--cpu-prof` can be handed to it. The config is the generated one with the
 * rate limits lifted for the bench users and logging at warn.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LAUNCHER = join(ROOT, 'bin', 'commcomms.mjs');

/**
 * The Node flags of the launcher's first line (`#!/usr/bin/env -S node FLAGS`), so that a server
 * run as `node FLAGS [more flags] bin/commcomms.mjs` is the one `npm start` runs. Node refuses
 * `--cpu-prof` in NODE_OPTIONS, so the bench cannot run the launcher as an executable.
 */
function launcherNodeFlags(): string[] {
  const first = readFileSync(LAUNCHER, 'utf8').split('\n', 1)[0]!;
  const flags = /^#!.*\bnode\b(.*)$/.exec(first);
  if (!flags) throw new Error(`no node command in the first line of ${LAUNCHER}: ${first}`);
  return flags[1]!.split(' ').filter(Boolean);
}

export interface CommCommsOptions {
  engine: 'pglite' | 'postgres';
  /** Write a V8 CPU profile of the server into this directory when it stops. */
  cpuProfDir?: string | undefined;
}

/** Bytes of regular files under `dir` (the way `du --apparent-size` counts them). */
export function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += dirBytes(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

/**
 * initdb inside PGlite takes many seconds; like the test suite, the bench copies an
 * initialised (not migrated) data directory made once and kept in the cache dir. The
 * server still applies every migration itself when it starts.
 */
async function pgliteTemplate(): Promise<string> {
  const dir = join(CACHE_DIR, 'pglite-initdb');
  if (existsSync(join(dir, 'pglite', 'PG_VERSION'))) return join(dir, 'pglite');
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const db = await openDatabase({ url: null, maxConnections: 1, dataDir: tmp, log: pino({ level: 'silent' }) });
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return join(dir, 'pglite');
}

export async function startCommComms(opts: CommCommsOptions): Promise<RunningTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), `commcomms-bench-${opts.engine}-`));
  const port = await freePort();
  let db: ScratchDb | undefined;
  if (opts.engine === 'postgres') db = await createDatabase('ccbench');
  else cpSync(await pgliteTemplate(), join(dataDir, 'pglite'), { recursive: true });
  const secret = randomBytes(24).toString('hex');
  const big = { per_second: 100000, burst_count: 100000 };
  const config = {
    ...(parse(generateConfigYaml({ serverName: 'localhost', port, bindAddress: '127.0.0.1', databaseUrl: db?.url ?? null })) as Record<
      string,
      unknown
    >),
    registration: { enabled: true, open: false, open_on_public_address: false, tokens: [], shared_secret: secret },
    rate_limits: { login: big, register: big, message: big },
    logging: { level: 'warn' },
  };
  const configPath = join(dataDir, 'homeserver.yaml');
  writeFileSync(configPath, stringify(config), { mode: 0o600 });
  if (opts.cpuProfDir) mkdirSync(opts.cpuProfDir, { recursive: true });

  const args = [
    ...launcherNodeFlags(),
    // Node flags to try on the server alone (e.g. BENCH_SERVER_NODE_FLAGS=--max-semi-space-size=64).
    ...(process.env.BENCH_SERVER_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
    ...(opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : []),
    LAUNCHER,
    'start',
    '--config',
    configPath,
  ];
  const env = { ...scrubbedEnv(), COMMCOMMS_DATA_DIR: dataDir, COMMCOMMS_PORT: String(port), ...(db ? { DATABASE_URL: db.url } : {}) };
  const proc = ServerProcess.spawn(process.execPath, args, { cwd: ROOT, env });
  const url = `http://127.0.0.1:${port}`;
  let startupMs: number;
  try {
    startupMs = await proc.waitReady(url, 180_000);
  } catch (e) {
    await proc.stop(2000);
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return {
    name: opts.engine === 'pglite' ? 'commcomms-pglite' : 'commcomms-postgres',
    url,
    sharedSecret: secret,
    pid: proc.pid,
    database: db ? `PostgreSQL (${redact(db.url)})` : 'PGlite, in the server process',
    dbName: db?.name,
    version: `commcomms ${pkg.version}`,
    startupMs,
    dbSize: async () => (db ? db.size() : dirBytes(join(dataDir, 'pglite', 'base'))),
    output: () => proc.output(),
    async stop() {
      await proc.stop();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
