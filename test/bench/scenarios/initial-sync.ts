import { mapLimit, monoMs } from '../http.ts';
import { createRoom, CS, registerUser, sendPath, sendText, syncPath, type Server } from '../matrix.ts';
import type { Scale } from '../options.ts';
import { median, round } from '../stats.ts';
import type { TimedReply } from '../worker-protocol.ts';
import type { WorkerPool } from '../workers.ts';

/**
 * initial sync: a fresh user creates R rooms and posts H messages in each (so every
 * room has its creation state plus some history), then a load worker times, one
 * after another: `repeats` initial syncs (no since, no filter: what a plain client
 * sends first), five incremental syncs with nothing new (timeout=0), and `repeats`
 * rounds of "send one event, then sync since the last token".
 */

export interface InitialSyncOutcome {
  rooms: number;
  messagesPerRoom: number;
  /** Median of the initial syncs, and the first (coldest) one. */
  initialMs: number;
  firstInitialMs: number;
  initialBytes: number;
  joinedRoomsInResponse: number;
  incrementalEmptyMs: number;
  /** Undefined when a sync right after the send did not carry it. */
  incrementalOneEventMs: number | undefined;
  setupSeconds: number;
  /** The timed requests, on the machine's monotonic clock (ms). */
  window: { start: number; end: number };
}

export async function runInitialSync(d: {
  server: Server;
  pool: WorkerPool;
  scale: Scale['initialSync'];
  setupConcurrency: number;
}): Promise<InitialSyncOutcome> {
  const { server, scale } = d;
  const setupStart = Date.now();
  const user = await registerUser(server, 'sync');
  const rooms = await mapLimit(Array.from({ length: scale.rooms }), d.setupConcurrency, (_, i) => createRoom(server, user, `history ${i}`));
  const posts = rooms.flatMap((roomId) => Array.from({ length: scale.messagesPerRoom }, (_, j) => ({ roomId, j })));
  // Rooms in parallel, each room's history in order.
  await mapLimit(rooms, d.setupConcurrency, async (roomId) => {
    for (const p of posts.filter((x) => x.roomId === roomId)) await sendText(server, user, roomId, `history message ${p.j}`);
  });
  const setupSeconds = (Date.now() - setupStart) / 1000;

  const worker = d.pool.first();
  // The first initial sync's body is kept to check that it really holds every room.
  const initial = Array.from({ length: scale.repeats }, (_, i) => ({
    method: 'GET',
    path: syncPath({}),
    token: user.token,
    keepBody: i === 0,
  }));
  const empty = Array.from({ length: 5 }, () => ({
    method: 'GET',
    path: `${CS}/sync?timeout=0`,
    token: user.token,
    sinceFromPrevious: true,
  }));
  const oneNew = Array.from({ length: scale.repeats }, (_, i) => [
    { method: 'PUT', path: sendPath(rooms[i % rooms.length]!), token: user.token, body: { msgtype: 'm.text', body: `new ${i}` } },
    { method: 'GET', path: `${CS}/sync?timeout=0`, token: user.token, sinceFromPrevious: true, keepBody: true },
  ]).flat();
  const window = { start: monoMs(), end: 0 };
  const replies = await worker.call<TimedReply[]>({ op: 'requests', url: server.url, requests: [...initial, ...empty, ...oneNew] });
  window.end = monoMs();

  const firstBody = replies[0]!.body as { rooms?: { join?: Record<string, unknown> } };
  const joined = Object.keys(firstBody.rooms?.join ?? {}).length;
  if (joined !== rooms.length) throw new Error(`initial sync returned ${joined} joined rooms, expected ${rooms.length}`);
  const init = replies.slice(0, scale.repeats);
  const emp = replies.slice(scale.repeats, 5 + scale.repeats);
  const syncsAfterSend = replies.slice(5 + scale.repeats).filter((_, i) => i % 2 === 1);
  const carried = syncsAfterSend.map((s) => {
    const body = s.body as { rooms?: { join?: Record<string, { timeline?: { events?: unknown[] } }> } };
    return Object.values(body.rooms?.join ?? {}).reduce((n, r) => n + (r.timeline?.events?.length ?? 0), 0);
  });
  // A server without read-your-writes (Dendrite applies events to its sync stream asynchronously)
  // answers before the event is there, and carries it in the next sync: that figure would time a
  // sync with nothing new, so it is left out. More events than were sent by then is a duplicate.
  if (carried.some((_, i) => carried.slice(0, i + 1).reduce((a, b) => a + b, 0) > i + 1))
    throw new Error(`incremental sync after one send returned ${carried.join(', ')} timeline events, expected 1`);
  const deliveredAll = carried.every((n) => n === 1);
  if (!deliveredAll)
    console.error(`[bench]   incremental sync right after a send carried ${carried.join(', ')} events (expected 1 each): figure left out`);
  return {
    rooms: rooms.length,
    messagesPerRoom: scale.messagesPerRoom,
    initialMs: round(median(init.map((r) => r.ms)), 1),
    firstInitialMs: round(init[0]!.ms, 1),
    initialBytes: median(init.map((r) => r.bytes)),
    joinedRoomsInResponse: joined,
    incrementalEmptyMs: round(median(emp.map((r) => r.ms)), 2),
    incrementalOneEventMs: deliveredAll ? round(median(syncsAfterSend.map((r) => r.ms)), 2) : undefined,
    setupSeconds: round(setupSeconds, 1),
    window,
  };
}
