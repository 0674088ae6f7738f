import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import type { Reply, TestUser } from '../support/client.ts';
import {
  bodiesOf,
  createRoom,
  CS,
  enc,
  inviteUser,
  joinRoom,
  leaveRoom,
  messages,
  ok,
  roomPath,
  sendEvent,
  sendText,
  setState,
  sync,
  typesOf,
} from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';
import { untilPushEvaluated } from '../support/push.ts';

/** GET /sync: initial and incremental, limited timelines, filters, sections, long-poll, account data, summaries. */

const {
  hs,
  users: [alice, bob, carol],
} = withHomeserver({ users: ['sy_alice', 'sy_bob', 'sy_carol'] });

type Params = Parameters<typeof sync>[1];
/** A /sync that must succeed and match the spec's response schema. */
async function syncSpec(user: TestUser, params: Params = {}): Promise<Record<string, any>> {
  const res = await sync(user, params);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expectMatchesSpec('sync.yaml', '/sync', 'GET', 200, res.body);
  return res.body;
}
const timelineOf = (body: Record<string, any>, roomId: string): Array<Record<string, any>> =>
  body.rooms.join[roomId]?.timeline.events ?? [];
const stateOf = (body: Record<string, any>, roomId: string): Array<Record<string, any>> => body.rooms.join[roomId]?.state.events ?? [];

describe('initial and incremental sync', () => {
  it('an initial sync has the joined room with its state and timeline; an incremental one only what is new', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat', name: 'Sync room', invite: [bob.userId] });
    await joinRoom(bob, roomId);
    await sendText(alice, roomId, 'before');
    // Counts are written after the event (the push consumer): a room whose counts move shows again.
    await untilPushEvaluated(hs.hs.db.sql);
    const initial = await syncSpec(bob);
    expect(initial.next_batch).toEqual(expect.any(String));
    const room = initial.rooms.join[roomId];
    expect(room).toBeDefined();
    expect(bodiesOf(room.timeline.events)).toContain('before');
    // State and timeline together describe the room: the name is in one of them.
    const all = [...room.state.events, ...room.timeline.events];
    expect(all.find((e) => e.type === 'm.room.name')?.content.name).toBe('Sync room');
    const members = new Map<string, string>();
    for (const e of all) if (e.type === 'm.room.member') members.set(e.state_key, e.content.membership);
    expect(Object.fromEntries(members)).toEqual({ [alice.userId]: 'join', [bob.userId]: 'join' });
    for (const e of room.timeline.events) expect(e.room_id === undefined || e.room_id === roomId).toBe(true);

    // Nothing new: the room is absent from an incremental sync.
    const quiet = await syncSpec(bob, { since: initial.next_batch });
    expect(quiet.rooms.join[roomId]).toBeUndefined();

    await sendText(alice, roomId, 'after');
    await untilPushEvaluated(hs.hs.db.sql);
    const inc = await syncSpec(bob, { since: initial.next_batch });
    expect(bodiesOf(timelineOf(inc, roomId))).toEqual(['after']);
    expect(inc.rooms.join[roomId].timeline.limited).toBe(false);
    expect(stateOf(inc, roomId)).toEqual([]);
    // A since token can be used again: the same answer.
    const again = await syncSpec(bob, { since: initial.next_batch });
    expect(timelineOf(again, roomId).map((e) => e.event_id)).toEqual(timelineOf(inc, roomId).map((e) => e.event_id));
    // And the newer token moves on.
    const later = await syncSpec(bob, { since: inc.next_batch });
    expect(later.rooms.join[roomId]).toBeUndefined();
  });

  it('a gap larger than the timeline limit is limited, with a prev_batch that /messages continues from', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    const filter = { room: { timeline: { limit: 5 } } };
    const start = await syncSpec(bob, { filter });
    await setState(alice, roomId, 'm.room.topic', '', { topic: 'changed in the gap' });
    for (let i = 0; i < 12; i++) await sendText(alice, roomId, `g${i}`);
    const inc = await syncSpec(bob, { since: start.next_batch, filter });
    const room = inc.rooms.join[roomId];
    expect(room.timeline.limited).toBe(true);
    expect(bodiesOf(room.timeline.events)).toEqual(['g7', 'g8', 'g9', 'g10', 'g11']);
    expect(room.timeline.prev_batch).toEqual(expect.any(String));
    // The state that changed in the part of the gap not shown arrives in `state`.
    expect(room.state.events.find((e: Record<string, any>) => e.type === 'm.room.topic')?.content.topic).toBe('changed in the gap');
    // Back-paginating from prev_batch yields the rest, without overlap.
    const back = ok(await messages(bob, roomId, { dir: 'b', limit: 8, from: room.timeline.prev_batch }));
    expect(bodiesOf(back.chunk)).toEqual(['g6', 'g5', 'g4', 'g3', 'g2', 'g1', 'g0']);
    expect(back.chunk[7].type).toBe('m.room.topic');
    // prev_batch also names a point for /members?at=.
    expect(ok(await bob.client.get(roomPath(roomId, `/members?at=${enc(room.timeline.prev_batch)}`))).chunk.length).toBe(2);

    // Exactly at the limit is not limited.
    const s2 = await syncSpec(bob, { filter });
    for (let i = 0; i < 5; i++) await sendText(alice, roomId, `h${i}`);
    const exact = await syncSpec(bob, { since: s2.next_batch, filter });
    expect(exact.rooms.join[roomId].timeline.limited).toBe(false);
    expect(bodiesOf(timelineOf(exact, roomId))).toEqual(['h0', 'h1', 'h2', 'h3', 'h4']);
  });

  it('full_state=true returns the whole state of every joined room even with a since token', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat', name: 'Full state', topic: 'all of it' });
    await joinRoom(bob, roomId);
    const s = await syncSpec(bob);
    const inc = await syncSpec(bob, { since: s.next_batch, full_state: true });
    const state = [...stateOf(inc, roomId), ...timelineOf(inc, roomId)];
    const types = new Set(typesOf(state));
    for (const t of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.name', 'm.room.topic', 'm.room.member'])
      expect(types.has(t), t).toBe(true);
    // Without full_state the same since token gives nothing for the room.
    expect((await syncSpec(bob, { since: s.next_batch })).rooms.join[roomId]).toBeUndefined();
  });
});

describe('sections', () => {
  it('invite, then join, then leave: each shows up in its section', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat', name: 'Sections' });
    const s0 = await syncSpec(carol);
    await inviteUser(alice, roomId, carol.userId);
    const s1 = await syncSpec(carol, { since: s0.next_batch });
    const invite = s1.rooms.invite[roomId];
    expect(invite).toBeDefined();
    expect(invite.invite_state.events.find((e: Record<string, any>) => e.type === 'm.room.name')?.content.name).toBe('Sections');
    expect(s1.rooms.join[roomId]).toBeUndefined();

    await joinRoom(carol, roomId);
    const s2 = await syncSpec(carol, { since: s1.next_batch });
    expect(s2.rooms.invite[roomId]).toBeUndefined();
    const joined = s2.rooms.join[roomId];
    expect(joined).toBeDefined();
    const everything = [...joined.state.events, ...joined.timeline.events];
    expect(everything.find((e: Record<string, any>) => e.type === 'm.room.create')).toBeDefined();

    await sendText(alice, roomId, 'last words before carol leaves');
    await leaveRoom(carol, roomId);
    await sendText(alice, roomId, 'after carol left');
    const s3 = await syncSpec(carol, { since: s2.next_batch });
    expect(s3.rooms.join[roomId]).toBeUndefined();
    const left = s3.rooms.leave[roomId];
    expect(left).toBeDefined();
    const tl = left.timeline.events as Array<Record<string, any>>;
    expect(bodiesOf(tl)).toEqual(['last words before carol leaves']);
    expect(tl.at(-1)).toMatchObject({ type: 'm.room.member', state_key: carol.userId, content: { membership: 'leave' } });
    // The room stays out of later syncs.
    const s4 = await syncSpec(carol, { since: s3.next_batch });
    expect(s4.rooms.leave[roomId]).toBeUndefined();
    expect(s4.rooms.join[roomId]).toBeUndefined();
  });

  it('a kicked or banned user gets the room in leave, with the kick or ban', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(carol, roomId);
    const s0 = await syncSpec(carol);
    ok(await alice.client.post(roomPath(roomId, '/ban'), { user_id: carol.userId, reason: 'enough' }));
    const s1 = await syncSpec(carol, { since: s0.next_batch });
    expect(s1.rooms.leave[roomId].timeline.events.at(-1)).toMatchObject({
      type: 'm.room.member',
      sender: alice.userId,
      state_key: carol.userId,
      content: { membership: 'ban', reason: 'enough' },
    });
  });
});

describe('filters', () => {
  it('an uploaded filter is used by id, and room include/exclude lists select rooms', async () => {
    const r1 = await createRoom(alice, { name: 'one' });
    const r2 = await createRoom(alice, { name: 'two' });
    const up = await alice.client.post(`${CS}/user/${enc(alice.userId)}/filter`, { room: { rooms: [r1], timeline: { limit: 2 } } });
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    const only1 = await syncSpec(alice, { filter: up.body.filter_id });
    expect(Object.keys(only1.rooms.join)).toEqual([r1]);
    expect(timelineOf(only1, r1)).toHaveLength(2);
    expect(only1.rooms.join[r1].timeline.limited).toBe(true);
    // Used (and kept) for alice, her filter id still means nothing for bob.
    expectMatrixError(await sync(bob, { filter: up.body.filter_id }), 400, 'M_INVALID_PARAM');
    expect(Object.keys((await syncSpec(alice, { filter: up.body.filter_id })).rooms.join)).toEqual([r1]);

    const not1 = await syncSpec(alice, { filter: { room: { not_rooms: [r1] } } });
    expect(Object.keys(not1.rooms.join)).toContain(r2);
    expect(Object.keys(not1.rooms.join)).not.toContain(r1);
    // not_rooms wins over rooms.
    const both = await syncSpec(alice, { filter: { room: { rooms: [r1, r2], not_rooms: [r1] } } });
    expect(Object.keys(both.rooms.join)).toEqual([r2]);
  });

  it('timeline types, not_types and senders filter the timeline', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    await sendText(alice, roomId, 'from alice');
    await sendText(bob, roomId, 'from bob');
    ok(await alice.client.put(roomPath(roomId, '/send/org.example.thing/t1'), { x: 1 }));
    const room = (filter: object) => syncSpec(bob, { filter: { room: { rooms: [roomId], ...filter } } }).then((b) => timelineOf(b, roomId));
    expect(typesOf(await room({ timeline: { types: ['m.room.message'] } }))).toEqual(['m.room.message', 'm.room.message']);
    expect(typesOf(await room({ timeline: { types: ['org.example.*'] } }))).toEqual(['org.example.thing']);
    expect((await room({ timeline: { not_types: ['m.room.*'] } })).every((e) => !e.type.startsWith('m.room.'))).toBe(true);
    expect(bodiesOf(await room({ timeline: { senders: [bob.userId] } }))).toEqual(['from bob']);
    expect(bodiesOf(await room({ timeline: { not_senders: [bob.userId], types: ['m.room.message'] } }))).toEqual(['from alice']);
    // A state filter narrows the state section.
    const s = await syncSpec(bob, {
      filter: { room: { rooms: [roomId], timeline: { limit: 1 }, state: { types: ['m.room.join_rules'] } } },
    });
    expect(typesOf(stateOf(s, roomId))).toEqual(['m.room.join_rules']);
  });

  it("lazy_load_members sends only the member events of the timeline senders (and one's own)", async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    await joinRoom(carol, roomId);
    await sendText(bob, roomId, 'only bob talks');
    const lazy = { room: { rooms: [roomId], timeline: { limit: 1 }, state: { lazy_load_members: true } } };
    const s = await syncSpec(carol, { filter: lazy });
    const members = stateOf(s, roomId)
      .filter((e) => e.type === 'm.room.member')
      .map((e) => e.state_key)
      .sort();
    expect(members).toEqual([bob.userId, carol.userId].sort());
    // The full list is still there without lazy loading.
    const full = await syncSpec(carol, { filter: { room: { rooms: [roomId], timeline: { limit: 1 } } } });
    expect(stateOf(full, roomId).filter((e) => e.type === 'm.room.member')).toHaveLength(3);
    // The summary still counts everyone.
    expect(s.rooms.join[roomId].summary['m.joined_member_count']).toBe(3);
  });

  it('rejects a malformed filter, an unknown filter id, a bad since and a bad timeout with M_INVALID_PARAM', async () => {
    expectMatrixError(await sync(alice, { filter: '{"room": ' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await sync(alice, { filter: { room: { timeline: { limit: 'ten' } } } }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await sync(alice, { filter: { room: { rooms: 'not-a-list' } } }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await sync(alice, { filter: '987654' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await sync(alice, { since: 'not-a-token' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await sync(alice, { since: 's' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await sync(alice, { timeout: 'soon' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await sync(alice, {}).then(() => alice.client.get(`${CS}/sync`, { token: null })), 401, 'M_MISSING_TOKEN');
  });

  it('ignores unknown query parameters (as clients send them)', async () => {
    const res = await sync(alice, { 'org.matrix.msc4222.use_state_after': true, set_presence: 'online' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });
});

// The long-polls below wait up to the server's maximum (300 s), longer than a test may run:
// they pass only if the arriving event wakes them, not by timing out. The event is sent while
// the /sync is still computing its first (empty) answer, the window where a wake-up is easy to lose.
describe('long-poll', () => {
  it('a sync waiting with a timeout wakes with the message that arrives', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    const s = await syncSpec(bob);
    const waiting = syncSpec(bob, { since: s.next_batch, timeout: 300_000 });
    await sendText(alice, roomId, 'wake up');
    const woke = await waiting;
    expect(bodiesOf(timelineOf(woke, roomId))).toEqual(['wake up']);
  });

  it('a sync waiting with a timeout wakes with an invite to a new room', async () => {
    const s = await syncSpec(carol);
    const waiting = syncSpec(carol, { since: s.next_batch, timeout: 300_000 });
    const roomId = await createRoom(alice, { preset: 'private_chat', name: 'Surprise', invite: [carol.userId] });
    let woke = await waiting;
    // A wake-up may come from an earlier event of the room's creation: sync on until the invite is there.
    for (let i = 0; i < 5 && !woke.rooms.invite[roomId]; i++) woke = await syncSpec(carol, { since: woke.next_batch, timeout: 300_000 });
    expect(woke.rooms.invite[roomId]).toBeDefined();
  });

  // A token at the server's current position takes the fast path (no stream is read):
  // each stream must still wake it and be served.
  it('a long-poll from the current position wakes for account data, room account data, receipts, typing and push rules', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    const eventId = await sendText(alice, roomId, 'read me');
    const changes: Array<[string, () => Promise<Reply>, (b: Record<string, any>) => boolean]> = [
      [
        'account data',
        () => bob.client.put(`${CS}/user/${enc(bob.userId)}/account_data/org.example.fast`, { n: 1 }),
        (b) => b.account_data.events.some((e: any) => e.type === 'org.example.fast'),
      ],
      [
        'room account data',
        () => bob.client.put(`${CS}/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/org.example.fastroom`, { n: 1 }),
        (b) => (b.rooms.join[roomId]?.account_data.events ?? []).some((e: any) => e.type === 'org.example.fastroom'),
      ],
      [
        'receipt',
        () => alice.client.post(roomPath(roomId, `/receipt/m.read/${enc(eventId)}`), {}),
        (b) => (b.rooms.join[roomId]?.ephemeral.events ?? []).some((e: any) => e.type === 'm.receipt'),
      ],
      [
        'typing',
        () => alice.client.put(roomPath(roomId, `/typing/${enc(alice.userId)}`), { typing: true, timeout: 30_000 }),
        (b) =>
          (b.rooms.join[roomId]?.ephemeral.events ?? []).some(
            (e: any) => e.type === 'm.typing' && e.content.user_ids.includes(alice.userId),
          ),
      ],
      [
        'push rules',
        // A rule that matches nothing: one without conditions would silence bob for the rest of the file.
        () =>
          bob.client.put(`${CS}/pushrules/global/override/org.example.fast`, {
            actions: ['dont_notify'],
            conditions: [{ kind: 'event_match', key: 'type', pattern: 'org.example.never' }],
          }),
        (b) => b.account_data.events.some((e: any) => e.type === 'm.push_rules'),
      ],
    ];
    let token = (await syncSpec(bob)).next_batch as string;
    for (const [name, change, seen] of changes) {
      token = (await syncSpec(bob, { since: token, timeout: 0 })).next_batch;
      const waiting = syncSpec(bob, { since: token, timeout: 300_000 });
      ok(await change());
      let woke = await waiting;
      for (let i = 0; i < 5 && !seen(woke); i++) woke = await syncSpec(bob, { since: woke.next_batch, timeout: 300_000 });
      expect(seen(woke), name).toBe(true);
      token = woke.next_batch;
    }
  });

  it('timeout=0 from the current position answers empty with the same token, and the next event still arrives', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    const token = (await syncSpec(bob)).next_batch as string;
    for (let i = 0; i < 3; i++) {
      const idle = await syncSpec(bob, { since: token, timeout: 0 });
      expect(idle.next_batch).toBe(token);
      expect(idle.rooms).toEqual({ join: {}, invite: {}, leave: {}, knock: {} });
      expect(idle.account_data.events).toEqual([]);
      expect(idle.presence.events).toEqual([]);
    }
    await sendText(alice, roomId, 'after the quiet');
    await untilPushEvaluated(hs.hs.db.sql);
    const next = await syncSpec(bob, { since: token, timeout: 0 });
    expect(bodiesOf(timelineOf(next, roomId))).toEqual(['after the quiet']);
    expect(next.next_batch).not.toBe(token);
    expect(next.rooms.join[roomId].unread_notifications.notification_count).toBe(1);
  });
});

describe('account data, summary and unread counts', () => {
  it('global and room account data arrive in /sync, once', async () => {
    const roomId = await createRoom(bob, {});
    const s0 = await syncSpec(bob);
    ok(await bob.client.put(`${CS}/user/${enc(bob.userId)}/account_data/org.example.settings`, { theme: 'dark' }));
    ok(await bob.client.put(`${CS}/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/org.example.room`, { pinned: true }));
    const s1 = await syncSpec(bob, { since: s0.next_batch });
    expect(s1.account_data.events).toContainEqual({ type: 'org.example.settings', content: { theme: 'dark' } });
    expect(s1.rooms.join[roomId].account_data.events).toContainEqual({ type: 'org.example.room', content: { pinned: true } });
    const s2 = await syncSpec(bob, { since: s1.next_batch });
    expect(s2.account_data.events.find((e: Record<string, any>) => e.type === 'org.example.settings')).toBeUndefined();
    expect(s2.rooms.join[roomId]).toBeUndefined();
    // An initial sync has them all.
    const fresh = await syncSpec(bob);
    expect(fresh.account_data.events).toContainEqual({ type: 'org.example.settings', content: { theme: 'dark' } });
    expect(fresh.rooms.join[roomId].account_data.events).toContainEqual({ type: 'org.example.room', content: { pinned: true } });
  });

  it('the summary names heroes and counts joined and invited members', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat', invite: [bob.userId, carol.userId] });
    await joinRoom(bob, roomId);
    const s = await syncSpec(bob);
    expect(s.rooms.join[roomId].summary).toEqual({
      'm.heroes': [alice.userId, carol.userId].sort(),
      'm.joined_member_count': 2,
      'm.invited_member_count': 1,
    });
  });

  it('counts messages from others as unread notifications', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat', invite: [bob.userId] });
    await joinRoom(bob, roomId);
    await sendText(alice, roomId, 'one');
    await sendText(alice, roomId, 'two');
    await sendText(bob, roomId, 'my own');
    await sendText(alice, roomId, 'three');
    await untilPushEvaluated(hs.hs.db.sql);
    const s = await syncSpec(bob);
    expect(s.rooms.join[roomId].unread_notifications).toMatchObject({ notification_count: 3, highlight_count: 0 });
  });
});

describe('many rooms in one pass', () => {
  // A pass reads each kind of per-room data for all its rooms in one query; every room must still
  // get its own answer. /messages reads one room at a time, so it is the reference.
  it('each room gets its own timeline, bundled relations, unread count and summary', async () => {
    const rooms: string[] = [];
    for (let i = 0; i < 8; i++) {
      const roomId = await createRoom(alice, {
        preset: 'private_chat',
        invite: [bob.userId],
        // Odd rooms hide what was sent before bob joined.
        ...(i % 2 === 1
          ? { initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }] }
          : {}),
      });
      await sendText(alice, roomId, `before ${i}`);
      await joinRoom(bob, roomId);
      for (let j = 0; j < i; j++) await sendText(alice, roomId, `room ${i} message ${j}`);
      if (i % 3 === 0) {
        const root = await sendText(alice, roomId, `root ${i}`);
        await sendEvent(bob, roomId, 'm.room.message', {
          msgtype: 'm.text',
          body: `reply ${i}`,
          'm.relates_to': { rel_type: 'm.thread', event_id: root },
        });
      }
      if (i % 4 === 1) {
        const original = await sendText(alice, roomId, `typo ${i}`);
        await sendEvent(alice, roomId, 'm.room.message', {
          msgtype: 'm.text',
          body: `* fixed ${i}`,
          'm.new_content': { msgtype: 'm.text', body: `fixed ${i}` },
          'm.relates_to': { rel_type: 'm.replace', event_id: original },
        });
      }
      rooms.push(roomId);
    }
    await untilPushEvaluated(hs.hs.db.sql);
    const body = await syncSpec(bob, { filter: JSON.stringify({ room: { timeline: { limit: 6 } } }) });
    for (const [i, roomId] of rooms.entries()) {
      const room = body.rooms.join[roomId];
      const page = ok(await messages(bob, roomId, { dir: 'b', limit: 6 }));
      const expected = (page.chunk as Array<Record<string, any>>).reverse();
      expect(
        room.timeline.events.map((e: Record<string, any>) => e.event_id),
        `room ${i}`,
      ).toEqual(expected.map((e) => e.event_id));
      // Bundled events carry their age, which moves between the two reads.
      const bundles = (events: Array<Record<string, any>>) =>
        events.map((e) =>
          JSON.parse(JSON.stringify(e.unsigned?.['m.relations'] ?? null, (k, v: unknown) => (k === 'age' ? undefined : v))),
        );
      expect(bundles(room.timeline.events), `room ${i}`).toEqual(bundles(expected));
      // Only messages from others after bob's join count: i, the thread root, the edited original and its edit (not counted).
      const unread = i + (i % 3 === 0 ? 1 : 0) + (i % 4 === 1 ? 1 : 0);
      expect(room.unread_notifications.notification_count, `room ${i}`).toBe(unread);
      expect(room.summary['m.joined_member_count'], `room ${i}`).toBe(2);
      if (i % 2 === 1) expect(bodiesOf(room.timeline.events), `room ${i}`).not.toContain(`before ${i}`);
    }
    const threaded = body.rooms.join[rooms[3]!].timeline.events.find((e: Record<string, any>) => e.content.body === 'root 3');
    expect(threaded.unsigned['m.relations']['m.thread']).toMatchObject({ count: 1, current_user_participated: true });
    const edited = body.rooms.join[rooms[5]!].timeline.events.find((e: Record<string, any>) => e.content.body === 'typo 5');
    expect(edited.unsigned['m.relations']['m.replace'].content['m.new_content'].body).toBe('fixed 5');
  });
});
