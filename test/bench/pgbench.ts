import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionParams, createDatabase } from './targets/postgres.ts';

/**
 * The commit-rate ceiling of the PostgreSQL the targets use, measured in the same run:
 * pgbench with a custom script of one INSERT of an event-sized row per transaction
 * (autocommit, so one commit and one WAL flush each), `clients` connections for a few
 * seconds. A homeserver that commits at least once per sent event cannot send faster
 * than this on this disk; send throughput is reported as a percentage of it.
 */

export interface PgbenchCeiling {
  ok: true;
  tps: number;
  clients: number;
  seconds: number;
  binary: string;
}

export type PgbenchResult = PgbenchCeiling | { ok: false; reason: string };

export function findPgbench(): string | undefined {
  if (process.env.BENCH_PGBENCH) return process.env.BENCH_PGBENCH;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, 'bin', 'pgbench')).find((p) => existsSync(p));
}

/** `tps = 1234.56 (without initial connection time)` from pgbench's report. */
export function parseTps(output: string): number | undefined {
  const m = /^tps = ([\d.]+) \(without initial connection time\)/m.exec(output) ?? /^tps = ([\d.]+)/m.exec(output);
  return m ? Number(m[1]) : undefined;
}

export async function measureCommitCeiling(o: { clients: number; seconds: number }): Promise<PgbenchResult> {
  const binary = findPgbench();
  if (!binary) return { ok: false, reason: 'no pgbench (Debian: postgresql-client / postgresql; or set BENCH_PGBENCH)' };
  const db = await createDatabase('pgbench');
  const dir = mkdtempSync(join(tmpdir(), 'pgbench-'));
  try {
    const { host, port, user, password } = connectionParams();
    const create = spawnSync(
      binary.replace(/pgbench$/, 'psql'),
      [
        '-h',
        host,
        '-p',
        String(port),
        '-U',
        user,
        '-d',
        db.name,
        '-qc',
        'create table ceiling (id bigserial primary key, body text not null)',
      ],
      { encoding: 'utf8', env: { ...process.env, PGPASSWORD: password }, timeout: 30_000 },
    );
    if (create.status !== 0) return { ok: false, reason: `create table failed: ${create.stderr || create.error}` };
    const script = join(dir, 'insert.sql');
    // About the size of a signed m.room.message event.
    writeFileSync(script, `insert into ceiling (body) values (repeat('x', 600));\n`);
    const r = spawnSync(
      binary,
      [
        '-n',
        '-h',
        host,
        '-p',
        String(port),
        '-U',
        user,
        '-c',
        String(o.clients),
        '-j',
        '2',
        '-T',
        String(o.seconds),
        '-f',
        script,
        db.name,
      ],
      { encoding: 'utf8', env: { ...process.env, PGPASSWORD: password }, timeout: (o.seconds + 60) * 1000 },
    );
    const tps = parseTps(r.stdout ?? '');
    if (r.status !== 0 || tps === undefined)
      return { ok: false, reason: `pgbench failed: ${(r.stderr || String(r.error)).trim().slice(-300)}` };
    return { ok: true, tps, clients: o.clients, seconds: o.seconds, binary };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
}
