import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError, sleep } from '../support/accounts.ts';
import type { TestUser } from '../support/client.ts';
import { untilPushEvaluated } from '../support/push.ts';
import { CS, createRoom, enc, joinRoom, ok, roomPath, sendEvent, sendText, syncOk } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const {
  hs,
  users: [alice, bob, carol],
} = withHomeserver({ users: ['pn_alice', 'pn_bob', 'pn_carol'] });

type Body = Record<string, any>;
let roomId: string;

/** A push gateway on loopback: records what it is sent, and can be told to fail. */
interface Gateway {
  url: string;
  received: Body[];
  failing: boolean;
  close(): Promise<void>;
}

async function startGateway(): Promise<Gateway> {
  const gw: Omit<Gateway, 'url' | 'close'> = { received: [], failing: false };
  const server: Server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      if (gw.failing) {
        res.writeHead(503).end('down');
        return;
      }
      gw.received.push(JSON.parse(data) as Body);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ rejected: [] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(gw, {
    url: `http://127.0.0.1:${port}/_matrix/push/v1/notify`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}

const counts = (b: Body, room = roomId) =>
  b.rooms.join[room]?.unread_notifications as { notification_count: number; highlight_count: number } | undefined;

async function settledSync(user: TestUser, params: Body = {}): Promise<Body> {
  await untilPushEvaluated(hs.hs.db.sql);
  return syncOk(user, { set_presence: 'offline', ...params });
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, withinMs = 20_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  // Three members: the one-to-one rules do not apply, .m.rule.message does.
  roomId = await createRoom(alice, { preset: 'public_chat' });
  await joinRoom(bob, roomId);
  await joinRoom(carol, roomId);
  ok(await bob.client.put(`${CS}/profile/${enc(bob.userId)}/displayname`, { displayname: 'Bobby' }));
});

describe('unread counts from push rules', () => {
  it('counts a message, highlights a mention, and a read receipt clears both', async () => {
    await sendText(alice, roomId, 'hello all');
    await sendEvent(alice, roomId, 'm.room.message', { msgtype: 'm.text', body: 'ping', 'm.mentions': { user_ids: [bob.userId] } });
    await sendText(alice, roomId, 'hey Bobby, lunch?');
    const last = await sendEvent(alice, roomId, 'm.room.message', { msgtype: 'm.notice', body: 'a bot notice' });
    const s = await settledSync(bob);
    expectMatchesSpec('sync.yaml', '/sync', 'GET', 200, s);
    // The notice notifies no one (.m.rule.suppress_notices); the mention and the display name highlight.
    expect(counts(s)).toEqual({ notification_count: 3, highlight_count: 2 });
    // alice's own messages do not count for her.
    expect(counts(await settledSync(alice))).toEqual({ notification_count: 0, highlight_count: 0 });
    ok(await bob.client.post(roomPath(roomId, `/receipt/m.read/${enc(last)}`), {}));
    expect(counts(await settledSync(bob))).toEqual({ notification_count: 0, highlight_count: 0 });
  });

  it('shows a room again when only its counts moved', async () => {
    const since = (await settledSync(carol)).next_batch as string;
    await sendText(alice, roomId, 'for carol');
    await untilPushEvaluated(hs.hs.db.sql);
    const s = await syncOk(carol, { since, set_presence: 'offline' });
    expect(counts(s)?.notification_count).toBeGreaterThan(0);
  });

  it('splits counts by thread when the filter asks, and a threaded receipt clears only its thread', async () => {
    const room = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, room);
    await joinRoom(carol, room);
    const root = await sendText(alice, room, 'thread root');
    const inThread = (body: string) =>
      sendEvent(alice, room, 'm.room.message', { msgtype: 'm.text', body, 'm.relates_to': { rel_type: 'm.thread', event_id: root } });
    await inThread('reply 1');
    const r2 = await inThread('reply 2');
    const filter = JSON.stringify({ room: { timeline: { unread_thread_notifications: true } } });
    const s = await settledSync(bob, { filter });
    expectMatchesSpec('sync.yaml', '/sync', 'GET', 200, s);
    expect(counts(s, room)).toEqual({ notification_count: 1, highlight_count: 0 });
    expect(s.rooms.join[room].unread_thread_notifications).toEqual({ [root]: { notification_count: 2, highlight_count: 0 } });
    // Without the filter flag, one count for the room.
    expect(counts(await settledSync(bob), room)).toEqual({ notification_count: 3, highlight_count: 0 });
    ok(await bob.client.post(roomPath(room, `/receipt/m.read/${enc(r2)}`), { thread_id: root }));
    const after = await settledSync(bob, { filter });
    expect(after.rooms.join[room].unread_thread_notifications).toBeUndefined();
    expect(counts(after, room)).toEqual({ notification_count: 1, highlight_count: 0 });
  });

  it('does not notify a user of events from someone they ignore', async () => {
    const room = await createRoom(carol, { preset: 'public_chat' });
    await joinRoom(bob, room);
    await joinRoom(alice, room);
    ok(await bob.client.put(`${CS}/user/${enc(bob.userId)}/account_data/m.ignored_user_list`, { ignored_users: { [carol.userId]: {} } }));
    await sendText(carol, room, 'you will not hear this');
    await untilPushEvaluated(hs.hs.db.sql);
    const [row] = await hs.hs.db.sql<{ n: number }[]>`
      select count(*)::int as n from event_push_actions where user_id = ${bob.userId} and room_id = ${room}`;
    expect(row!.n).toBe(0);
    ok(await bob.client.put(`${CS}/user/${enc(bob.userId)}/account_data/m.ignored_user_list`, { ignored_users: {} }));
  });
});

describe('GET /notifications', () => {
  it('lists what notified the user, newest first, with read flags, highlights only on asking, and pages', async () => {
    const room = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(carol, room);
    await joinRoom(bob, room);
    const first = await sendText(alice, room, 'n1');
    await sendEvent(alice, room, 'm.room.message', { msgtype: 'm.text', body: 'n2', 'm.mentions': { user_ids: [carol.userId] } });
    await sendText(alice, room, 'n3');
    ok(await carol.client.post(roomPath(room, `/receipt/m.read/${enc(first)}`), {}));
    await untilPushEvaluated(hs.hs.db.sql);
    const all = ok(await carol.client.get(`${CS}/notifications?limit=100`));
    expectMatchesSpec('notifications.yaml', '/notifications', 'GET', 200, all);
    const inRoom = (all.notifications as Body[]).filter((n) => n.room_id === room);
    expect(inRoom.map((n) => n.event.content.body)).toEqual(['n3', 'n2', 'n1']);
    expect(inRoom.map((n) => n.read)).toEqual([false, false, true]);
    expect(inRoom[1]!.actions).toContainEqual({ set_tweak: 'highlight' });
    const highlights = ok(await carol.client.get(`${CS}/notifications?only=highlight`));
    expect((highlights.notifications as Body[]).map((n) => n.event.content.body)).toContain('n2');
    expect((highlights.notifications as Body[]).every((n) => n.actions.some((a: Body) => a.set_tweak === 'highlight'))).toBe(true);
    const page1 = ok(await carol.client.get(`${CS}/notifications?limit=2`));
    expect(page1.notifications).toHaveLength(2);
    const page2 = ok(await carol.client.get(`${CS}/notifications?limit=2&from=${page1.next_token as string}`));
    const ids = [...page1.notifications, ...page2.notifications].map((n: Body) => n.event.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    expectMatrixError(await carol.client.get(`${CS}/notifications?from=nonsense`), 400, 'M_INVALID_PARAM');
  });
});

describe('pushers', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway();
  });
  afterAll(async () => {
    await gateway.close();
  });

  const pusher = (url: string, pushkey = 'pk-carol') => ({
    pushkey,
    kind: 'http',
    app_id: 'org.example.app',
    app_display_name: 'Example',
    device_display_name: 'Phone',
    lang: 'en',
    data: { url, format: 'event_id_only' },
  });

  it('sets, lists and deletes a pusher; refuses a bad gateway URL and changes nothing', async () => {
    ok(await carol.client.post(`${CS}/pushers/set`, pusher(gateway.url, 'pk-temp')));
    const listed = ok(await carol.client.get(`${CS}/pushers`));
    expectMatchesSpec('pusher.yaml', '/pushers', 'GET', 200, listed);
    expect(listed.pushers.map((p: Body) => p.pushkey)).toContain('pk-temp');
    expectMatrixError(
      await carol.client.post(`${CS}/pushers/set`, pusher('http://127.0.0.1:1/elsewhere', 'pk-bad')),
      400,
      'M_INVALID_PARAM',
    );
    expectMatrixError(await carol.client.post(`${CS}/pushers/set`, { ...pusher(gateway.url, 'pk-bad'), data: {} }), 400, 'M_MISSING_PARAM');
    expectMatrixError(await carol.client.post(`${CS}/pushers/set`, { pushkey: 'x', app_id: 'y' }), 400, 'M_MISSING_PARAM');
    ok(await carol.client.post(`${CS}/pushers/set`, { pushkey: 'pk-temp', kind: null, app_id: 'org.example.app' }));
    const after = ok(await carol.client.get(`${CS}/pushers`));
    expect(after.pushers.map((p: Body) => p.pushkey)).not.toContain('pk-temp');
    expect(after.pushers.map((p: Body) => p.pushkey)).not.toContain('pk-bad');
  });

  it('pushes a notification to the gateway, and one that was down gets every one, once, in order, across a restart', async () => {
    ok(await carol.client.post(`${CS}/pushers/set`, pusher(gateway.url)));
    const e1 = await sendText(alice, roomId, 'push one');
    const got = await until('the first push', () => gateway.received.find((r) => r.notification.event_id === e1));
    expect(got.notification).toMatchObject({ event_id: e1, room_id: roomId, prio: 'high' });
    expect(got.notification.counts.unread).toBeGreaterThan(0);
    expect(got.notification.devices).toEqual([
      { app_id: 'org.example.app', pushkey: 'pk-carol', pushkey_ts: expect.any(Number), data: {} },
    ]);

    gateway.failing = true;
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) sent.push(await sendText(alice, roomId, `while down ${i}`));
    await untilPushEvaluated(hs.hs.db.sql);
    // Queued, not lost: the server restarts with them still waiting.
    await until('a failed attempt', async () => {
      const [row] = await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from push_deliveries where attempts > 0`;
      return row!.n > 0 ? true : undefined;
    });
    await hs.restart();
    gateway.failing = false;
    await until(
      'the queued pushes',
      () => (sent.every((id) => gateway.received.some((r) => r.notification.event_id === id)) ? true : undefined),
      30_000,
    );
    const order = gateway.received.map((r) => r.notification.event_id as string).filter((id) => sent.includes(id));
    expect(order).toEqual(sent);
    const [left] = await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from push_deliveries`;
    expect(left!.n).toBe(0);
  }, 60_000);
});
