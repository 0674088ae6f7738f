import { randomBytes } from 'node:crypto';
import { monoMs, sleep } from '../http.ts';
import { createRoom, joinAll, sendText, type BenchUser, type Server } from '../matrix.ts';
import type { Scale } from '../options.ts';
import { summarize } from '../stats.ts';
import type { FanoutStartResult, FanoutStopResult, FanoutWaitResult } from '../worker-protocol.ts';
import type { WorkerPool } from '../workers.ts';

/**
 * fan-out: K clients long-poll /sync in one room while one sender posts S messages,
 * one every `intervalMs`. The delay of a delivery is from the moment the sender got
 * its 200 to the moment a client had the sync response holding the event (both on
 * the machine's monotonic clock, across processes). A warm-up message (seq 0) that
 * every client must receive before measuring makes sure all long-polls are parked.
 *
 * The harness checks itself: every (client, seq) must be delivered exactly once.
 * A lost or duplicated event, or any request error, fails the scenario.
 */

export interface FanoutOutcome {
  clients: number;
  messages: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  /** Deliveries whose sync response came back before the sender's 200 (delay counted as 0). */
  beforeSend200: number;
  delayMs: ReturnType<typeof summarize>;
  sendMs: ReturnType<typeof summarize>;
  errors: string[];
  /** The measured sends, on the machine's monotonic clock (ms). */
  window: { start: number; end: number };
}

export interface FanoutDeps {
  server: Server;
  pool: WorkerPool;
  sender: BenchUser;
  clients: BenchUser[];
  scale: Scale['fanout'];
  setupConcurrency: number;
  /** Long-poll timeout the clients ask for (Element uses 30 s). */
  pollTimeoutMs?: number;
}

export async function runFanout(d: FanoutDeps): Promise<FanoutOutcome & { roomId: string }> {
  const { server, pool, sender, scale } = d;
  const clients = d.clients.slice(0, scale.clients);
  if (clients.length < scale.clients) throw new Error(`fan-out needs ${scale.clients} clients, got ${clients.length}`);
  const roomId = await createRoom(server, sender, 'fan-out');
  await joinAll(server, clients, roomId, d.setupConcurrency);

  const runId = randomBytes(6).toString('hex');
  const filter = {
    room: { rooms: [roomId], timeline: { limit: 100 }, state: { lazy_load_members: true }, ephemeral: { not_types: ['*'] } },
    presence: { not_types: ['*'] },
    account_data: { not_types: ['*'] },
  };
  const shares = pool.split(clients.map((c) => c.token));
  const errors: string[] = [];
  const pollTimeoutMs = d.pollTimeoutMs ?? 30_000;
  const started = await Promise.all(
    shares.map((s) =>
      s.worker.call<FanoutStartResult>({
        op: 'fanout-start',
        url: server.url,
        runId,
        roomId,
        clients: s.items,
        clientOffset: s.offset,
        filter,
        pollTimeoutMs,
      }),
    ),
  );
  errors.push(...started.flatMap((r) => r.errors));

  const waitAll = async (seq: number, timeoutMs: number) => {
    const r = await Promise.all(
      shares.map((s) => s.worker.call<FanoutWaitResult>({ op: 'fanout-wait', url: server.url, runId, seq, timeoutMs })),
    );
    return { complete: r.every((x) => x.complete), have: r.reduce((n, x) => n + x.have, 0), errors: r.flatMap((x) => x.errors) };
  };
  const send = (seq: number) => sendText(server, sender, roomId, `fan-out ${seq}`, { bench_seq: seq, bench_run: runId });

  const window = { start: 0, end: 0 };
  let lateAfterS = 0;
  const sent200 = new Map<number, number>();
  const sendMs: number[] = [];
  let stopResults: FanoutStopResult[] = [];
  try {
    if (errors.length === 0) {
      await send(0);
      const warm = await waitAll(0, 60_000);
      if (!warm.complete) errors.push(`warm-up message not delivered to every client within 60 s`, ...warm.errors);
    }
    if (errors.length === 0) {
      window.start = monoMs();
      for (let seq = 1; seq <= scale.messages; seq++) {
        const t = monoMs();
        const reply = await send(seq);
        sent200.set(seq, monoMs());
        sendMs.push(reply.ms);
        await sleep(Math.max(0, scale.intervalMs - (monoMs() - t)));
      }
      // Wait for the last message while deliveries keep coming (a slow server is slow, not
      // lossy), up to 3 minutes; what has not arrived by then counts as lost.
      const lastSent = monoMs();
      let last = await waitAll(scale.messages, 15_000);
      for (let before = -1; !last.complete && last.have > before && last.errors.length === 0 && monoMs() - lastSent < 180_000;) {
        before = last.have;
        last = await waitAll(scale.messages, 15_000);
      }
      if (!last.complete) lateAfterS = Math.round((monoMs() - lastSent) / 1000);
      errors.push(...last.errors);
      window.end = monoMs();
      // A short grace period so a late duplicate would still be seen.
      await sleep(300);
    }
  } catch (e) {
    errors.push(`sender: ${(e as Error).message}`);
  } finally {
    stopResults = await Promise.all(shares.map((s) => s.worker.call<FanoutStopResult>({ op: 'fanout-stop', url: server.url, runId })));
  }
  errors.push(...stopResults.flatMap((r) => r.errors));

  // Exactly-once accounting over every (client, seq), warm-up included.
  const deliveries = stopResults.flatMap((r) => r.deliveries);
  const { delivered, lost, duplicated } = tally(deliveries, clients.length, scale.messages + 1);
  const delays: number[] = [];
  let beforeSend200 = 0;
  for (const [, seq, at] of deliveries) {
    const t200 = sent200.get(seq);
    if (seq === 0 || t200 === undefined) continue;
    if (at < t200) beforeSend200++;
    delays.push(Math.max(0, at - t200));
  }
  const outcome = {
    roomId,
    clients: clients.length,
    messages: scale.messages,
    expected: clients.length * (scale.messages + 1),
    delivered,
    lost,
    duplicated,
    beforeSend200,
    delayMs: summarize(delays),
    sendMs: summarize(sendMs),
    errors,
    window,
  };
  if (lost > 0 || duplicated > 0 || delivered !== outcome.expected) {
    const late = lateAfterS ? ` (lost = not delivered ${lateAfterS} s after the last send, when deliveries had stopped coming)` : '';
    outcome.errors.push(
      `fan-out delivery is not exactly-once: ${lost} lost, ${duplicated} duplicated, ${delivered}/${outcome.expected} delivered${late}`,
    );
  }
  return outcome;
}

/**
 * Exactly-once accounting: every client must have every seq in [0, seqs) once.
 * A delivery of anything else (an unknown client or seq) counts as a duplicate.
 */
export function tally(deliveries: ReadonlyArray<readonly [client: number, seq: number, at: number]>, clients: number, seqs: number) {
  const counts = new Map<string, number>();
  for (const [client, seq] of deliveries) counts.set(`${client}:${seq}`, (counts.get(`${client}:${seq}`) ?? 0) + 1);
  let lost = 0;
  let duplicated = 0;
  for (let c = 0; c < clients; c++) {
    for (let seq = 0; seq < seqs; seq++) {
      const n = counts.get(`${c}:${seq}`) ?? 0;
      if (n === 0) lost++;
      if (n > 1) duplicated += n - 1;
      counts.delete(`${c}:${seq}`);
    }
  }
  for (const n of counts.values()) duplicated += n;
  return { delivered: deliveries.length, lost, duplicated };
}
