import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { adminQuery } from './targets/postgres.ts';

/**
 * CPU time of a server and of the PostgreSQL backends serving it, from /proc/<pid>/stat
 * (utime + stime, every thread of the process). The backends are the postgres processes
 * whose pg_stat_activity row names the target's database; a backend that started during
 * the window counts from zero, one that exited during it is lost (counted in `gone`).
 * PostgreSQL's shared processes (WAL writer, checkpointer) are nobody's and left out.
 * With PGlite the database runs inside the server process and is in its figure.
 */

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    ticksPerSecond = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

/** user + system CPU of a process, in ms, parsed from the text of /proc/<pid>/stat. */
export function parseProcStat(stat: string, ticks: number): number {
  // The command name (field 2) is in parentheses and may hold spaces; fields after it are plain.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat: ${stat.slice(0, 80)}`);
  return ((utime + stime) * 1000) / ticks;
}

export function processCpuMs(pid: number): number | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicks());
  } catch {
    return undefined;
  }
}

async function backendCpu(dbName: string): Promise<Map<number, number>> {
  const rows = await adminQuery<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [dbName]);
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = processCpuMs(pid);
    if (ms !== undefined) out.set(pid, ms);
  }
  return out;
}

export interface CpuWindow {
  serverMs: number;
  /** undefined when the database is embedded (its CPU is in serverMs). */
  databaseMs: number | undefined;
  backends: number;
  /** Backends seen at the start that had exited by the end (their CPU is missing). */
  gone: number;
}

/** Starts counting; `stop()` gives the CPU spent by the server and its backends since. */
export async function cpuMeter(pid: number, dbName: string | undefined): Promise<{ stop(): Promise<CpuWindow> }> {
  const server0 = processCpuMs(pid) ?? Number.NaN;
  const db0 = dbName ? await backendCpu(dbName) : undefined;
  return {
    async stop() {
      const serverMs = (processCpuMs(pid) ?? Number.NaN) - server0;
      if (!dbName || !db0) return { serverMs, databaseMs: undefined, backends: 0, gone: 0 };
      const db1 = await backendCpu(dbName);
      let databaseMs = 0;
      for (const [p, ms] of db1) databaseMs += ms - (db0.get(p) ?? 0);
      const gone = [...db0.keys()].filter((p) => !db1.has(p)).length;
      return { serverMs, databaseMs, backends: db1.size, gone };
    },
  };
}
