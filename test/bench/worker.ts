import { setMaxListeners } from 'node:events';
import { assertLoopback, monoMs, ok, request, sleep, takeResetStats } from './http.ts';
import { sendPath, syncPath } from './matrix.ts';
import { makeMessage, prng, wordsOf } from './scenarios/search-text.ts';
import { claimKeys, fetchThumbnails, uploadMedia } from './worker-loads.ts';
import type { SendResult, WorkerOp } from './worker-protocol.ts';

/**
 * A load-generator process (forked by workers.ts). It takes operations over IPC,
 * drives HTTP at the server under test and answers with raw measurements; the
 * orchestrator does the arithmetic. Several operations may run at once (a fan-out
 * keeps its long-polls open while `fanout-wait` and `fanout-stop` arrive).
 */

interface FanoutRun {
  deliveries: Array<[client: number, seq: number, at: number]>;
  /** seq -> how many of this worker's clients have it (for fanout-wait). */
  seen: Map<number, number>;
  clients: number;
  polls: number;
  errors: string[];
  stop: AbortController;
  loops: Promise<void>[];
}
const fanouts = new Map<string, FanoutRun>();

const reply = (id: number, payload: object) => process.send!({ id, ...payload });
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function send(op: Extract<WorkerOp, { op: 'send' }>): Promise<SendResult> {
  const latencies: number[] = [];
  const errors: string[] = [];
  const text = op.text;
  const tracked: Record<string, number> = Object.fromEntries((text?.track ?? []).map((w) => [w, 0]));
  let issued = 0;
  const start = monoMs();
  const deadline = start + op.durationMs;
  await Promise.all(
    op.senders.map(async (s, i) => {
      const rnd = text ? prng(text.seed * 7919 + i) : undefined;
      while (monoMs() < deadline && issued < op.maxRequests && errors.length < 20) {
        issued++;
        const body = rnd ? makeMessage(rnd) : `load ${i} ${issued}`;
        try {
          const r = await request(op.url, 'PUT', sendPath(s.roomId), {
            token: s.token,
            body: rnd ? { msgtype: 'm.text', body } : { msgtype: 'm.text', body, bench: 'send' },
            timeoutMs: 30_000,
          });
          if (r.status === 200) {
            latencies.push(r.ms);
            if (text) for (const w of new Set(wordsOf(body))) if (Object.hasOwn(tracked, w)) tracked[w]!++;
          } else errors.push(`send -> ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        } catch (e) {
          errors.push(`send: ${errText(e)}`);
        }
      }
    }),
  );
  return { latencies, errors, start, end: monoMs(), ...(text ? { tracked } : {}) };
}

async function fanoutStart(id: number, op: Extract<WorkerOp, { op: 'fanout-start' }>) {
  const run: FanoutRun = {
    deliveries: [],
    seen: new Map(),
    clients: op.clients.length,
    polls: 0,
    errors: [],
    stop: new AbortController(),
    loops: [],
  };
  // Every long-poll of the run listens on the one stop signal.
  setMaxListeners(0, run.stop.signal);
  fanouts.set(op.runId, run);
  let ready = 0;
  let announceReady: () => void = () => {};
  const allReady = new Promise<void>((r) => (announceReady = r));
  // Initial syncs (which open the connections the long-polls then reuse) a few at a
  // time: a thousand connects at once overflow a server's listen backlog (Twisted's is 50).
  let slots = 16;
  const queue: Array<() => void> = [];
  const acquire = () => (slots > 0 ? (slots--, Promise.resolve()) : new Promise<void>((r) => queue.push(r)));
  const release = () => (queue.length ? queue.shift()!() : slots++);
  const loop = async (token: string, idx: number) => {
    let since: string;
    await acquire();
    try {
      since = (await ok(op.url, 'GET', syncPath({ filter: op.filter }), { token, timeoutMs: 120_000 })).body.next_batch;
    } catch (e) {
      run.errors.push(`initial sync: ${errText(e)}`);
      if (++ready === op.clients.length) announceReady();
      return;
    } finally {
      release();
    }
    if (++ready === op.clients.length) announceReady();
    while (!run.stop.signal.aborted) {
      let r;
      try {
        r = await request(op.url, 'GET', syncPath({ since, timeout: op.pollTimeoutMs, filter: op.filter }), {
          token,
          signal: run.stop.signal,
          timeoutMs: op.pollTimeoutMs + 30_000,
        });
      } catch (e) {
        if (!run.stop.signal.aborted) run.errors.push(`sync: ${errText(e)}`);
        return;
      }
      const at = monoMs();
      run.polls++;
      if (r.status !== 200) {
        run.errors.push(`sync -> ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        return;
      }
      since = r.body.next_batch;
      const room = r.body.rooms?.join?.[op.roomId];
      for (const ev of room?.timeline?.events ?? []) {
        const seq = ev?.content?.bench_seq;
        if (typeof seq !== 'number' || ev.content.bench_run !== op.runId) continue;
        run.deliveries.push([op.clientOffset + idx, seq, at]);
        run.seen.set(seq, (run.seen.get(seq) ?? 0) + 1);
      }
    }
  };
  run.loops = op.clients.map((token, i) => loop(token, i));
  await allReady;
  reply(id, { result: { ready: op.clients.length, errors: run.errors.slice() } });
}

async function fanoutWait(op: Extract<WorkerOp, { op: 'fanout-wait' }>) {
  const run = fanouts.get(op.runId);
  if (!run) throw new Error(`no fan-out ${op.runId}`);
  const deadline = monoMs() + op.timeoutMs;
  while ((run.seen.get(op.seq) ?? 0) < run.clients && monoMs() < deadline && run.errors.length === 0) await sleep(5);
  return { complete: (run.seen.get(op.seq) ?? 0) >= run.clients, have: run.seen.get(op.seq) ?? 0, errors: run.errors.slice() };
}

async function fanoutStop(op: Extract<WorkerOp, { op: 'fanout-stop' }>) {
  const run = fanouts.get(op.runId);
  if (!run) throw new Error(`no fan-out ${op.runId}`);
  run.stop.abort();
  await Promise.all(run.loops);
  fanouts.delete(op.runId);
  return { deliveries: run.deliveries, polls: run.polls, errors: run.errors };
}

/** A fixed list of requests, one after another; `sinceFromPrevious` continues from the latest sync's next_batch. */
async function sequence(op: Extract<WorkerOp, { op: 'requests' }>) {
  const out: Array<{ status: number; ms: number; bytes: number; nextBatch?: string; body?: unknown }> = [];
  for (const r of op.requests) {
    let path = r.path;
    if (r.sinceFromPrevious) {
      const prev = [...out].reverse().find((o) => o.nextBatch)?.nextBatch;
      if (!prev) throw new Error('sinceFromPrevious without an earlier sync');
      path += `${path.includes('?') ? '&' : '?'}since=${encodeURIComponent(prev)}`;
    }
    const res = await request(op.url, r.method, path, { token: r.token, body: r.body, timeoutMs: 300_000 });
    if (res.status !== 200)
      throw new Error(`${r.method} ${r.path.slice(0, 80)} -> ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    const nextBatch = typeof res.body?.next_batch === 'string' ? res.body.next_batch : undefined;
    out.push({
      status: res.status,
      ms: res.ms,
      bytes: res.bytes,
      ...(nextBatch ? { nextBatch } : {}),
      ...(r.keepBody ? { body: res.body } : {}),
    });
  }
  return out;
}

process.on('message', (msg: WorkerOp & { id: number }) => {
  const { id } = msg;
  const run = async () => {
    assertLoopback(msg.url);
    switch (msg.op) {
      case 'send':
        return reply(id, { result: await send(msg) });
      case 'fanout-start':
        return fanoutStart(id, msg);
      case 'fanout-wait':
        return reply(id, { result: await fanoutWait(msg) });
      case 'fanout-stop':
        return reply(id, { result: await fanoutStop(msg) });
      case 'http-stats':
        return reply(id, { result: takeResetStats() });
      case 'requests':
        return reply(id, { result: await sequence(msg) });
      case 'keys-claim':
        return reply(id, { result: await claimKeys(msg) });
      case 'media-upload':
        return reply(id, { result: await uploadMedia(msg) });
      case 'media-thumbnails':
        return reply(id, { result: await fetchThumbnails(msg) });
    }
  };
  run().catch((e: unknown) => reply(id, { error: errText(e) }));
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, result: 'up' });
