import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { registerUser, type TestUser } from '../support/client.ts';
import {
  CS,
  createRoom,
  enc,
  getState,
  inviteUser,
  joinRoom,
  leaveRoom,
  ok,
  roomPath,
  sendText,
  setState,
  syncOk,
} from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** join, invite, kick, ban, unban, leave, forget, knock, and the member lists. */

const {
  hs,
  users: [alice, bob, carol, dave],
} = withHomeserver({ users: ['mb_alice', 'mb_bob', 'mb_carol', 'mb_dave'] });
beforeAll(async () => {
  ok(await alice.client.put(`${CS}/profile/${enc(alice.userId)}/displayname`, { displayname: 'Alice A.' }));
});

const membershipOf = async (viewer: TestUser, roomId: string, userId: string) =>
  (await getState(viewer, roomId, 'm.room.member', userId)).membership;

describe('joining', () => {
  it('anyone may join a public room, through /join/{roomIdOrAlias} or /rooms/{roomId}/join', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    const j1 = await bob.client.post(`${CS}/join/${enc(roomId)}`, {});
    expect(j1.status, JSON.stringify(j1.body)).toBe(200);
    expectMatchesSpec('joining.yaml', '/join/{roomIdOrAlias}', 'POST', 200, j1.body);
    const j2 = await carol.client.post(roomPath(roomId, '/join'), { reason: 'curious' });
    expect(j2.status, JSON.stringify(j2.body)).toBe(200);
    expectMatchesSpec('joining.yaml', '/rooms/{roomId}/join', 'POST', 200, j2.body);
    expect(j2.body.room_id).toBe(roomId);
    expect(await getState(alice, roomId, 'm.room.member', carol.userId)).toMatchObject({ membership: 'join', reason: 'curious' });
    // Joining again is harmless.
    await joinRoom(bob, roomId);
    expect(ok(await bob.client.get(`${CS}/joined_rooms`)).joined_rooms).toContain(roomId);
  });

  it('joins through a room alias, and carries the profile into the member event', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat', room_alias_name: 'mb-by-alias' });
    const res = ok(await bob.client.post(`${CS}/join/${enc('#mb-by-alias:localhost')}`, {}));
    expect(res.room_id).toBe(roomId);
    expect(await membershipOf(alice, roomId, bob.userId)).toBe('join');
    expect((await getState(bob, roomId, 'm.room.member', alice.userId)).displayname).toBe('Alice A.');
    expectMatrixError(await bob.client.post(`${CS}/join/${enc('#mb-no-such-alias:localhost')}`, {}), 404, 'M_NOT_FOUND');
  });

  it('an invite-only room refuses an uninvited joiner with M_FORBIDDEN', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat' });
    expectMatrixError(await bob.client.post(`${CS}/join/${enc(roomId)}`, {}), 403, 'M_FORBIDDEN');
    expectMatrixError(await bob.client.post(roomPath(roomId, '/join'), {}), 403, 'M_FORBIDDEN');
  });

  it('rejects a malformed room id, an unknown room and a bad body', async () => {
    expectMatrixError(await bob.client.post(`${CS}/join/${enc('not-a-room')}`, {}), 400, 'M_INVALID_PARAM');
    const unknown = await bob.client.post(`${CS}/join/${enc('!doesnotexist:localhost')}`, {});
    expect(unknown.status, JSON.stringify(unknown.body)).toBe(404);
    expect(unknown.body.errcode).toBe('M_NOT_FOUND');
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    expectMatrixError(await bob.client.request('POST', roomPath(roomId, '/join'), undefined, { raw: 'nope' }), 400, 'M_NOT_JSON');
    expectMatrixError(await bob.client.post(roomPath(roomId, '/join'), { reason: 42 }), 400, 'M_BAD_JSON');
  });
});

describe('inviting', () => {
  it('invites, the invitee sees it in /sync and joins; re-inviting is a no-op', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat', name: 'Invite only' });
    const res = await alice.client.post(roomPath(roomId, '/invite'), { user_id: bob.userId, reason: 'come along' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({});
    expect(await getState(alice, roomId, 'm.room.member', bob.userId)).toMatchObject({ membership: 'invite', reason: 'come along' });
    ok(await alice.client.post(roomPath(roomId, '/invite'), { user_id: bob.userId }));

    const s = await syncOk(bob);
    const stripped = s.rooms.invite[roomId].invite_state.events as Array<Record<string, any>>;
    expect(stripped.find((e) => e.type === 'm.room.name')?.content.name).toBe('Invite only');
    expect(stripped.find((e) => e.type === 'm.room.member' && e.state_key === bob.userId)?.content.membership).toBe('invite');

    await joinRoom(bob, roomId);
    expect(await membershipOf(alice, roomId, bob.userId)).toBe('join');
  });

  it('an invitee may decline by leaving', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat' });
    await inviteUser(alice, roomId, bob.userId);
    await leaveRoom(bob, roomId);
    expect(await membershipOf(alice, roomId, bob.userId)).toBe('leave');
    expectMatrixError(await bob.client.post(roomPath(roomId, '/join'), {}), 403, 'M_FORBIDDEN');
  });

  it('refuses invites from non-members, under-powered members, of joined or banned users, and bad bodies', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat', invite: [bob.userId] });
    await joinRoom(bob, roomId);
    // carol is not in the room
    expectMatrixError(await carol.client.post(roomPath(roomId, '/invite'), { user_id: dave.userId }), 403, 'M_FORBIDDEN');
    // bob has power 0 and a private_chat needs more to invite
    const pl = await getState(alice, roomId, 'm.room.power_levels');
    expect(pl.invite).toBeGreaterThan(0);
    expectMatrixError(await bob.client.post(roomPath(roomId, '/invite'), { user_id: dave.userId }), 403, 'M_FORBIDDEN');
    // already joined
    expectMatrixError(await alice.client.post(roomPath(roomId, '/invite'), { user_id: bob.userId }), 403, 'M_FORBIDDEN');
    // banned
    ok(await alice.client.post(roomPath(roomId, '/ban'), { user_id: carol.userId }));
    expectMatrixError(await alice.client.post(roomPath(roomId, '/invite'), { user_id: carol.userId }), 403, 'M_FORBIDDEN');
    // bodies
    expectMatrixError(await alice.client.post(roomPath(roomId, '/invite'), {}), 400, 'M_MISSING_PARAM');
    expectMatrixError(await alice.client.post(roomPath(roomId, '/invite'), { user_id: 'dave' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await alice.client.request('POST', roomPath(roomId, '/invite'), undefined, { raw: '{' }), 400, 'M_NOT_JSON');
  });
});

describe('kick, ban, unban', () => {
  it('a moderator kicks a member, who may rejoin a public room; a member cannot kick', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    await joinRoom(carol, roomId);
    expectMatrixError(await bob.client.post(roomPath(roomId, '/kick'), { user_id: carol.userId }), 403, 'M_FORBIDDEN');
    const kick = await alice.client.post(roomPath(roomId, '/kick'), { user_id: bob.userId, reason: 'cool off' });
    expect(kick.status, JSON.stringify(kick.body)).toBe(200);
    expect(await getState(alice, roomId, 'm.room.member', bob.userId)).toMatchObject({ membership: 'leave', reason: 'cool off' });
    const kickEvent = ok(await alice.client.get(roomPath(roomId, `/state/m.room.member/${enc(bob.userId)}?format=event`)));
    expect(kickEvent.sender).toBe(alice.userId);
    expect(ok(await bob.client.get(`${CS}/joined_rooms`)).joined_rooms).not.toContain(roomId);
    // bob can no longer send, but may come back
    expectMatrixError(
      await bob.client.put(roomPath(roomId, '/send/m.room.message/k1'), { msgtype: 'm.text', body: 'x' }),
      403,
      'M_FORBIDDEN',
    );
    await joinRoom(bob, roomId);
    // kicking someone who is not there
    expectMatrixError(await alice.client.post(roomPath(roomId, '/kick'), { user_id: dave.userId }), 403, 'M_FORBIDDEN');
  });

  it('a ban keeps the user out until unbanned; unban leaves them at leave', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    expectMatrixError(await bob.client.post(roomPath(roomId, '/ban'), { user_id: alice.userId }), 403, 'M_FORBIDDEN');
    ok(await alice.client.post(roomPath(roomId, '/ban'), { user_id: bob.userId, reason: 'spam' }));
    expect(await getState(alice, roomId, 'm.room.member', bob.userId)).toMatchObject({ membership: 'ban', reason: 'spam' });
    expectMatrixError(await bob.client.post(roomPath(roomId, '/join'), {}), 403, 'M_FORBIDDEN');
    // A user who never joined can be banned pre-emptively.
    ok(await alice.client.post(roomPath(roomId, '/ban'), { user_id: dave.userId }));
    expectMatrixError(await dave.client.post(`${CS}/join/${enc(roomId)}`, {}), 403, 'M_FORBIDDEN');

    expectMatrixError(await alice.client.post(roomPath(roomId, '/unban'), { user_id: carol.userId }), 403, 'M_FORBIDDEN');
    ok(await alice.client.post(roomPath(roomId, '/unban'), { user_id: bob.userId }));
    expect(await membershipOf(alice, roomId, bob.userId)).toBe('leave');
    await joinRoom(bob, roomId);
    expect(await membershipOf(alice, roomId, bob.userId)).toBe('join');
  });

  it('rejects kick/ban/unban bodies without a valid user_id', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    for (const action of ['kick', 'ban', 'unban']) {
      expectMatrixError(await alice.client.post(roomPath(roomId, `/${action}`), {}), 400, 'M_MISSING_PARAM');
      expectMatrixError(await alice.client.post(roomPath(roomId, `/${action}`), { user_id: 7 }), 400, 'M_BAD_JSON');
      expectMatrixError(await alice.client.post(roomPath(roomId, `/${action}`), { user_id: 'bob' }), 400, 'M_INVALID_PARAM');
    }
  });
});

describe('leave and forget', () => {
  it('leaving moves the room to the leave section once, and forgetting hides it; leaving twice is M_FORBIDDEN', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    const before = await syncOk(bob);
    expect(before.rooms.join[roomId]).toBeDefined();
    const res = await bob.client.post(roomPath(roomId, '/leave'), { reason: 'bye' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectMatchesSpec('leaving.yaml', '/rooms/{roomId}/leave', 'POST', 200, res.body);
    expect(await getState(alice, roomId, 'm.room.member', bob.userId)).toMatchObject({ membership: 'leave', reason: 'bye' });
    const after = await syncOk(bob, { since: before.next_batch });
    expect(after.rooms.join[roomId]).toBeUndefined();
    expect(after.rooms.leave[roomId]).toBeDefined();
    expectMatrixError(await bob.client.post(roomPath(roomId, '/leave'), {}), 403, 'M_FORBIDDEN');

    // An initial sync shows left rooms only when the filter asks.
    expect((await syncOk(bob)).rooms.leave[roomId]).toBeUndefined();
    expect((await syncOk(bob, { filter: { room: { include_leave: true } } })).rooms.leave[roomId]).toBeDefined();

    const forget = await bob.client.post(roomPath(roomId, '/forget'), {});
    expect(forget.status, JSON.stringify(forget.body)).toBe(200);
    expectMatchesSpec('leaving.yaml', '/rooms/{roomId}/forget', 'POST', 200, forget.body);
    expect((await syncOk(bob, { filter: { room: { include_leave: true } } })).rooms.leave[roomId]).toBeUndefined();
    // Rejoining un-forgets.
    await joinRoom(bob, roomId);
    expect((await syncOk(bob)).rooms.join[roomId]).toBeDefined();
  });

  it('a leave the client has not seen yet still reaches its incremental sync after forgetting', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    const before = await syncOk(bob);
    expect(before.rooms.join[roomId]).toBeDefined();
    await leaveRoom(bob, roomId);
    ok(await bob.client.post(roomPath(roomId, '/forget'), {}));
    await sendText(alice, roomId, 'after bob forgot');
    // The client's last token predates the leave: without it, the room would stay joined on its side.
    const next = await syncOk(bob, { since: before.next_batch, filter: { room: { include_leave: true } } });
    expect(next.rooms.join[roomId]).toBeUndefined();
    const leave = next.rooms.leave[roomId];
    expect(leave).toBeDefined();
    expect(leave.timeline.events.map((e: Record<string, unknown>) => e.type)).toContain('m.room.member');
    expect(leave.timeline.events.map((e: Record<string, any>) => e.content.body)).not.toContain('after bob forgot');
    // Once past the leave, the forgotten room is gone from incremental and initial syncs alike.
    expect((await syncOk(bob, { since: next.next_batch })).rooms.leave[roomId]).toBeUndefined();
    expect((await syncOk(bob, { filter: { room: { include_leave: true } } })).rooms.leave[roomId]).toBeUndefined();
  });

  it('forgetting a room one is still in is refused', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    const res = await alice.client.post(roomPath(roomId, '/forget'), {});
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.errcode).toEqual(expect.any(String));
  });
});

describe('knocking', () => {
  it('a knock on a knock room shows up for the knocker and the room; an invite then lets them in', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat', name: 'Knock knock' });
    await setState(alice, roomId, 'm.room.join_rules', '', { join_rule: 'knock' });
    const aliceBefore = await syncOk(alice);

    const res = await bob.client.post(`${CS}/knock/${enc(roomId)}`, { reason: 'let me in' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectMatchesSpec('knocking.yaml', '/knock/{roomIdOrAlias}', 'POST', 200, res.body);
    expect(res.body.room_id).toBe(roomId);
    expect(await getState(alice, roomId, 'm.room.member', bob.userId)).toMatchObject({ membership: 'knock', reason: 'let me in' });

    const bobSync = await syncOk(bob);
    const knockState = bobSync.rooms.knock[roomId]?.knock_state.events as Array<Record<string, any>>;
    expect(knockState.find((e) => e.type === 'm.room.name')?.content.name).toBe('Knock knock');
    expect(knockState.find((e) => e.type === 'm.room.member' && e.state_key === bob.userId)?.content.membership).toBe('knock');
    const aliceAfter = await syncOk(alice, { since: aliceBefore.next_batch });
    const seen = aliceAfter.rooms.join[roomId].timeline.events as Array<Record<string, any>>;
    expect(seen.some((e) => e.type === 'm.room.member' && e.state_key === bob.userId && e.content.membership === 'knock')).toBe(true);

    // A knocker cannot read the room.
    expectMatrixError(await bob.client.get(roomPath(roomId, '/state')), 403, 'M_FORBIDDEN');
    // Accepting a knock is an invite.
    await inviteUser(alice, roomId, bob.userId);
    await joinRoom(bob, roomId);
    expect(await membershipOf(alice, roomId, bob.userId)).toBe('join');
  });

  it('knocking on an invite-only or public room is M_FORBIDDEN', async () => {
    const priv = await createRoom(alice, { preset: 'private_chat' });
    expectMatrixError(await carol.client.post(`${CS}/knock/${enc(priv)}`, {}), 403, 'M_FORBIDDEN');
    const pub = await createRoom(alice, { preset: 'public_chat' });
    expectMatrixError(await carol.client.post(`${CS}/knock/${enc(pub)}`, {}), 403, 'M_FORBIDDEN');
  });
});

describe('member lists', () => {
  it('/members lists member events, filtered by membership, not_membership and at', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    const tokenBeforeCarol = ok(await alice.client.get(roomPath(roomId, '/messages?dir=b&limit=1'))).start as string;
    await joinRoom(carol, roomId);
    await leaveRoom(carol, roomId);
    await inviteUser(alice, roomId, dave.userId);

    const all = await alice.client.get(roomPath(roomId, '/members'));
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expectMatchesSpec('rooms.yaml', '/rooms/{roomId}/members', 'GET', 200, all.body);
    const states = Object.fromEntries(all.body.chunk.map((e: Record<string, any>) => [e.state_key, e.content.membership]));
    expect(states).toEqual({ [alice.userId]: 'join', [bob.userId]: 'join', [carol.userId]: 'leave', [dave.userId]: 'invite' });
    for (const e of all.body.chunk)
      expect(e).toMatchObject({ type: 'm.room.member', room_id: roomId, event_id: expect.stringMatching(/^\$/) });

    const keys = (body: Record<string, any>) => body.chunk.map((e: Record<string, any>) => e.state_key).sort();
    expect(keys(ok(await alice.client.get(roomPath(roomId, '/members?membership=join'))))).toEqual([alice.userId, bob.userId].sort());
    expect(keys(ok(await alice.client.get(roomPath(roomId, '/members?membership=invite'))))).toEqual([dave.userId]);
    expect(keys(ok(await alice.client.get(roomPath(roomId, '/members?not_membership=leave'))))).toEqual(
      [alice.userId, bob.userId, dave.userId].sort(),
    );
    // As of a token taken before carol arrived.
    const past = ok(await alice.client.get(roomPath(roomId, `/members?at=${enc(tokenBeforeCarol)}`)));
    expect(keys(past)).toEqual([alice.userId, bob.userId].sort());
    // As of a point before the room's first event: nobody, not today's members.
    expect(ok(await alice.client.get(roomPath(roomId, `/members?at=s0`))).chunk).toEqual([]);

    expectMatrixError(await alice.client.get(roomPath(roomId, '/members?membership=joined')), 400, 'M_INVALID_PARAM');
    expectMatrixError(await alice.client.get(roomPath(roomId, '/members?not_membership=x')), 400, 'M_INVALID_PARAM');
    expectMatrixError(await alice.client.get(roomPath(roomId, '/members?at=garbage')), 400, 'M_INVALID_PARAM');
  });

  it('a user who left sees the members as they were when they left; a stranger gets M_FORBIDDEN', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(carol, roomId);
    await leaveRoom(carol, roomId);
    await joinRoom(bob, roomId);
    const asCarol = ok(await carol.client.get(roomPath(roomId, '/members')));
    const keys = asCarol.chunk.map((e: Record<string, any>) => e.state_key).sort();
    expect(keys).toEqual([alice.userId, carol.userId].sort());
    expectMatrixError(await dave.client.get(roomPath(roomId, '/members')), 403, 'M_FORBIDDEN');
  });

  it('/joined_members maps joined users to their profile; only for members', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    await joinRoom(carol, roomId);
    await leaveRoom(carol, roomId);
    const res = await bob.client.get(roomPath(roomId, '/joined_members'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectMatchesSpec('rooms.yaml', '/rooms/{roomId}/joined_members', 'GET', 200, res.body);
    expect(Object.keys(res.body.joined).sort()).toEqual([alice.userId, bob.userId].sort());
    expect(res.body.joined[alice.userId]).toEqual({ display_name: 'Alice A.' });
    expectMatrixError(await dave.client.get(roomPath(roomId, '/joined_members')), 403, 'M_FORBIDDEN');
  });

  it('/joined_rooms lists exactly the rooms the user is joined to', async () => {
    const fresh = await registerUser(hs.url, 'mb_fresh');
    const empty = await fresh.client.get(`${CS}/joined_rooms`);
    expect(empty.status).toBe(200);
    expectMatchesSpec('list_joined_rooms.yaml', '/joined_rooms', 'GET', 200, empty.body);
    expect(empty.body.joined_rooms).toEqual([]);
    const a = await createRoom(fresh, {});
    const b = await createRoom(fresh, {});
    const c = await createRoom(alice, { invite: [fresh.userId] });
    await leaveRoom(fresh, b);
    const list = ok(await fresh.client.get(`${CS}/joined_rooms`));
    expectMatchesSpec('list_joined_rooms.yaml', '/joined_rooms', 'GET', 200, list);
    expect(list.joined_rooms.sort()).toEqual([a].sort());
    expect(list.joined_rooms).not.toContain(c); // invited is not joined
    expectMatrixError(await fresh.client.get(`${CS}/joined_rooms`, { token: null }), 401, 'M_MISSING_TOKEN');
  });

  it('a member who left cannot send, and a room with only invited members still answers', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat', invite: [bob.userId] });
    await sendText(alice, roomId, 'hello');
    await leaveRoom(alice, roomId);
    expectMatrixError(
      await alice.client.put(roomPath(roomId, '/send/m.room.message/gone'), { msgtype: 'm.text', body: 'x' }),
      403,
      'M_FORBIDDEN',
    );
    await joinRoom(bob, roomId);
    expect(Object.keys(ok(await bob.client.get(roomPath(roomId, '/joined_members'))).joined)).toEqual([bob.userId]);
  });
});
