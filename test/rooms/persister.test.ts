import { describe, expect, it } from 'vitest';
import { generateSigningKey, hashAndSignEvent, type PduDraft } from '../../federation/events/index.ts';
import { stateKey } from '../../federation/events/pdu.ts';
import type { JsonObject, Pdu } from '../../federation/events/pdu.ts';
import { roomVersion } from '../../federation/room-versions.ts';
import { checkEventAuth } from '../../federation/auth/index.ts';
import { resolveState } from '../../federation/state-res/index.ts';
import { createRoom, messages, ok, roomPath, sendText, setState, syncOk } from '../support/rooms.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * The persister's steps on hand-built DAGs: events another server sent, handed
 * in where federation will hand them in, then read back through the client API.
 */
const REMOTE = 'remote.test';
const remoteKey = generateSigningKey();
const V11 = roomVersion('11')!;
const BOB = `@bob:${REMOTE}`;
const MALLORY = `@mallory:${REMOTE}`;

const {
  hs,
  users: [alice],
} = withHomeserver({ users: ['persist_alice'] });
let ts = Date.now();

interface Room {
  roomId: string;
  /** The room's state event ids by (type, state_key). */
  state: Map<string, string>;
}

async function roomState(roomId: string): Promise<Room> {
  const events = ok(await alice.client.get(roomPath(roomId, '/state'))) as unknown as Array<Record<string, any>>;
  return { roomId, state: new Map(events.map((e) => [stateKey(e.type, e.state_key), e.event_id as string])) };
}

async function extremities(roomId: string): Promise<string[]> {
  const rows = await hs.hs.db.sql<{ event_id: string }[]>`select event_id from forward_extremities where room_id = ${roomId}`;
  return rows.map((r) => r.event_id).sort();
}

async function depthOf(eventId: string): Promise<number> {
  const [row] = await hs.hs.db.sql<{ depth: number }[]>`select depth from events where event_id = ${eventId}`;
  return Number(row!.depth);
}

/** A remote event, hashed and signed by remote.test, citing the named auth and prev events. */
async function remoteEvent(
  room: Room,
  e: { sender?: string; type: string; stateKey?: string; content: JsonObject; prev: string[]; auth: string[]; depth?: number },
): Promise<Pdu> {
  const depth = e.depth ?? Math.max(...(await Promise.all(e.prev.map(depthOf)))) + 1;
  const draft: PduDraft = {
    room_id: room.roomId,
    sender: e.sender ?? BOB,
    type: e.type,
    ...(e.stateKey !== undefined ? { state_key: e.stateKey } : {}),
    content: e.content,
    origin_server_ts: ++ts,
    depth,
    prev_events: e.prev,
    auth_events: e.auth,
  };
  return hashAndSignEvent(draft, V11, REMOTE, remoteKey);
}

const authOf = (room: Room, ...keys: Array<[string, string]>) =>
  [stateKey('m.room.create', ''), stateKey('m.room.power_levels', ''), ...keys.map(([t, k]) => stateKey(t, k))]
    .map((k) => room.state.get(k))
    .filter((id): id is string => id !== undefined);

/** A public room alice made, with bob (remote) joined and given power 100. */
async function roomWithBob(powered = true): Promise<Room> {
  const roomId = await createRoom(alice, { preset: 'public_chat' });
  let room = await roomState(roomId);
  const join = await remoteEvent(room, {
    type: 'm.room.member',
    stateKey: BOB,
    content: { membership: 'join' },
    prev: await extremities(roomId),
    auth: authOf(room, ['m.room.join_rules', '']),
  });
  expect((await hs.hs.events.persistRemote({ pdu: join })).verdict).toEqual({ outcome: 'accepted' });
  if (!powered) return roomState(roomId);
  const pl = ok(await alice.client.get(roomPath(roomId, '/state/m.room.power_levels/')));
  await setState(alice, roomId, 'm.room.power_levels', '', { ...pl, users: { ...(pl.users as object), [BOB]: 100 } });
  room = await roomState(roomId);
  return room;
}

async function timelineIds(roomId: string): Promise<string[]> {
  const body = ok(await messages(alice, roomId, { dir: 'b', limit: 100 }));
  return (body.chunk as Array<Record<string, any>>).map((e) => e.event_id as string);
}

async function row(eventId: string) {
  const [r] = await hs.hs.db.sql<
    {
      outlier: boolean;
      rejected_reason: string | null;
      soft_failed: boolean;
      stream_pos: number;
      state_group: number | null;
      in_timeline: boolean;
    }[]
  >`
    select outlier, rejected_reason, soft_failed, stream_pos, state_group, in_timeline from events where event_id = ${eventId}`;
  return r;
}

describe('persister: state before an event with several prev events', () => {
  it('two branches that set the topic are merged by state resolution, and the next local event cites both', async () => {
    const room = await roomWithBob();
    const [fork] = await extremities(room.roomId);
    const bobAuth = authOf(room, ['m.room.member', BOB]);
    const t1 = await remoteEvent(room, { type: 'm.room.topic', stateKey: '', content: { topic: 'one' }, prev: [fork!], auth: bobAuth });
    const t2 = await remoteEvent(room, { type: 'm.room.topic', stateKey: '', content: { topic: 'two' }, prev: [fork!], auth: bobAuth });
    for (const pdu of [t1, t2]) expect((await hs.hs.events.persistRemote({ pdu })).verdict.outcome).toBe('accepted');
    expect(await extremities(room.roomId)).toEqual([t1.event_id, t2.event_id].sort());

    // Same sender and power, same mainline position: the later origin_server_ts is applied last and wins.
    expect(ok(await alice.client.get(roomPath(room.roomId, '/state/m.room.topic/'))).topic).toBe('two');

    const next = await sendText(alice, room.roomId, 'after the merge');
    const [stored] = await hs.hs.db.sql<{ pdu: string }[]>`select pdu from events where event_id = ${next}`;
    expect((JSON.parse(stored!.pdu) as Pdu).prev_events.sort()).toEqual([t1.event_id, t2.event_id].sort());
    expect(await extremities(room.roomId)).toEqual([next]);
  });
  it('branches with conflicting power events over a room of many members resolve as the resolver does with every event in hand', async () => {
    const room = await roomWithBob();
    const members = Array.from({ length: 30 }, (_, i) => `@m${i}:${REMOTE}`);
    let head = (await extremities(room.roomId))[0]!;
    for (const m of members) {
      const join = await remoteEvent(room, {
        sender: m,
        type: 'm.room.member',
        stateKey: m,
        content: { membership: 'join' },
        prev: [head],
        auth: authOf(room, ['m.room.join_rules', '']),
      });
      expect((await hs.hs.events.persistRemote({ pdu: join })).verdict.outcome).toBe('accepted');
      head = join.event_id;
    }
    const base = await roomState(room.roomId);
    const pl = ok(await alice.client.get(roomPath(room.roomId, '/state/m.room.power_levels/')));
    const bobAuth = authOf(base, ['m.room.member', BOB]);

    const accepted = async (...args: Parameters<typeof remoteEvent>): Promise<Pdu> => {
      const pdu = await remoteEvent(...args);
      expect((await hs.hs.events.persistRemote({ pdu })).verdict.outcome).toBe('accepted');
      return pdu;
    };
    // Branch A: bob makes m1 a moderator, who then kicks m2; m3 leaves.
    const promote = await accepted(base, {
      type: 'm.room.power_levels',
      stateKey: '',
      content: { ...pl, users: { ...(pl.users as object), [members[1]!]: 50 } },
      prev: [head],
      auth: bobAuth,
    });
    const kick = await accepted(base, {
      sender: members[1]!,
      type: 'm.room.member',
      stateKey: members[2]!,
      content: { membership: 'leave' },
      prev: [promote.event_id],
      auth: [
        base.state.get(stateKey('m.room.create', ''))!,
        promote.event_id,
        base.state.get(stateKey('m.room.member', members[1]!))!,
        base.state.get(stateKey('m.room.member', members[2]!))!,
      ],
    });
    const leave = await accepted(base, {
      sender: members[3]!,
      type: 'm.room.member',
      stateKey: members[3]!,
      content: { membership: 'leave' },
      prev: [kick.event_id],
      auth: authOf(base, ['m.room.member', members[3]!]),
    });
    // Branch B, from the same point: bob bans m1 and renames the room; m4 changes its displayname.
    const ban = await accepted(base, {
      type: 'm.room.member',
      stateKey: members[1]!,
      content: { membership: 'ban' },
      prev: [head],
      auth: authOf(base, ['m.room.member', BOB], ['m.room.member', members[1]!]),
    });
    const name = await accepted(base, {
      type: 'm.room.name',
      stateKey: '',
      content: { name: 'B' },
      prev: [ban.event_id],
      auth: bobAuth,
    });
    const rename = await accepted(base, {
      sender: members[4]!,
      type: 'm.room.member',
      stateKey: members[4]!,
      content: { membership: 'join', displayname: 'four' },
      prev: [name.event_id],
      auth: authOf(base, ['m.room.member', members[4]!], ['m.room.join_rules', '']),
    });
    expect(await extremities(room.roomId)).toEqual([leave.event_id, rename.event_id].sort());

    // The reference: the pure resolver over the two branches' states, with every event of the room loaded.
    const all = await hs.hs.db.sql<{ event_id: string; pdu: string }[]>`select event_id, pdu from events where room_id = ${room.roomId}`;
    const byId = new Map(all.map((r) => [r.event_id, { ...(JSON.parse(r.pdu) as Pdu), event_id: r.event_id }]));
    const after = (events: Pdu[]) => {
      const state = new Map(base.state);
      for (const e of events) state.set(stateKey(e.type, e.state_key!), e.event_id);
      return state;
    };
    const expected = resolveState([after([promote, kick, leave]), after([ban, name, rename])], (id) => byId.get(id), V11, checkEventAuth);
    const served = await roomState(room.roomId);
    expect(new Map([...served.state].sort())).toEqual(new Map([...expected].sort()));
    // And what that means: the ban stands over the promotion of the banned user's kick.
    expect(served.state.get(stateKey('m.room.member', members[1]!))).toBe(ban.event_id);
    expect(served.state.get(stateKey('m.room.member', members[3]!))).toBe(leave.event_id);
    expect(served.state.get(stateKey('m.room.member', members[4]!))).toBe(rename.event_id);
    expect(served.state.get(stateKey('m.room.name', ''))).toBe(name.event_id);
  });
});

describe('persister: the three auth checks', () => {
  it('an event that fails auth against its auth events is stored as rejected, and nowhere else', async () => {
    const room = await roomWithBob();
    const since = (await syncOk(alice, { timeout: 0 })).next_batch as string;
    const before = await extremities(room.roomId);
    const bad = await remoteEvent(room, {
      sender: MALLORY,
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'let me in' },
      prev: before,
      auth: authOf(room),
    });
    const { verdict } = await hs.hs.events.persistRemote({ pdu: bad });
    expect(verdict.outcome).toBe('rejected');
    expect((await row(bad.event_id))!.rejected_reason).toMatch(/auth events/);
    expect(await extremities(room.roomId)).toEqual(before);
    expect(await timelineIds(room.roomId)).not.toContain(bad.event_id);
    const after = await syncOk(alice, { since, timeout: 0 });
    expect(JSON.stringify(after.rooms?.join ?? {})).not.toContain(bad.event_id);
    expect((await alice.client.get(roomPath(room.roomId, `/event/${encodeURIComponent(bad.event_id)}`))).status).toBe(404);
    // Handing it in again changes nothing.
    expect((await hs.hs.events.persistRemote({ pdu: bad })).verdict.outcome).toBe('rejected');
  });

  it('an event that passes against the state before it but not the current state is soft-failed', async () => {
    const room = await roomWithBob(false);
    const [beforeBan] = await extremities(room.roomId);
    // alice bans bob; bob's server has not seen that yet.
    ok(await alice.client.post(roomPath(room.roomId, '/ban'), { user_id: BOB }));
    const since = (await syncOk(alice, { timeout: 0 })).next_batch as string;

    const late = await remoteEvent(room, {
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'sent before I saw the ban' },
      prev: [beforeBan!],
      auth: authOf(room, ['m.room.member', BOB]),
    });
    const { verdict } = await hs.hs.events.persistRemote({ pdu: late });
    expect(verdict.outcome).toBe('soft_failed');
    const r = await row(late.event_id);
    expect(r).toMatchObject({ soft_failed: true, rejected_reason: null, in_timeline: false });
    expect(r!.state_group).not.toBeNull();
    expect(await timelineIds(room.roomId)).not.toContain(late.event_id);
    const after = await syncOk(alice, { since, timeout: 0 });
    expect(JSON.stringify(after.rooms?.join ?? {})).not.toContain(late.event_id);
    // Not a prev event of later events.
    const next = await sendText(alice, room.roomId, 'next');
    const [stored] = await hs.hs.db.sql<{ pdu: string }[]>`select pdu from events where event_id = ${next}`;
    expect((JSON.parse(stored!.pdu) as Pdu).prev_events).not.toContain(late.event_id);
  });
});

describe('persister: outliers, backfill and missing events', () => {
  it('an outlier is stored without state, off the live stream', async () => {
    const room = await roomWithBob();
    const o = await remoteEvent(room, {
      type: 'm.room.name',
      stateKey: '',
      content: { name: 'from elsewhere' },
      prev: await extremities(room.roomId),
      auth: authOf(room, ['m.room.member', BOB]),
    });
    const before = await extremities(room.roomId);
    await hs.hs.events.persistRemote({ pdu: o, outlier: true });
    const r = await row(o.event_id);
    expect(r).toMatchObject({ outlier: true, state_group: null, in_timeline: false });
    expect(Number(r!.stream_pos)).toBeLessThan(0);
    expect(await extremities(room.roomId)).toEqual(before);
    expect(ok(await alice.client.get(roomPath(room.roomId, '/state'))).toString()).not.toContain('from elsewhere');
  });

  it('an event whose prev events are unknown fails naming them, and writes nothing', async () => {
    const room = await roomWithBob();
    const e = await remoteEvent(room, {
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'orphan' },
      prev: ['$nothere'],
      auth: authOf(room, ['m.room.member', BOB]),
      depth: 50,
    });
    const [{ n: before }] = (await hs.hs.db.sql`select count(*)::int as n from events`) as unknown as [{ n: number }];
    await expect(hs.hs.events.persistRemote({ pdu: e })).rejects.toMatchObject({ name: 'MissingEventsError', eventIds: ['$nothere'] });
    const [{ n: after }] = (await hs.hs.db.sql`select count(*)::int as n from events`) as unknown as [{ n: number }];
    expect(after).toBe(before);
  });

  it('a backfilled older event takes its topological place in /messages and never appears in /sync', async () => {
    const room = await roomWithBob();
    const [p] = await extremities(room.roomId);
    const bobAuth = authOf(room, ['m.room.member', BOB]);
    // e1 is bob's event we have not received; e2 cites it, and arrives with the state before it (as from /state_ids).
    const e1 = await remoteEvent(room, {
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'older' },
      prev: [p!],
      auth: bobAuth,
    });
    const e2 = await remoteEvent(room, {
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'newer' },
      prev: [e1.event_id],
      auth: bobAuth,
      depth: e1.depth + 1,
    });
    expect((await hs.hs.events.persistRemote({ pdu: e2, stateBefore: room.state })).verdict.outcome).toBe('accepted');
    const backward = await hs.hs.db.sql`select event_id from backward_extremities where room_id = ${room.roomId}`;
    expect(backward.map((r) => r.event_id)).toEqual([e1.event_id]);

    const since = (await syncOk(alice, { timeout: 0 })).next_batch as string;
    expect((await hs.hs.events.persistRemote({ pdu: e1, backfilled: true })).verdict.outcome).toBe('accepted');
    expect(Number((await row(e1.event_id))!.stream_pos)).toBeLessThan(0);
    expect(await hs.hs.db.sql`select event_id from backward_extremities where room_id = ${room.roomId}`).toHaveLength(0);

    const ids = await timelineIds(room.roomId);
    expect(ids.indexOf(e2.event_id)).toBe(0);
    expect(ids.indexOf(e1.event_id)).toBe(1);
    expect(ids.indexOf(p!)).toBe(2);
    const after = await syncOk(alice, { since, timeout: 0 });
    expect(JSON.stringify(after.rooms?.join ?? {})).not.toContain(e1.event_id);
    // Paging forwards from the start meets it in the same place.
    const forwards = ok(await messages(alice, room.roomId, { dir: 'f', limit: 100 }));
    const fIds = (forwards.chunk as Array<Record<string, any>>).map((e) => e.event_id);
    expect(fIds.slice(-2)).toEqual([e1.event_id, e2.event_id]);
  });
});

describe('persister: redactions', () => {
  it('a redaction that arrives before its target is held back, then applied and shown when the target arrives', async () => {
    const room = await roomWithBob();
    const [p] = await extremities(room.roomId);
    const bobAuth = authOf(room, ['m.room.member', BOB]);
    const target = await remoteEvent(room, {
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'regret' },
      prev: [p!],
      auth: bobAuth,
    });
    const redaction = await remoteEvent(room, {
      type: 'm.room.redaction',
      content: { redacts: target.event_id },
      prev: [p!],
      auth: bobAuth,
    });
    const since = (await syncOk(alice, { timeout: 0 })).next_batch as string;
    expect((await hs.hs.events.persistRemote({ pdu: redaction })).verdict.outcome).toBe('accepted');
    expect(await timelineIds(room.roomId)).not.toContain(redaction.event_id);
    const held = await syncOk(alice, { since, timeout: 0 });
    expect(JSON.stringify(held.rooms?.join ?? {})).not.toContain(redaction.event_id);

    await hs.hs.events.persistRemote({ pdu: target });
    const shown = ok(await alice.client.get(roomPath(room.roomId, `/event/${encodeURIComponent(target.event_id)}`)));
    expect(shown.content).toEqual({});
    expect(shown.unsigned?.redacted_because?.event_id).toBe(redaction.event_id);
    const after = await syncOk(alice, { since: held.next_batch, timeout: 0 });
    const timeline = (after.rooms?.join?.[room.roomId]?.timeline?.events ?? []) as Array<Record<string, any>>;
    expect(timeline.map((e) => e.event_id)).toContain(redaction.event_id);
    expect(JSON.stringify(timeline)).not.toContain('regret');
  });
});
