import { randomBytes } from 'node:crypto';
import { mapLimit, sleep } from '../http.ts';
import { createRoom, joinRoom, type BenchUser, type Server } from '../matrix.ts';
import type { Scale } from '../options.ts';
import { adminQuery } from '../targets/postgres.ts';
import { round, summarize } from '../stats.ts';
import type { FanoutStartResult, FanoutStopResult, SendResult } from '../worker-protocol.ts';
import type { WorkerPool } from '../workers.ts';

/**
 * send while N clients long-poll: N clients, in idle rooms of `clientsPerRoom`, long-poll
 * /sync (timeout 30 s, nothing ever arrives for them) while a few senders send into a room
 * of their own, closed loop, for T seconds. Nothing the senders do concerns the long-polls,
 * so the send latency should be what it is with no long-polls at all; any difference is
 * the cost of parked requests (a pool they hold, a lock, a wake-up storm).
 *
 * Also sampled during the sends, on PostgreSQL: what the target's backends are doing
 * (pg_stat_activity state and wait event, every 200 ms), and how many long-polls returned.
 */

export interface LongpollOutcome {
  clients: number;
  senders: number;
  seconds: number;
  events: number;
  eventsPerSec: number;
  sendMs: ReturnType<typeof summarize>;
  /** Long-poll responses during the whole run (timeouts after 30 s, or spurious wake-ups). */
  polls: number;
  /** pg_stat_activity samples during the sends: "state wait_type:wait_event" -> mean backends in it. */
  backends: Record<string, number> | undefined;
  errors: string[];
}

export interface LongpollDeps {
  server: Server;
  pool: WorkerPool;
  users: BenchUser[];
  scale: Scale['longpoll'];
  setupConcurrency: number;
  dbName?: string | undefined;
  pollTimeoutMs?: number;
}

/** Mean number of backends per (state, wait event) over periodic pg_stat_activity samples. */
function sampleBackends(dbName: string, everyMs = 200): { stop(): Promise<Record<string, number>> } {
  const counts = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const rows = await adminQuery<{ k: string; n: number }>(
        `select coalesce(state, '?') || ' ' || coalesce(wait_event_type, '-') || ':' || coalesce(wait_event, '-') as k, count(*)::int as n
           from pg_stat_activity where datname = $1 group by 1`,
        [dbName],
      ).catch(() => []);
      samples++;
      for (const r of rows) counts.set(r.k, (counts.get(r.k) ?? 0) + r.n);
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const out: Record<string, number> = {};
      for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1])) out[k] = round(n / Math.max(1, samples), 2);
      return out;
    },
  };
}

export async function runLongpoll(d: LongpollDeps): Promise<LongpollOutcome> {
  const { server, pool, scale } = d;
  const need = scale.clients + scale.senders;
  if (d.users.length < need) throw new Error(`long-poll needs ${need} users, got ${d.users.length}`);
  const pollers = d.users.slice(0, scale.clients);
  const senders = d.users.slice(scale.clients, need);

  // Idle rooms for the pollers, `clientsPerRoom` each; one room for the senders.
  const groups: BenchUser[][] = [];
  for (let i = 0; i < pollers.length; i += scale.clientsPerRoom) groups.push(pollers.slice(i, i + scale.clientsPerRoom));
  const rooms = await mapLimit(groups, d.setupConcurrency, (g, i) => createRoom(server, g[0]!, `idle ${i}`));
  const joins = groups.flatMap((g, i) => g.slice(1).map((u) => ({ u, room: rooms[i]! })));
  await mapLimit(joins, d.setupConcurrency, (j) => joinRoom(server, j.u, j.room));
  const sendRoom = await createRoom(server, senders[0]!, 'long-poll senders');
  await mapLimit(senders.slice(1), d.setupConcurrency, (u) => joinRoom(server, u, sendRoom));

  const runId = randomBytes(6).toString('hex');
  // What a client asks for once it has synced: a short timeline, lazy members, no presence.
  const filter = {
    room: { timeline: { limit: 10 }, state: { lazy_load_members: true } },
    presence: { not_types: ['*'] },
  };
  const errors: string[] = [];
  const shares = pool.split(pollers.map((c) => c.token));
  const started = await Promise.all(
    shares.map((s) =>
      s.worker.call<FanoutStartResult>({
        op: 'fanout-start',
        url: server.url,
        runId,
        roomId: rooms[0]!,
        clients: s.items,
        clientOffset: s.offset,
        filter,
        pollTimeoutMs: d.pollTimeoutMs ?? 30_000,
      }),
    ),
  );
  errors.push(...started.flatMap((r) => r.errors));
  let results: SendResult[] = [];
  let backends: Record<string, number> | undefined;
  let stopped: FanoutStopResult[] = [];
  try {
    // Every client has its initial sync; give the long-polls a moment to be parked.
    await sleep(3000);
    const sampler = d.dbName ? sampleBackends(d.dbName) : undefined;
    const sendShares = pool.split(senders.map((u) => ({ token: u.token, roomId: sendRoom })));
    results = await Promise.all(
      sendShares.map((s) =>
        s.worker.call<SendResult>({ op: 'send', url: server.url, senders: s.items, durationMs: scale.durationMs, maxRequests: 1_000_000 }),
      ),
    );
    backends = await sampler?.stop();
  } finally {
    stopped = await Promise.all(shares.map((s) => s.worker.call<FanoutStopResult>({ op: 'fanout-stop', url: server.url, runId })));
  }
  errors.push(...results.flatMap((r) => r.errors), ...stopped.flatMap((r) => r.errors));
  const latencies = results.flatMap((r) => r.latencies);
  const seconds = results.length ? (Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start))) / 1000 : Number.NaN;
  return {
    clients: pollers.length,
    senders: senders.length,
    seconds: round(seconds, 2),
    events: latencies.length,
    eventsPerSec: round(latencies.length / seconds, 1),
    sendMs: summarize(latencies),
    polls: stopped.reduce((n, r) => n + r.polls, 0),
    backends,
    errors,
  };
}
