import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { registerUser, type TestUser } from '../support/client.ts';
import {
  CS,
  bodiesOf,
  createRoom,
  enc,
  joinRoom,
  leaveRoom,
  messages,
  ok,
  paginate,
  roomPath,
  sendText,
  syncOk,
} from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { presenceOf, syncToken } from '../support/sync.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** Room and sync behaviour that Complement and review found missing. */

const { hs } = withHomeserver();
let n = 0;
const user = () => registerUser(hs.url, `rsg_${++n}`);

const publicRoom = (owner: TestUser, visibility = 'shared') =>
  createRoom(owner, {
    preset: 'public_chat',
    initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: visibility } }],
  });
const memberEvents = async (viewer: TestUser, roomId: string, userId: string) =>
  (await paginate(viewer, roomId, { dir: 'b', limit: 50 })).events.filter((e) => e.type === 'm.room.member' && e.state_key === userId);

describe('POST /join with a body', () => {
  it('keeps custom keys, the reason and a given displayname in the member event', async () => {
    const [alice, bob] = await Promise.all([user(), user()]);
    const roomId = await publicRoom(alice);
    const body = { reason: 'hello', foo: 'bar', displayname: 'Bobby Tables', membership: 'leave' };
    expect(ok(await bob.client.post(`${CS}/join/${enc(roomId)}`, body))).toEqual({ room_id: roomId });
    const member = ok(await alice.client.get(roomPath(roomId, `/state/m.room.member/${enc(bob.userId)}`)));
    expect(member).toEqual({ membership: 'join', reason: 'hello', foo: 'bar', displayname: 'Bobby Tables' });
  });

  it('also on /rooms/{roomId}/join', async () => {
    const [alice, bob] = await Promise.all([user(), user()]);
    const roomId = await publicRoom(alice);
    ok(await bob.client.post(roomPath(roomId, '/join'), { foo: { nested: [1, 2] } }));
    const member = ok(await alice.client.get(roomPath(roomId, `/state/m.room.member/${enc(bob.userId)}`)));
    expect(member).toMatchObject({ membership: 'join', foo: { nested: [1, 2] } });
  });

  it('does not send a new member event when already joined with the same content', async () => {
    const [alice, bob] = await Promise.all([user(), user()]);
    const roomId = await publicRoom(alice);
    await joinRoom(bob, roomId);
    await joinRoom(bob, roomId);
    expect(ok(await bob.client.post(roomPath(roomId, '/join'), {}))).toEqual({ room_id: roomId });
    expect(await memberEvents(alice, roomId, bob.userId)).toHaveLength(1);
    // A join with different content is a change, and is sent.
    ok(await bob.client.post(roomPath(roomId, '/join'), { reason: 'again' }));
    expect(await memberEvents(alice, roomId, bob.userId)).toHaveLength(2);
  });
});

describe('GET /joined_members', () => {
  it('gives display_name and avatar_url per member, on v3 and r0', async () => {
    const [alice, bob] = await Promise.all([user(), user()]);
    ok(await bob.client.put(`${CS}/profile/${enc(bob.userId)}/avatar_url`, { avatar_url: 'mxc://example.org/bob' }));
    ok(await bob.client.put(`${CS}/profile/${enc(bob.userId)}/displayname`, { displayname: 'Bob B' }));
    const roomId = await publicRoom(alice);
    await joinRoom(bob, roomId);
    for (const path of [roomPath(roomId, '/joined_members'), `/_matrix/client/r0/rooms/${enc(roomId)}/joined_members`]) {
      const body = ok(await alice.client.get(path));
      expectMatchesSpec('rooms.yaml', '/rooms/{roomId}/joined_members', 'GET', 200, body);
      expect(body.joined[bob.userId]).toEqual({ display_name: 'Bob B', avatar_url: 'mxc://example.org/bob' });
      expect(Object.keys(body.joined).sort()).toEqual([alice.userId, bob.userId].sort());
    }
  });
});

describe('a forgotten room', () => {
  it('refuses /messages with M_FORBIDDEN', async () => {
    const [alice, bob] = await Promise.all([user(), user()]);
    const roomId = await publicRoom(alice);
    await joinRoom(bob, roomId);
    await sendText(alice, roomId, 'seen before forgetting');
    await leaveRoom(bob, roomId);
    ok(await messages(bob, roomId, { dir: 'b' }));
    ok(await bob.client.post(roomPath(roomId, '/forget'), {}));
    expectMatrixError(await messages(bob, roomId, { dir: 'b' }), 403, 'M_FORBIDDEN');
  });
});

describe('GET /members?at=', () => {
  it('answers the membership as of a sync token or a prev_batch', async () => {
    const [alice, bob, carol] = await Promise.all([user(), user(), user()]);
    const roomId = await publicRoom(alice);
    await joinRoom(bob, roomId);
    const s = await syncOk(alice, { filter: { room: { timeline: { limit: 1 } } } });
    const prevBatch = s.rooms.join[roomId].timeline.prev_batch as string;
    await joinRoom(carol, roomId);
    await leaveRoom(bob, roomId);

    const joinedAt = async (at: string) => {
      const body = ok(await alice.client.get(roomPath(roomId, `/members?at=${enc(at)}`)));
      expectMatchesSpec('rooms.yaml', '/rooms/{roomId}/members', 'GET', 200, body);
      return (body.chunk as Array<Record<string, any>>)
        .filter((e) => e.content.membership === 'join')
        .map((e) => e.state_key)
        .sort();
    };
    expect(await joinedAt(s.next_batch)).toEqual([alice.userId, bob.userId].sort());
    // prev_batch points just before the newest event (bob's join): bob was not yet in.
    expect(await joinedAt(prevBatch)).toEqual([alice.userId]);
    const now = ok(await alice.client.get(roomPath(roomId, '/members?membership=join')));
    expect(now.chunk.map((e: Record<string, any>) => e.state_key).sort()).toEqual([alice.userId, carol.userId].sort());
  });
});

describe('unsigned.membership', () => {
  it('gives the requesting user their membership at each event, everywhere events are served', async () => {
    const [alice, bob] = await Promise.all([user(), user()]);
    const roomId = await publicRoom(alice);
    const before = await sendText(alice, roomId, 'before bob');
    await joinRoom(bob, roomId);
    const during = await sendText(alice, roomId, 'with bob');
    await leaveRoom(bob, roomId);
    const after = await sendText(alice, roomId, 'after bob');

    const byBody = (events: Array<Record<string, any>>) =>
      Object.fromEntries(events.filter((e) => e.type === 'm.room.message').map((e) => [e.content.body, e.unsigned.membership]));
    const bobSees = (await paginate(bob, roomId, { dir: 'b', limit: 50 })).events;
    expect(byBody(bobSees)).toEqual({ 'before bob': 'leave', 'with bob': 'join' });
    const bobsMembers = bobSees.filter((e) => e.type === 'm.room.member' && e.state_key === bob.userId);
    expect(bobsMembers.map((e) => [e.content.membership, e.unsigned.membership])).toEqual([
      ['leave', 'leave'],
      ['join', 'join'],
    ]);
    expect(bobSees.every((e) => typeof e.unsigned.membership === 'string')).toBe(true);

    const aliceSees = (await paginate(alice, roomId, { dir: 'b', limit: 50 })).events;
    expect(byBody(aliceSees)).toEqual({ 'before bob': 'join', 'with bob': 'join', 'after bob': 'join' });
    const create = aliceSees.find((e) => e.type === 'm.room.create');
    // The create event comes before the creator's join.
    expect(create?.unsigned.membership).toBe('leave');

    const one = ok(await bob.client.get(roomPath(roomId, `/event/${enc(during)}`)));
    expectMatchesSpec('rooms.yaml', '/rooms/{roomId}/event/{eventId}', 'GET', 200, one);
    expect(one.unsigned.membership).toBe('join');
    expect(ok(await bob.client.get(roomPath(roomId, `/event/${enc(before)}`))).unsigned.membership).toBe('leave');
    const ctx = ok(await alice.client.get(roomPath(roomId, `/context/${enc(after)}`)));
    expect(ctx.event.unsigned.membership).toBe('join');
    expect([...ctx.events_before, ...ctx.state].every((e: Record<string, any>) => typeof e.unsigned?.membership === 'string')).toBe(true);

    const s = await syncOk(alice);
    const tl = s.rooms.join[roomId].timeline.events as Array<Record<string, any>>;
    expect(tl.length).toBeGreaterThan(0);
    expect(tl.every((e) => e.unsigned.membership === 'join')).toBe(true);
  });
});

describe('/messages with lazy-loaded members', () => {
  it('returns the member events of the senders on the page, also those who joined within it', async () => {
    const [alice, bob] = await Promise.all([user(), user()]);
    const roomId = await publicRoom(alice);
    await sendText(alice, roomId, 'alice alone');
    await joinRoom(bob, roomId);
    await sendText(bob, roomId, 'bob speaks');
    const filter = { lazy_load_members: true, types: ['m.room.message', 'm.room.member'] };
    const body = ok(await messages(alice, roomId, { dir: 'b', limit: 3, filter }));
    expectMatchesSpec('message_pagination.yaml', '/rooms/{roomId}/messages', 'GET', 200, body);
    expect(bodiesOf(body.chunk)).toEqual(['bob speaks', 'alice alone']);
    const members = (body.state as Array<Record<string, any>>).filter((e) => e.type === 'm.room.member');
    expect(members.map((e) => e.state_key).sort()).toEqual([alice.userId, bob.userId].sort());
    expect(members.every((e) => e.content.membership === 'join')).toBe(true);
  });
});

describe('incremental /sync', () => {
  it('marks the timeline of a newly joined room limited when history before the join is left out', async () => {
    const [alice, bob] = await Promise.all([user(), user()]);
    const roomId = await publicRoom(alice, 'joined');
    await sendText(alice, roomId, 'before bob, members only');
    const since = await syncToken(bob);
    await joinRoom(bob, roomId);
    const s = await syncOk(bob, { since, set_presence: 'offline' });
    const room = s.rooms.join[roomId];
    const tl = room.timeline.events as Array<Record<string, any>>;
    // The room's opening events (before any history_visibility) count as shared; the message does not.
    expect(tl.at(-1)).toMatchObject({ type: 'm.room.member', state_key: bob.userId });
    expect(bodiesOf(tl)).toEqual([]);
    expect(room.timeline.limited).toBe(true);
    expect(room.timeline.prev_batch).toEqual(expect.any(String));
  });

  it('does not mark an old room limited when nothing was left out', async () => {
    const [alice, bob] = await Promise.all([user(), user()]);
    const roomId = await publicRoom(alice, 'joined');
    await joinRoom(bob, roomId);
    const since = await syncToken(bob);
    await sendText(alice, roomId, 'one new message');
    const s = await syncOk(bob, { since, set_presence: 'offline' });
    expect(bodiesOf(s.rooms.join[roomId].timeline.events)).toEqual(['one new message']);
    expect(s.rooms.join[roomId].timeline.limited).toBe(false);
  });

  it('delivers the presence of users who newly share a room, even if it did not change', async () => {
    const [alice, bob] = await Promise.all([user(), user()]);
    ok(await alice.client.put(`${CS}/presence/${enc(alice.userId)}/status`, { presence: 'online', status_msg: 'here' }));
    ok(await bob.client.put(`${CS}/presence/${enc(bob.userId)}/status`, { presence: 'unavailable', status_msg: 'away' }));
    const roomId = await publicRoom(alice);
    const aliceSince = await syncToken(alice);
    const bobSince = await syncToken(bob);
    expect(presenceOf(await syncOk(alice, { set_presence: 'offline' }), bob.userId)).toEqual([]);

    await joinRoom(bob, roomId);
    const forAlice = await syncOk(alice, { since: aliceSince, set_presence: 'offline' });
    expect(presenceOf(forAlice, bob.userId).map((e) => e.content)).toEqual([
      expect.objectContaining({ presence: 'unavailable', status_msg: 'away' }),
    ]);
    const forBob = await syncOk(bob, { since: bobSince, set_presence: 'offline' });
    expect(presenceOf(forBob, alice.userId).map((e) => e.content)).toEqual([
      expect.objectContaining({ presence: 'online', status_msg: 'here' }),
    ]);
    // Once shared, unchanged presence is not repeated.
    const again = await syncOk(alice, { since: forAlice.next_batch, timeout: 0, set_presence: 'offline' });
    expect(presenceOf(again, bob.userId)).toEqual([]);
  });
});
