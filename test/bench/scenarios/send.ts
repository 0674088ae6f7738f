import { mapLimit } from '../http.ts';
import { createRoom, joinRoom, type BenchUser, type Server } from '../matrix.ts';
import type { Scale } from '../options.ts';
import { round, summarize } from '../stats.ts';
import type { SendResult } from '../worker-protocol.ts';
import type { WorkerPool } from '../workers.ts';
import { cpuMeter, type CpuWindow } from '../cpu.ts';
import { watchPeak } from './memory.ts';

/**
 * send: N users spread over M rooms each send m.room.message back to back for T
 * seconds (closed loop: one request in flight per user). Reports events/s and the
 * send latency seen by the client. The server's peak RSS and the growth of its
 * database are measured over the same window (memory and storage scenarios).
 */

export interface SendOutcome {
  users: number;
  rooms: number;
  seconds: number;
  events: number;
  eventsPerSec: number;
  latencyMs: ReturnType<typeof summarize>;
  peakRssMB: number | undefined;
  hwmReset: boolean | undefined;
  dbBytesBefore: number;
  dbBytesAfter: number;
  /** (after − before) / events × 100,000: the database's growth per 100k messages, extrapolated. */
  bytesPer100k: number;
  /**
   * CPU over the measured phase: the server process and the PostgreSQL backends serving its
   * database (with PGlite the database is inside the server), and both per sent event.
   */
  cpu: (CpuWindow & { perEventMs: { server: number; database: number | undefined; total: number } }) | undefined;
  errors: string[];
  /** The measured phase on the machine's monotonic clock (ms), for slicing a CPU profile. */
  window: { start: number; end: number };
}

export interface SendDeps {
  server: Server;
  pool: WorkerPool;
  users: BenchUser[];
  scale: Scale['send'];
  setupConcurrency: number;
  /** The server's pid, for memory (left out when the server runs inside the test process). */
  pid?: number | undefined;
  /** Its PostgreSQL database, whose backends' CPU counts too (undefined: embedded or unknown). */
  dbName?: string | undefined;
  dbSize: () => Promise<number>;
}

export async function runSend(d: SendDeps): Promise<SendOutcome> {
  const { server, pool, scale } = d;
  const users = d.users.slice(0, scale.users);
  if (users.length < scale.users) throw new Error(`send needs ${scale.users} users, got ${users.length}`);
  const owner = users[0]!;
  const rooms = await mapLimit(Array.from({ length: scale.rooms }), d.setupConcurrency, (_, i) => createRoom(server, owner, `send ${i}`));
  const senders = users.map((u, i) => ({ token: u.token, roomId: rooms[i % rooms.length]! }));
  await mapLimit(
    users.map((u, i) => ({ u, room: rooms[i % rooms.length]! })).filter((x) => x.u !== owner),
    d.setupConcurrency,
    (x) => joinRoom(server, x.u, x.room),
  );

  const dbBytesBefore = await d.dbSize();
  const watch = d.pid ? watchPeak(d.pid) : undefined;
  const cpu = d.pid ? await cpuMeter(d.pid, d.dbName) : undefined;
  const shares = pool.split(senders);
  const perWorkerCap = Math.ceil(scale.maxRequests / shares.length);
  const results = await Promise.all(
    shares.map((s) =>
      s.worker.call<SendResult>({ op: 'send', url: server.url, senders: s.items, durationMs: scale.durationMs, maxRequests: perWorkerCap }),
    ),
  );
  const cpuUsed = await cpu?.stop();
  const mem = watch?.stop();
  const dbBytesAfter = await d.dbSize();

  const latencies = results.flatMap((r) => r.latencies);
  const start = Math.min(...results.map((r) => r.start));
  const end = Math.max(...results.map((r) => r.end));
  const seconds = (end - start) / 1000;
  const events = latencies.length;
  return {
    users: users.length,
    rooms: rooms.length,
    seconds: round(seconds, 2),
    events,
    eventsPerSec: round(events / seconds, 1),
    latencyMs: summarize(latencies),
    peakRssMB: mem ? round(mem.peakMB, 1) : undefined,
    hwmReset: mem?.hwmReset,
    dbBytesBefore,
    dbBytesAfter,
    bytesPer100k: events > 0 ? Math.round(((dbBytesAfter - dbBytesBefore) / events) * 100_000) : Number.NaN,
    cpu: cpuUsed ? { ...cpuUsed, perEventMs: perEvent(cpuUsed, events) } : undefined,
    errors: results.flatMap((r) => r.errors),
    window: { start, end },
  };
}

function perEvent(cpu: CpuWindow, events: number) {
  const per = (ms: number) => round(ms / events, 3);
  return {
    server: per(cpu.serverMs),
    database: cpu.databaseMs === undefined ? undefined : per(cpu.databaseMs),
    total: per(cpu.serverMs + (cpu.databaseMs ?? 0)),
  };
}
