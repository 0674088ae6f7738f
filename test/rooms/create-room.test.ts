import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import {
  CS,
  createRoom,
  getState,
  getStateEvent,
  joinRoom,
  ok,
  paginate,
  roomPath,
  sendText,
  setState,
  syncOk,
  typesOf,
} from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** POST /createRoom: presets, initial state, invites, overrides, spaces and the errors the spec names. */

const {
  hs,
  users: [alice, bob, carol],
} = withHomeserver({ users: ['cr_alice', 'cr_bob', 'cr_carol'] });

const roomCount = async (): Promise<number> => Number((await hs.hs.db.sql`select count(*)::int as n from rooms`)[0]!.n);

describe('createRoom', () => {
  it('returns a room id that matches the spec, and the creator is joined with power 100', async () => {
    const res = await alice.client.post(`${CS}/createRoom`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectMatchesSpec('create_room.yaml', '/createRoom', 'POST', 200, res.body);
    const roomId = res.body.room_id as string;
    expect(roomId).toMatch(/^![^:]+:localhost$/);

    const create = await getStateEvent(alice, roomId, 'm.room.create');
    expect(create.sender).toBe(alice.userId);
    expect(create.content.room_version).toBe('11');
    const member = await getState(alice, roomId, 'm.room.member', alice.userId);
    expect(member.membership).toBe('join');
    const pl = await getState(alice, roomId, 'm.room.power_levels');
    expect(pl.users).toEqual({ [alice.userId]: 100 });
    expect(ok(await alice.client.get(`${CS}/joined_rooms`)).joined_rooms).toContain(roomId);
  });

  it('sends the initial events in the order the spec prescribes', async () => {
    const roomId = await createRoom(alice, {
      preset: 'private_chat',
      room_alias_name: 'cr-order',
      initial_state: [{ type: 'm.room.encryption', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
      name: 'Ordered',
      topic: 'In order',
      invite: [bob.userId],
    });
    const { events } = await paginate(alice, roomId, { dir: 'f', limit: 50 });
    expect(typesOf(events)).toEqual([
      'm.room.create',
      'm.room.member',
      'm.room.power_levels',
      'm.room.canonical_alias',
      'm.room.join_rules',
      'm.room.history_visibility',
      'm.room.guest_access',
      'm.room.encryption',
      'm.room.name',
      'm.room.topic',
      'm.room.member',
    ]);
    expect(events[1]!.state_key).toBe(alice.userId);
    expect(events[10]!).toMatchObject({ state_key: bob.userId, content: { membership: 'invite' } });
    expect(events[3]!.content).toEqual({ alias: '#cr-order:localhost' });
  });

  const presets = [
    { preset: 'private_chat', join_rule: 'invite', history_visibility: 'shared', guest_access: 'can_join' },
    { preset: 'trusted_private_chat', join_rule: 'invite', history_visibility: 'shared', guest_access: 'can_join' },
    { preset: 'public_chat', join_rule: 'public', history_visibility: 'shared', guest_access: 'forbidden' },
  ] as const;
  for (const p of presets) {
    it(`preset ${p.preset} sets join_rules=${p.join_rule}, history_visibility=${p.history_visibility}, guest_access=${p.guest_access}`, async () => {
      const roomId = await createRoom(alice, { preset: p.preset });
      expect(await getState(alice, roomId, 'm.room.join_rules')).toEqual({ join_rule: p.join_rule });
      expect(await getState(alice, roomId, 'm.room.history_visibility')).toEqual({ history_visibility: p.history_visibility });
      expect(await getState(alice, roomId, 'm.room.guest_access')).toEqual({ guest_access: p.guest_access });
    });
  }

  it('without a preset, visibility=public means public_chat and private means private_chat', async () => {
    const pub = await createRoom(alice, { visibility: 'public' });
    expect((await getState(alice, pub, 'm.room.join_rules')).join_rule).toBe('public');
    expect((await getState(alice, pub, 'm.room.guest_access')).guest_access).toBe('forbidden');
    const priv = await createRoom(alice, { visibility: 'private' });
    expect((await getState(alice, priv, 'm.room.join_rules')).join_rule).toBe('invite');
    const none = await createRoom(alice, {});
    expect((await getState(alice, none, 'm.room.join_rules')).join_rule).toBe('invite');
  });

  it('trusted_private_chat gives invitees the creator power level; private_chat does not', async () => {
    const trusted = await createRoom(alice, { preset: 'trusted_private_chat', invite: [bob.userId] });
    expect((await getState(alice, trusted, 'm.room.power_levels')).users).toEqual({ [alice.userId]: 100, [bob.userId]: 100 });
    // The invitee, once joined, can use that power (changing the power levels needs 100).
    await joinRoom(bob, trusted);
    await setState(bob, trusted, 'm.room.name', '', { name: 'set by bob' });
    const pl = await getState(bob, trusted, 'm.room.power_levels');
    await setState(bob, trusted, 'm.room.power_levels', '', { ...pl, users: { ...pl.users, [carol.userId]: 50 } });

    const priv = await createRoom(alice, { preset: 'private_chat', invite: [bob.userId] });
    expect((await getState(alice, priv, 'm.room.power_levels')).users).toEqual({ [alice.userId]: 100 });
    await joinRoom(bob, priv);
    expectMatrixError(await bob.client.put(roomPath(priv, '/state/m.room.name/'), { name: 'nope' }), 403, 'M_FORBIDDEN');
  });

  it('name and topic become m.room.name and m.room.topic (with an m.topic.m.text text/plain block)', async () => {
    const roomId = await createRoom(alice, { name: 'Lisbon', topic: 'Trams and tiles' });
    expect(await getState(alice, roomId, 'm.room.name')).toEqual({ name: 'Lisbon' });
    const topic = await getState(alice, roomId, 'm.room.topic');
    expect(topic.topic).toBe('Trams and tiles');
    expect(topic['m.topic']).toEqual({ 'm.text': [{ body: 'Trams and tiles', mimetype: 'text/plain' }] });
  });

  it('initial_state overrides the preset, and name/topic override initial_state', async () => {
    const roomId = await createRoom(alice, {
      preset: 'public_chat',
      initial_state: [
        { type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } },
        { type: 'm.room.name', content: { name: 'from initial_state' } },
        { type: 'org.example.custom', state_key: 'k1', content: { hello: 'world' } },
      ],
      name: 'from name',
    });
    expect(await getState(alice, roomId, 'm.room.history_visibility')).toEqual({ history_visibility: 'joined' });
    expect(await getState(alice, roomId, 'm.room.join_rules')).toEqual({ join_rule: 'public' });
    expect(await getState(alice, roomId, 'm.room.name')).toEqual({ name: 'from name' });
    expect(await getState(alice, roomId, 'org.example.custom', 'k1')).toEqual({ hello: 'world' });
  });

  it('invites the users in `invite`, with is_direct on their member events when asked', async () => {
    const roomId = await createRoom(alice, { preset: 'trusted_private_chat', invite: [bob.userId], is_direct: true });
    const member = await getState(alice, roomId, 'm.room.member', bob.userId);
    expect(member).toMatchObject({ membership: 'invite', is_direct: true });
    const bobSync = await syncOk(bob);
    const invite = bobSync.rooms.invite[roomId];
    expect(invite, 'bob sees the invite').toBeDefined();
    const own = invite.invite_state.events.find((e: Record<string, any>) => e.type === 'm.room.member' && e.state_key === bob.userId);
    expect(own).toMatchObject({ sender: alice.userId, content: { membership: 'invite', is_direct: true } });

    const plain = await createRoom(alice, { invite: [carol.userId] });
    expect(await getState(alice, plain, 'm.room.member', carol.userId)).not.toHaveProperty('is_direct');
  });

  it('power_level_content_override is applied on top of the defaults', async () => {
    const roomId = await createRoom(alice, {
      preset: 'public_chat',
      power_level_content_override: { events_default: 50, users: { [alice.userId]: 100, [bob.userId]: 50 } },
    });
    const pl = await getState(alice, roomId, 'm.room.power_levels');
    expect(pl.events_default).toBe(50);
    expect(pl.users).toEqual({ [alice.userId]: 100, [bob.userId]: 50 });
    expect(pl.state_default).toBe(50); // untouched defaults stay
    await joinRoom(bob, roomId);
    await joinRoom(carol, roomId);
    await sendText(bob, roomId, 'bob has 50');
    const denied = await carol.client.put(roomPath(roomId, '/send/m.room.message/t1'), { msgtype: 'm.text', body: 'carol has 0' });
    expectMatrixError(denied, 403, 'M_FORBIDDEN');
  });

  it("creation_content is copied into m.room.create (room_version is the server's to set)", async () => {
    const roomId = await createRoom(alice, { creation_content: { 'm.federate': false, room_version: '1', 'org.example.extra': 7 } });
    const create = await getState(alice, roomId, 'm.room.create');
    expect(create).toMatchObject({ 'm.federate': false, room_version: '11', 'org.example.extra': 7 });
    expect(create).not.toHaveProperty('creator'); // v11: the sender is the creator
  });

  it('creates a space (creation_content.type m.space) whose children are m.space.child state, read back through /state', async () => {
    const space = await createRoom(alice, { preset: 'public_chat', name: 'A space', creation_content: { type: 'm.space' } });
    expect((await getState(alice, space, 'm.room.create')).type).toBe('m.space');
    const children = [await createRoom(alice, { name: 'child one' }), await createRoom(alice, { name: 'child two' })];
    for (const [i, child] of children.entries()) {
      await setState(alice, space, 'm.space.child', child, { via: ['localhost'], order: `0${i}` });
      await setState(alice, child, 'm.space.parent', space, { via: ['localhost'], canonical: true });
    }
    const state = ok(await alice.client.get(roomPath(space, '/state')));
    expectMatchesSpec('rooms.yaml', '/rooms/{roomId}/state', 'GET', 200, state);
    const childEvents = (state as unknown as Array<Record<string, any>>).filter((e) => e.type === 'm.space.child');
    expect(childEvents.map((e) => e.state_key).sort()).toEqual([...children].sort());
    for (const e of childEvents) expect(e.content.via).toEqual(['localhost']);
    expect(await getState(alice, children[0]!, 'm.space.parent', space)).toEqual({ via: ['localhost'], canonical: true });
    // A member of the space reads the same children.
    await joinRoom(bob, space);
    expect(await getState(bob, space, 'm.space.child', children[1]!)).toEqual({ via: ['localhost'], order: '01' });
    // Removing a child is setting empty content.
    await setState(alice, space, 'm.space.child', children[1]!, {});
    expect(await getState(bob, space, 'm.space.child', children[1]!)).toEqual({});
  });

  it('sets the canonical alias for room_alias_name, and a taken alias is M_ROOM_IN_USE with no room created', async () => {
    const roomId = await createRoom(alice, { room_alias_name: 'cr-taken' });
    expect(await getState(alice, roomId, 'm.room.canonical_alias')).toEqual({ alias: '#cr-taken:localhost' });
    const before = await roomCount();
    const again = await bob.client.post(`${CS}/createRoom`, { room_alias_name: 'cr-taken' });
    expectMatrixError(again, 400, 'M_ROOM_IN_USE');
    expectMatchesSpec('create_room.yaml', '/createRoom', 'POST', 400, again.body);
    expect(await roomCount()).toBe(before);
  });

  it('rejects an unknown room version with M_UNSUPPORTED_ROOM_VERSION', async () => {
    for (const v of ['0', '13', '1.0', 'org.example.custom']) {
      const res = await alice.client.post(`${CS}/createRoom`, { room_version: v });
      expectMatrixError(res, 400, 'M_UNSUPPORTED_ROOM_VERSION');
      expectMatchesSpec('create_room.yaml', '/createRoom', 'POST', 400, res.body);
    }
  });

  it('rejects bodies that are not JSON (M_NOT_JSON) or not a valid request (M_BAD_JSON)', async () => {
    const path = `${CS}/createRoom`;
    expectMatrixError(
      await alice.client.request('POST', path, undefined, { raw: '{"name": ', headers: { 'content-type': 'application/json' } }),
      400,
      'M_NOT_JSON',
    );
    expectMatrixError(
      await alice.client.request('POST', path, undefined, { raw: '[1,2]', headers: { 'content-type': 'application/json' } }),
      400,
      'M_BAD_JSON',
    );
    for (const bad of [
      { name: 5 },
      { invite: '@x:localhost' },
      { preset: 'party' },
      { initial_state: [{ content: {} }] },
      { room_version: 11 },
      { is_direct: 'yes' },
    ]) {
      const res = await alice.client.post(path, bad);
      expect(res.status, JSON.stringify({ bad, body: res.body })).toBe(400);
      expect(['M_BAD_JSON', 'M_INVALID_PARAM', 'M_MISSING_PARAM']).toContain(res.body.errcode);
    }
  });

  it('rejects an invalid user id in invite with M_INVALID_PARAM, and needs an access token', async () => {
    const before = await roomCount();
    expectMatrixError(await alice.client.post(`${CS}/createRoom`, { invite: ['not-a-user'] }), 400, 'M_INVALID_PARAM');
    expect(await roomCount()).toBe(before);
    expectMatrixError(await alice.client.post(`${CS}/createRoom`, {}, { token: null }), 401, 'M_MISSING_TOKEN');
  });

  it('an override that leaves the creator without power is M_INVALID_ROOM_STATE, with no half-created room', async () => {
    const before = await roomCount();
    const res = await alice.client.post(`${CS}/createRoom`, {
      preset: 'private_chat',
      power_level_content_override: { users: {}, state_default: 50 },
    });
    expectMatrixError(res, 400, 'M_INVALID_ROOM_STATE');
    expectMatchesSpec('create_room.yaml', '/createRoom', 'POST', 400, res.body);
    expect(await roomCount()).toBe(before);
  });
});
