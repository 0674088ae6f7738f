import { fork } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { PACKAGE_ROOT } from '../package-root.ts';
import postgres from 'postgres';
import { pgliteStartParams } from './pglite-settings.ts';

/**
 * One SQL dialect for both engines: the `postgres` driver talks either to a real
 * PostgreSQL (DATABASE_URL) or to embedded PGlite served over the wire protocol on
 * a private loopback port. Storage code never knows which one it has.
 */
export type Sql = postgres.Sql<{ bigint: number }>;
/** A transaction handle; storage functions take it (or the pool) as their first argument. */
export type Tx = postgres.TransactionSql<{ bigint: number }> | Sql;

export interface Database {
  sql: Sql;
  engine: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url: string | null;
  maxConnections: number;
  /** Where PGlite keeps its files when no URL is given. */
  dataDir: string;
  log: Logger;
}

// int8 columns (stream positions, timestamps in ms) fit in a JS number; reading
// them as strings would leak the driver's choice into every caller.
const bigintAsNumber = {
  to: 20,
  from: [20],
  serialize: (x: number) => String(x),
  parse: (x: string) => Number(x),
};

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const common = {
    types: { bigint: bigintAsNumber },
    onnotice: () => {},
    connection: { application_name: 'commcomms' },
  } as const;
  if (opts.url) {
    const sql = postgres(opts.url, { ...common, max: opts.maxConnections }) as unknown as Sql;
    await sql`select 1`;
    return { sql, engine: 'postgres', close: () => sql.end({ timeout: 5 }) };
  }
  return openEmbedded(opts, common);
}

async function openEmbedded(opts: DatabaseOptions, common: object): Promise<Database> {
  // Loaded lazily so a deployment on real PostgreSQL never pays for the WASM build.
  const [{ PGlite }, { vector }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-pgvector'),
    import('@electric-sql/pglite-socket'),
  ]);
  const dir = join(opts.dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  // PGlite has no postmaster to stop a second process opening the same files.
  const releaseLock = lockDataDir(dir);
  if (!existsSync(join(dir, 'PG_VERSION'))) await initEmbeddedDataDir(dir, opts.log);
  const db = await PGlite.create({ dataDir: dir, extensions: { vector }, startParams: pgliteStartParams(PGlite.defaultStartParams) });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  const address = (server as unknown as { server: { address(): { port: number } } }).server.address();
  // PGlite is one backend session: a pool of one keeps transactions from interleaving.
  const sql = postgres({
    ...common,
    host: '127.0.0.1',
    port: address.port,
    user: 'postgres',
    database: 'postgres',
    max: 1,
  }) as unknown as Sql;
  opts.log.info({ dir }, 'embedded PostgreSQL (PGlite) started');
  return {
    sql,
    engine: 'pglite',
    close: async () => {
      await sql.end({ timeout: 5 });
      await server.stop();
      await db.close();
      releaseLock();
    },
  };
}

/**
 * initdb in a child process, for a new data directory. PGlite's initdb runs a second
 * PostgreSQL in memory and copies its files out, peaking at ~800MB; WebAssembly memory
 * never shrinks, and what V8 and malloc free afterwards stays mapped (in a worker thread
 * too), so done in the server's process it left a first start idling at ~450MB where a
 * restart on the same files idles at ~300MB. A process gives everything back when it exits.
 */
async function initEmbeddedDataDir(dir: string, log: Logger): Promise<void> {
  const began = Date.now();
  const script = join(PACKAGE_ROOT, 'server', 'db', 'pglite-initdb.mjs');
  await new Promise<void>((resolve, reject) => {
    // No inherited --import hooks or inspector: the script is plain JavaScript.
    const child = fork(script, [dir], { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`initdb of ${dir} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`)),
    );
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) throw new Error(`initdb of ${dir} left no PG_VERSION`);
  log.info({ dir, ms: Date.now() - began }, 'embedded PostgreSQL (PGlite) data directory created');
}

/** An O_EXCL pid file; a lock left by a dead process is taken over. */
function lockDataDir(dir: string): () => void {
  const path = join(dir, 'commcomms.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8'));
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(`the embedded database in ${dir} is in use by process ${pid}; stop it first or use another data dir`);
      }
      unlinkSync(path);
    }
  }
  throw new Error(`could not lock ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
