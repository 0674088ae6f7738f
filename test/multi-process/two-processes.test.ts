import { createClient, type RedisClientType } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, registerUser, type TestUser } from '../support/client.ts';
import { startTestHomeserver, type TestHomeserver } from '../support/homeserver.ts';
import { createRoom, enc, joinRoom, newTxnId, ok, query, roomPath, syncOk } from '../support/rooms.ts';
import { syncToken } from '../support/sync.ts';
import { startTcpGate, type TcpGate } from '../support/tcp-gate.ts';

/**
 * Two processes of one deployment: one PostgreSQL database, one Redis, the same
 * server name and signing key. Clients on both write into shared rooms at once;
 * both must serve the same history, /sync on either must see every event once,
 * a redaction on one must never be served unredacted by the other, and Redis
 * connections dropping must not leave either process's /sync stale.
 *
 * Registered only on the postgres leg with REDIS_URL (vitest.config.ts).
 * COMMCOMMS_TWO_PROCESS_SECONDS sets how long the writers write (default 20).
 */
const REDIS_URL = process.env.REDIS_URL!;
const SECONDS = Number(process.env.COMMCOMMS_TWO_PROCESS_SECONDS ?? 20);
const WRITERS_PER_PROCESS = 20;
const ROOMS = 10;
/** Every Redis connection of the servers in this test process carries this name (server/main.ts). */
const SERVER_CONNECTIONS = `commcomms-${process.pid}`;
let a: TestHomeserver;
let b: TestHomeserver;
let redis: RedisClientType;
/** Each process reaches Redis through its own relay, so a test can take Redis away from one of them. */
let gateA: TcpGate;
let gateB: TcpGate;
const rooms: string[] = [];
const writers: TestUser[] = [];
const observers: Array<{ user: TestUser; on: 'a' | 'b' }> = [];

const messageFilter = {
  room: { timeline: { limit: 1000, types: ['m.room.message'] }, state: { lazy_load_members: true }, ephemeral: { not_types: ['*'] } },
  presence: { not_types: ['*'] },
};

/** The same user's session, talking to the other process. */
const via = (user: TestUser, server: TestHomeserver): TestUser => ({ ...user, client: new ApiClient(server.url, user.accessToken) });

beforeAll(async () => {
  redis = createClient({ url: REDIS_URL });
  redis.on('error', () => {});
  await redis.connect();
  gateA = await startTcpGate(REDIS_URL);
  gateB = await startTcpGate(REDIS_URL);
  a = await startTestHomeserver({ redis: { url: gateA.url } });
  b = await startTestHomeserver({ redis: { url: gateB.url } }, { sameDeploymentAs: a });

  const owner = await registerUser(a.url, 'owner');
  for (let i = 0; i < ROOMS; i++) rooms.push(await createRoom(owner, { preset: 'public_chat', name: `room ${i}` }));
  for (const [server, tag] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    for (let i = 0; i < WRITERS_PER_PROCESS; i++) writers.push(await registerUser(server.url, `writer-${tag}-${i}`));
    for (let i = 0; i < 2; i++) observers.push({ user: await registerUser(server.url, `observer-${tag}-${i}`), on: tag });
  }
  for (const u of [...writers, ...observers.map((o) => o.user)]) for (const r of rooms) await joinRoom(u, r);
}, 600_000);

afterAll(async () => {
  await b?.close();
  await a?.close();
  await gateA?.close();
  await gateB?.close();
  await redis?.quit();
});

/** Drops the servers' Redis subscriber connections (they reconnect by themselves); returns how many. */
async function killSubscribers(): Promise<number> {
  const list = String(await redis.sendCommand(['CLIENT', 'LIST']));
  let killed = 0;
  for (const line of list.split('\n')) {
    const fields = new Map(line.split(' ').map((kv) => kv.split('=', 2) as [string, string]));
    if (fields.get('name') !== SERVER_CONNECTIONS || !fields.get('flags')?.includes('P')) continue;
    killed += Number(await redis.sendCommand(['CLIENT', 'KILL', 'ID', fields.get('id')!]));
  }
  return killed;
}

/**
 * Takes Redis away from process b: its connections are dropped and it cannot reconnect until
 * `gateB.open()`, so whatever is published meanwhile is lost to it for sure (nothing it sends,
 * a SUBSCRIBE included, reaches Redis). The servers run in this test's process: a pause lets b's
 * client handle the closed sockets before the test goes on.
 */
async function deafenB(): Promise<void> {
  gateB.cut();
  await new Promise((resolve) => setTimeout(resolve, 200));
}

/** Every m.room.message of a room, oldest first, as /messages on `user`'s server pages it. */
async function history(user: TestUser, roomId: string): Promise<Array<Record<string, any>>> {
  const out: Array<Record<string, any>> = [];
  let from: string | undefined;
  for (;;) {
    const page = ok(await user.client.get(roomPath(roomId, `/messages${query({ dir: 'b', limit: 1000, from })}`)));
    const chunk = (page.chunk ?? []) as Array<Record<string, any>>;
    out.push(...chunk.filter((e) => e.type === 'm.room.message'));
    if (chunk.length === 0 || !page.end) break;
    from = page.end as string;
  }
  return out.reverse();
}

describe('two server processes on one PostgreSQL and one Redis', () => {
  it(
    'writers on both: the same history on both, every acknowledged event once, every /sync saw it; Redis dropped meanwhile',
    async () => {
      const acked = new Map<string, string>();
      let failed = 0;
      let writing = true;
      const seen = observers.map(() => new Map<string, number>());
      const limited = observers.map(() => 0);
      const tokens = await Promise.all(observers.map((o) => syncToken(o.user, { filter: messageFilter })));

      const observe = async (k: number) => {
        const { user } = observers[k]!;
        let since = tokens[k]!;
        const settle = () => Date.now() + 60_000;
        let deadline = Infinity;
        while (writing || ([...acked.keys()].some((id) => !seen[k]!.has(id)) && Date.now() < deadline)) {
          if (!writing && deadline === Infinity) deadline = settle();
          const body = await syncOk(user, { since, timeout: 5000, set_presence: 'offline', filter: messageFilter });
          for (const room of Object.values((body.rooms?.join ?? {}) as Record<string, any>)) {
            if (room.timeline?.limited) limited[k]! += 1;
            for (const e of room.timeline?.events ?? [])
              if (e.type === 'm.room.message') seen[k]!.set(e.event_id, (seen[k]!.get(e.event_id) ?? 0) + 1);
          }
          since = body.next_batch as string;
        }
      };

      const until = Date.now() + SECONDS * 1000;
      const write = async (n: number) => {
        const w = writers[n]!;
        for (let i = 0; Date.now() < until; i++) {
          const roomId = rooms[(n + i) % ROOMS]!;
          const txnId = newTxnId(`w${n}`);
          let eventId: string | undefined;
          // A retry is the same transaction: it must not make a second event.
          for (let attempt = 0; attempt < 5 && !eventId; attempt++) {
            const res = await w.client.put(roomPath(roomId, `/send/m.room.message/${enc(txnId)}`), {
              msgtype: 'm.text',
              body: `${n}/${i}`,
            });
            if (res.status === 200) eventId = res.body.event_id as string;
          }
          if (eventId) acked.set(eventId, roomId);
          else failed += 1;
        }
      };

      let kills = 0;
      const dropRedis = (async () => {
        await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 3));
        const stopAt = Date.now() + 3000;
        while (Date.now() < stopAt) {
          kills += await killSubscribers();
          await new Promise((r) => setTimeout(r, 100));
        }
      })();

      const watching = observers.map((_, k) => observe(k));
      await Promise.all(writers.map((_, n) => write(n)));
      await dropRedis;
      writing = false;
      await Promise.all(watching);

      expect(failed).toBe(0);
      expect(kills).toBeGreaterThan(0);
      expect(acked.size).toBeGreaterThan(0);

      // Both processes serve the same history; every acknowledged event is in it exactly once.
      for (const roomId of rooms) {
        const onA = (await history(via(writers[0]!, a), roomId)).map((e) => e.event_id as string);
        const onB = (await history(via(writers[0]!, b), roomId)).map((e) => e.event_id as string);
        expect(onB).toEqual(onA);
        expect(new Set(onA).size).toBe(onA.length);
        const mine = [...acked].filter(([, r]) => r === roomId).map(([id]) => id);
        expect(onA.filter((id) => mine.includes(id)).length).toBe(mine.length);
        expect(onA.length).toBe(mine.length);
      }

      // /sync on either process saw every event, once, and never a gap it would have had to fill.
      for (let k = 0; k < observers.length; k++) {
        const missing = [...acked.keys()].filter((id) => !seen[k]!.has(id));
        expect({ observer: k, on: observers[k]!.on, missing: missing.length }).toEqual({ observer: k, on: observers[k]!.on, missing: 0 });
        expect([...seen[k]!.values()].every((count) => count === 1)).toBe(true);
        expect(seen[k]!.size).toBe(acked.size);
        expect(limited[k]).toBe(0);
      }
    },
    SECONDS * 1000 + 300_000,
  );

  it('a process whose Redis subscription dropped is not left with a stale /sync', async () => {
    const reader = observers.find((o) => o.on === 'b')!.user;
    const since = await syncToken(reader, { filter: messageFilter });
    // Every announcement while b is cut off is lost to it, and nothing later announces again.
    await deafenB();
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const txn = enc(newTxnId('stale'));
      const res = ok(
        await writers[0]!.client.put(roomPath(rooms[i]!, `/send/m.room.message/${txn}`), { msgtype: 'm.text', body: `stale ${i}` }),
      );
      sent.push(res.event_id as string);
    }
    gateB.open();
    const got = new Set<string>();
    let from = since;
    const bound = Date.now() + 30_000; // fails a broken server rather than hanging; not a timing assertion
    while (sent.some((id) => !got.has(id)) && Date.now() < bound) {
      const body = await syncOk(reader, { since: from, timeout: 2000, set_presence: 'offline', filter: messageFilter });
      for (const room of Object.values((body.rooms?.join ?? {}) as Record<string, any>))
        for (const e of room.timeline?.events ?? []) got.add(e.event_id);
      from = body.next_batch as string;
    }
    expect(sent.filter((id) => !got.has(id))).toEqual([]);
  }, 120_000);

  it('a redaction made on one process is never served unredacted by the other', async () => {
    for (let k = 0; k < 6; k++) {
      const [writeOn, readOn] = k % 2 === 0 ? [a, b] : [b, a];
      const roomId = rooms[k % ROOMS]!;
      const author = via(writers[k]!, writeOn);
      const reader = via(writers[k + 1]!, readOn);
      const sent = ok(
        await author.client.put(roomPath(roomId, `/send/m.room.message/${enc(newTxnId('redact'))}`), {
          msgtype: 'm.text',
          body: `secret ${k}`,
        }),
      );
      const eventId = sent.event_id as string;
      // The reader's process reads (and caches) the event first.
      expect(ok(await reader.client.get(roomPath(roomId, `/event/${enc(eventId)}`))).content).toMatchObject({ body: `secret ${k}` });
      ok(await author.client.put(roomPath(roomId, `/redact/${enc(eventId)}/${enc(newTxnId('r'))}`), { reason: 'test' }));

      // Right after the redaction returns, the other process serves it redacted everywhere.
      expect(ok(await reader.client.get(roomPath(roomId, `/event/${enc(eventId)}`))).content).toEqual({});
      const page = ok(await reader.client.get(roomPath(roomId, `/messages${query({ dir: 'b', limit: 10 })}`)));
      const inMessages = (page.chunk as Array<Record<string, any>>).find((e) => e.event_id === eventId);
      expect(inMessages?.content).toEqual({});
      const sync = await syncOk(reader, { set_presence: 'offline', filter: { room: { rooms: [roomId], timeline: { limit: 10 } } } });
      const inSync = ((sync.rooms?.join?.[roomId]?.timeline?.events ?? []) as Array<Record<string, any>>).find(
        (e) => e.event_id === eventId,
      );
      expect(inSync?.content).toEqual({});
    }
  }, 120_000);

  it('a process that cannot hear the others (its subscription is down) serves neither its cache nor a stale /sync', async () => {
    const roomId = rooms[0]!;
    const author = via(writers[2]!, a);
    const reader = via(writers[3]!, b);
    const eventId = ok(
      await author.client.put(roomPath(roomId, `/send/m.room.message/${enc(newTxnId('deaf'))}`), { msgtype: 'm.text', body: 'secret' }),
    ).event_id as string;
    expect(ok(await reader.client.get(roomPath(roomId, `/event/${enc(eventId)}`))).content).toMatchObject({ body: 'secret' });
    // The eviction is published to nobody: the reader's subscriber is gone and may not come back yet.
    await deafenB();
    try {
      ok(await author.client.put(roomPath(roomId, `/redact/${enc(eventId)}/${enc(newTxnId('r'))}`), {}));
      expect(ok(await reader.client.get(roomPath(roomId, `/event/${enc(eventId)}`))).content).toEqual({});
      // Nor does its /sync stop at what it last heard: it reads the stream's position from the database.
      const later = ok(
        await author.client.put(roomPath(roomId, `/send/m.room.message/${enc(newTxnId('deaf'))}`), { msgtype: 'm.text', body: 'later' }),
      ).event_id as string;
      const sync = await syncOk(reader, { set_presence: 'offline', filter: { room: { rooms: [roomId], timeline: { limit: 10 } } } });
      const timeline = (sync.rooms?.join?.[roomId]?.timeline?.events ?? []) as Array<Record<string, any>>;
      expect(timeline.find((e) => e.event_id === eventId)?.content).toEqual({});
      expect(timeline.map((e) => e.event_id)).toContain(later);
    } finally {
      gateB.open();
    }
  }, 60_000);
});
