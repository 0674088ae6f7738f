import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

/**
 * The local PostgreSQL server both CommComms/PG and Synapse use, each with its own
 * database. The admin URL comes from BENCH_DATABASE_URL, else COMMCOMMS_TEST_DATABASE_URL,
 * else the role .ci/run creates. If nothing answers, setup-postgres.sh starts
 * (and if need be installs) Debian's PostgreSQL the way .ci/run does.
 */

const HERE = dirname(fileURLToPath(import.meta.url));
export const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.COMMCOMMS_TEST_DATABASE_URL ?? 'postgres://commcomms:commcomms@127.0.0.1:5432/postgres';

const admin = () => postgres(ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });

async function version(): Promise<string> {
  const sql = admin();
  try {
    const [row] = await sql<{ v: string }[]>`select current_setting('server_version') as v`;
    return row!.v;
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/** The server's version, starting it first if need be; undefined (with the reason logged) if it cannot be had. */
export async function ensurePostgres(log: (s: string) => void): Promise<string | undefined> {
  try {
    return await version();
  } catch (first) {
    log(`PostgreSQL not reachable at ${redact(ADMIN_URL)} (${(first as Error).message}); running test/bench/setup-postgres.sh`);
    const r = spawnSync('bash', [join(HERE, '..', 'setup-postgres.sh')], { stdio: 'inherit', timeout: 600_000 });
    if (r.status !== 0) {
      log('setup-postgres.sh failed: the PostgreSQL targets (CommComms/PG, Synapse) are skipped');
      return undefined;
    }
    try {
      return await version();
    } catch (e) {
      log(`PostgreSQL still not reachable (${(e as Error).message})`);
      return undefined;
    }
  }
}

/** One query as the admin role (pg_stat_activity, sizes); a connection of its own, closed after. */
export async function adminQuery<T>(query: string, params: Array<string | number> = []): Promise<T[]> {
  const sql = admin();
  try {
    return (await sql.unsafe(query, params)) as unknown as T[];
  } finally {
    await sql.end({ timeout: 2 });
  }
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:…@');
}

export interface ScratchDb {
  name: string;
  url: string;
  size(): Promise<number>;
  drop(): Promise<void>;
}

/** A fresh database; Synapse's needs C collation (it refuses others). */
export async function createDatabase(prefix: string): Promise<ScratchDb> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const sql = admin();
  try {
    await sql.unsafe(`create database ${name} encoding 'UTF8' lc_collate 'C' lc_ctype 'C' template template0`);
  } finally {
    await sql.end({ timeout: 2 });
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async size() {
      const s = admin();
      try {
        const [row] = await s<{ n: string }[]>`select pg_database_size(${name})::text as n`;
        return Number(row!.n);
      } finally {
        await s.end({ timeout: 2 });
      }
    },
    async drop() {
      const s = admin();
      try {
        await s.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await s.end({ timeout: 2 });
      }
    },
  };
}

export function connectionParams(): { host: string; port: number; user: string; password: string } {
  const u = new URL(ADMIN_URL);
  return { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}
