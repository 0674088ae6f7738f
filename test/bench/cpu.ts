import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { adminQuery } from './targets/postgres.ts';

/**
 * CPU time of a server and of the PostgreSQL backends serving it, from /proc/<pid>/stat
 * (utime + stime, every thread of the process). The backends are the postgres processes
 * whose pg_stat_activity row names the target's database, sampled through the window: a
 * backend that started during it counts from zero, one that exited counts up to its last
 * sample (the CPU it spent after that is lost; `gone` says how many).
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
  /** Backends that served the database at some point in the window. */
  backends: number;
  /** Of those, how many exited before the end (their CPU counts up to the last sample). */
  gone: number;
}

/**
 * Starts counting; `stop()` gives the CPU spent by the server and its backends since.
 * Backends are sampled every `everyMs` as well as at both ends, so a server that opens
 * and closes connections (Dendrite keeps 2 idle) has its short-lived backends counted up
 * to their last sample rather than lost.
 */
export async function cpuMeter(pid: number, dbName: string | undefined, everyMs = 250): Promise<{ stop(): Promise<CpuWindow> }> {
  const server0 = processCpuMs(pid) ?? Number.NaN;
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const sample = async () => {
    if (!dbName) return;
    const now = await backendCpu(dbName).catch(() => new Map<number, number>());
    for (const [p, ms] of now) {
      // A backend first seen after the start began within the window: it counts from zero.
      if (!first.has(p)) first.set(p, started ? 0 : ms);
      last.set(p, ms);
    }
    return now;
  };
  let started = false;
  await sample();
  started = true;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, everyMs));
      if (!stopped) await sample();
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const serverMs = (processCpuMs(pid) ?? Number.NaN) - server0;
      if (!dbName) return { serverMs, databaseMs: undefined, backends: 0, gone: 0 };
      const end = (await sample()) ?? new Map<number, number>();
      let databaseMs = 0;
      for (const [p, ms] of last) databaseMs += ms - (first.get(p) ?? 0);
      const gone = [...last.keys()].filter((p) => !end.has(p)).length;
      return { serverMs, databaseMs, backends: last.size, gone };
    },
  };
}
