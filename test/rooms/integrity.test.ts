import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { registerUser, type TestUser } from '../support/client.ts';
import { startTestHomeserver, type TestHomeserver } from '../support/homeserver.ts';
import { sleep } from '../support/accounts.ts';
import { createRoom, enc, joinRoom, ok, paginate, roomPath } from '../support/rooms.ts';
import { spawnServer, type SpawnedServer } from '../support/spawn-server.ts';

/**
 * What the room engine promises under stress: an event acknowledged with 200 survives
 * kill -9; a retried transaction after the crash is the same event, never a second one;
 * and concurrent senders still build one linear chain of events.
 */

describe('kill -9 during a burst of sends', () => {
  let server: SpawnedServer | undefined;
  afterEach(async () => {
    await server?.dispose();
    server = undefined;
  });

  it('loses no acknowledged event, and retries after the restart return the same event ids', { timeout: 600_000 }, async () => {
    server = await spawnServer();
    const alice = await registerUser(server.url, 'crash_alice');
    const roomId = await createRoom(alice, { preset: 'private_chat', name: 'Crash' });

    const TOTAL = 200;
    const CONCURRENCY = 20;
    const KILL_AFTER = 60; // acknowledged sends before the crash
    const txnOf = (i: number) => `burst-${i}`;
    const bodyOf = (i: number) => `burst message ${i}`;
    // The spawned server runs the default rate limits: like a client, wait as told on 429 (nothing was stored).
    const send = async (i: number) => {
      for (;;) {
        const res = await alice.client.put(roomPath(roomId, `/send/m.room.message/${txnOf(i)}`), { msgtype: 'm.text', body: bodyOf(i) });
        if (res.status !== 429) return res;
        await sleep(Number(res.body.retry_after_ms ?? 100));
      }
    };

    const acked = new Map<number, string>();
    let failed = 0;
    let next = 0;
    let killing: Promise<unknown> | undefined;
    const worker = async () => {
      while (!killing && next < TOTAL) {
        const i = next++;
        try {
          const res = await send(i);
          if (res.status === 200) acked.set(i, res.body.event_id as string);
          else failed += 1;
        } catch {
          failed += 1; // the connection died with the server: not acknowledged
        }
        if (!killing && acked.size >= KILL_AFTER) killing = server!.kill('SIGKILL');
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const exit = (await killing) as { code: number | null; signal: string | null };
    // The launcher reports its server's death by SIGKILL (exit 137), or dies of it itself.
    expect(exit.code === 137 || exit.signal === 'SIGKILL', `killed mid-burst: ${JSON.stringify(exit)}`).toBe(true);
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(acked.size, `${failed} sends were cut off by the crash`).toBeLessThan(TOTAL);

    await server.start();

    // Every acknowledged event is there, by id and in the history, exactly once.
    for (const [i, eventId] of acked) {
      const ev = await alice.client.get(roomPath(roomId, `/event/${enc(eventId)}`));
      expect(ev.status, `event ${i} (${eventId}) after restart: ${JSON.stringify(ev.body)}`).toBe(200);
      expect(ev.body.content.body).toBe(bodyOf(i));
    }
    const history = (await paginate(alice, roomId, { dir: 'b', limit: 100 })).events;
    const ids = history.map((e) => e.event_id as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const eventId of acked.values()) expect(ids).toContain(eventId);

    // Retrying every transaction: the acknowledged ones answer with their event id; the rest are sent once.
    const retried = new Map<number, string>();
    for (let start = 0; start < TOTAL; start += CONCURRENCY) {
      const batch = Array.from({ length: Math.min(CONCURRENCY, TOTAL - start) }, (_, k) => start + k);
      const replies = await Promise.all(batch.map(send));
      batch.forEach((i, k) => retried.set(i, ok(replies[k]!).event_id as string));
    }
    for (const [i, eventId] of acked) expect(retried.get(i), `txn ${txnOf(i)}`).toBe(eventId);
    // And again: every transaction is now settled.
    for (const i of [0, 57, 123, 199]) expect(ok(await send(i)).event_id).toBe(retried.get(i));

    const after = (await paginate(alice, roomId, { dir: 'b', limit: 100 })).events.filter((e) => e.type === 'm.room.message');
    expect(after).toHaveLength(TOTAL);
    expect(new Set(after.map((e) => e.content.body)).size).toBe(TOTAL);
    expect(new Set(after.map((e) => e.event_id))).toEqual(new Set(retried.values()));
  });
});

describe('concurrent senders in one room', () => {
  let hs: TestHomeserver;
  afterAll(async () => {
    await hs?.close();
  });

  it('build a linear DAG: every event cites exactly the previous one', { timeout: 300_000 }, async () => {
    hs = await startTestHomeserver();
    const users: TestUser[] = [];
    for (let u = 0; u < 5; u++) users.push(await registerUser(hs.url, `dag_${u}`));
    const roomId = await createRoom(users[0]!, { preset: 'public_chat' });
    await Promise.all(users.slice(1).map((u) => joinRoom(u, roomId)));

    const PER_USER = 30;
    await Promise.all(
      users.map(async (u, n) => {
        // Each user keeps several sends in flight at once.
        for (let i = 0; i < PER_USER; i += 5) {
          await Promise.all(
            [0, 1, 2, 3, 4].map((k) =>
              u.client
                .put(roomPath(roomId, `/send/m.room.message/dag-${n}-${i + k}`), { msgtype: 'm.text', body: `${n}:${i + k}` })
                .then((r) => ok(r)),
            ),
          );
        }
      }),
    );
    // State changes race the messages too.
    await Promise.all(
      users.map((u, n) =>
        u.client.put(roomPath(roomId, `/state/m.room.member/${enc(u.userId)}`), { membership: 'join', displayname: `user ${n}` }),
      ),
    );

    const rows = await hs.hs.db.sql<{ event_id: string; depth: number; prev: string[]; auth: string[] }[]>`
      select event_id, depth, pdu::json->'prev_events' as prev, pdu::json->'auth_events' as auth
      from events where room_id = ${roomId} order by stream_pos`;
    expect(rows.length).toBeGreaterThanOrEqual(users.length * PER_USER + users.length * 2);
    expect(rows[0]!.prev).toEqual([]);
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]!.prev, `event ${i} (${rows[i]!.event_id})`).toEqual([rows[i - 1]!.event_id]);
      expect(rows[i]!.depth).toBe(rows[i - 1]!.depth + 1);
    }
    // Auth events only point backwards.
    const seen = new Set<string>();
    for (const r of rows) {
      for (const a of r.auth) expect(seen.has(a), `auth event ${a} of ${r.event_id}`).toBe(true);
      seen.add(r.event_id);
    }
    const extremities = await hs.hs.db.sql<{ event_id: string }[]>`select event_id from forward_extremities where room_id = ${roomId}`;
    expect(extremities.map((e) => e.event_id)).toEqual([rows.at(-1)!.event_id]);

    // The history a client reads is that same chain.
    const fwd = (await paginate(users[1]!, roomId, { dir: 'f', limit: 100 })).events.map((e) => e.event_id);
    expect(fwd).toEqual(rows.map((r) => r.event_id));
  });
});
