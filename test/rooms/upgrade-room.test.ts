import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import type { TestUser } from '../support/client.ts';
import { createRoom, CS, enc, getState, getStateEvent, joinRoom, ok, roomPath, sendText, setState } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** POST /rooms/{roomId}/upgrade. */

const {
  users: [alice, bob, carol, mallory],
} = withHomeserver({ users: ['up_alice', 'up_bob', 'up_carol', 'up_mallory'] });

const upgrade = (user: TestUser, roomId: string, body: Record<string, unknown>) => user.client.post(roomPath(roomId, '/upgrade'), body);
const aliasPath = (alias: string) => `${CS}/directory/room/${enc(alias)}`;

describe('upgrading a v11 room to v12', () => {
  let oldRoom: string;
  let newRoom: string;
  beforeAll(async () => {
    oldRoom = await createRoom(alice, {
      room_version: '11',
      visibility: 'public',
      name: 'Old times',
      topic: 'Before the upgrade',
      room_alias_name: 'times',
      initial_state: [
        { type: 'm.room.encryption', content: { algorithm: 'm.megolm.v1.aes-sha2' } },
        { type: 'm.room.server_acl', content: { allow: ['*'], deny: ['evil.example'], allow_ip_literals: false } },
        { type: 'm.room.history_visibility', content: { history_visibility: 'invited' } },
        { type: 'org.example.custom', content: { secret: true } },
      ],
    });
    await joinRoom(bob, oldRoom);
    await joinRoom(mallory, oldRoom);
    ok(await alice.client.post(roomPath(oldRoom, '/ban'), { user_id: mallory.userId, reason: 'spam' }));
    ok(await alice.client.put(aliasPath('#times-alt:localhost'), { room_id: oldRoom }));
    await setState(alice, oldRoom, 'm.room.canonical_alias', '', { alias: '#times:localhost', alt_aliases: ['#times-alt:localhost'] });
    const pl = await getState(alice, oldRoom, 'm.room.power_levels');
    await setState(alice, oldRoom, 'm.room.power_levels', '', { ...pl, users: { ...pl.users, [bob.userId]: 50 } });
    await sendText(bob, oldRoom, 'last words');

    const res = await upgrade(alice, oldRoom, { new_version: '12' });
    const body = ok(res);
    expectMatchesSpec('room_upgrades.yaml', '/rooms/{roomId}/upgrade', 'POST', 200, body);
    newRoom = body.replacement_room;
    expect(newRoom).toMatch(/^!/);
    expect(newRoom).not.toBe(oldRoom);
  });

  it('creates the replacement with a predecessor (room only, as v12 allows) and the new version', async () => {
    const create = await getStateEvent(alice, newRoom, 'm.room.create');
    expect(create.sender).toBe(alice.userId);
    expect(create.content).toEqual({ room_version: '12', predecessor: { room_id: oldRoom } });
    expect(ok(await alice.client.get(`${CS}/joined_rooms`)).joined_rooms).toContain(newRoom);
  });

  it('copies the transferable state, not custom state', async () => {
    expect(await getState(alice, newRoom, 'm.room.name')).toEqual({ name: 'Old times' });
    expect((await getState(alice, newRoom, 'm.room.topic')).topic).toBe('Before the upgrade');
    expect(await getState(alice, newRoom, 'm.room.join_rules')).toEqual({ join_rule: 'public' });
    expect(await getState(alice, newRoom, 'm.room.history_visibility')).toEqual({ history_visibility: 'invited' });
    expect(await getState(alice, newRoom, 'm.room.guest_access')).toEqual({ guest_access: 'forbidden' });
    expect(await getState(alice, newRoom, 'm.room.encryption')).toEqual({ algorithm: 'm.megolm.v1.aes-sha2' });
    expect((await getState(alice, newRoom, 'm.room.server_acl')).deny).toEqual(['evil.example']);
    expectMatrixError(await alice.client.get(roomPath(newRoom, '/state/org.example.custom/')), 404, 'M_NOT_FOUND');
    // Bans carry over; other memberships do not.
    expect(await getState(alice, newRoom, 'm.room.member', mallory.userId)).toEqual({ membership: 'ban', reason: 'spam' });
    expectMatrixError(await alice.client.get(roomPath(newRoom, `/state/m.room.member/${enc(bob.userId)}`)), 404, 'M_NOT_FOUND');
  });

  it('keeps power levels under the v12 creator rules', async () => {
    const pl = await getState(alice, newRoom, 'm.room.power_levels');
    expect(pl.users).toEqual({ [bob.userId]: 50 });
    expect(pl.events['m.room.tombstone']).toBe(150);
    expect(pl.events['m.room.name']).toBe(50);
  });

  it('moves the local aliases and the canonical alias', async () => {
    expect(ok(await bob.client.get(aliasPath('#times:localhost'))).room_id).toBe(newRoom);
    expect(ok(await bob.client.get(aliasPath('#times-alt:localhost'))).room_id).toBe(newRoom);
    expect(ok(await alice.client.get(roomPath(newRoom, '/aliases'))).aliases).toEqual(['#times-alt:localhost', '#times:localhost']);
    expect(ok(await alice.client.get(roomPath(oldRoom, '/aliases'))).aliases).toEqual([]);
    expect(await getState(alice, newRoom, 'm.room.canonical_alias')).toEqual({
      alias: '#times:localhost',
      alt_aliases: ['#times-alt:localhost'],
    });
    expect(await getState(alice, oldRoom, 'm.room.canonical_alias')).toEqual({ alt_aliases: [] });
  });

  it('tombstones the old room and quiets it', async () => {
    const tombstone = await getState(bob, oldRoom, 'm.room.tombstone');
    expect(tombstone.replacement_room).toBe(newRoom);
    expect(typeof tombstone.body).toBe('string');
    const pl = await getState(bob, oldRoom, 'm.room.power_levels');
    expect(pl.events_default).toBe(50);
    expect(pl.invite).toBe(50);
    // bob has 50 and may still talk; carol, a new joiner, may not.
    await joinRoom(carol, oldRoom);
    expectMatrixError(
      await carol.client.put(roomPath(oldRoom, '/send/m.room.message/t1'), { msgtype: 'm.text', body: 'hi' }),
      403,
      'M_FORBIDDEN',
    );
  });

  it('moves the directory listing to the new room', async () => {
    expect(ok(await bob.client.get(`${CS}/directory/list/room/${enc(oldRoom)}`)).visibility).toBe('private');
    expect(ok(await bob.client.get(`${CS}/directory/list/room/${enc(newRoom)}`)).visibility).toBe('public');
  });

  it('lets members follow into the new room', async () => {
    await joinRoom(bob, newRoom);
    const sent = ok(await bob.client.put(roomPath(newRoom, '/send/m.room.message/t1'), { msgtype: 'm.text', body: 'new home' }));
    expect(sent.event_id).toMatch(/^\$/);
  });
});

describe('other upgrades', () => {
  it('upgrades v10 to v11 with the predecessor event and the upgrader at 100', async () => {
    const old = await createRoom(alice, { room_version: '10', preset: 'private_chat', name: 'Ten' });
    const last = await sendText(alice, old, 'last');
    const { replacement_room: replacement } = ok(await upgrade(alice, old, { new_version: '11' }));
    const create = await getStateEvent(alice, replacement, 'm.room.create');
    expect(create.content).toEqual({ room_version: '11', predecessor: { room_id: old, event_id: last } });
    const pl = await getState(alice, replacement, 'm.room.power_levels');
    expect(pl.users).toEqual({ [alice.userId]: 100 });
    expect(await getState(alice, replacement, 'm.room.join_rules')).toEqual({ join_rule: 'invite' });
  });

  it('upgrades v12 to v12 with new additional creators, dropping the old ones', async () => {
    const old = await createRoom(alice, { room_version: '12', preset: 'trusted_private_chat', invite: [bob.userId] });
    await joinRoom(bob, old);
    const { replacement_room: replacement } = ok(await upgrade(bob, old, { new_version: '12', additional_creators: [carol.userId] }));
    const create = await getStateEvent(bob, replacement, 'm.room.create');
    expect(create.sender).toBe(bob.userId);
    expect(create.content).toEqual({ room_version: '12', additional_creators: [carol.userId], predecessor: { room_id: old } });
    const pl = await getState(bob, replacement, 'm.room.power_levels');
    expect(pl.users ?? {}).toEqual({});
  });

  it('upgrades v12 to v11, turning the old creators into admins', async () => {
    const old = await createRoom(alice, { room_version: '12', preset: 'public_chat' });
    const { replacement_room: replacement } = ok(await upgrade(alice, old, { new_version: '11' }));
    const pl = await getState(alice, replacement, 'm.room.power_levels');
    expect(pl.users[alice.userId]).toBeGreaterThanOrEqual(150);
    ok(await alice.client.put(roomPath(replacement, '/state/m.room.name/'), { name: 'still in charge' }));
  });

  it('keeps the room type and the children of a space', async () => {
    const child = await createRoom(alice, { preset: 'public_chat' });
    const old = await createRoom(alice, { preset: 'public_chat', creation_content: { type: 'm.space' } });
    await setState(alice, old, 'm.space.child', child, { via: ['localhost'] });
    const { replacement_room: replacement } = ok(await upgrade(alice, old, { new_version: '11' }));
    expect((await getStateEvent(alice, replacement, 'm.room.create')).content.type).toBe('m.space');
    expect(await getState(alice, replacement, 'm.space.child', child)).toEqual({ via: ['localhost'] });
  });

  it('raises the upgrader temporarily when their level is below what the copy needs', async () => {
    const old = await createRoom(alice, { room_version: '11', preset: 'public_chat', name: 'Delegated' });
    await joinRoom(bob, old);
    const pl = await getState(alice, old, 'm.room.power_levels');
    // bob may tombstone (60) but not set power levels (100) or history visibility (100).
    await setState(alice, old, 'm.room.power_levels', '', {
      ...pl,
      users: { ...pl.users, [bob.userId]: 60 },
      events: { ...pl.events, 'm.room.tombstone': 60 },
    });
    const { replacement_room: replacement } = ok(await upgrade(bob, old, { new_version: '11' }));
    const newPl = await getState(bob, replacement, 'm.room.power_levels');
    expect(newPl.users).toEqual({ [alice.userId]: 100, [bob.userId]: 60 });
    expect(await getState(bob, replacement, 'm.room.name')).toEqual({ name: 'Delegated' });
  });
});

describe('upgrade errors', () => {
  let room: string;
  beforeAll(async () => {
    room = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, room);
  });

  it('refuses unknown room versions', async () => {
    const res = await upgrade(alice, room, { new_version: '999' });
    expectMatrixError(res, 400, 'M_UNSUPPORTED_ROOM_VERSION');
    expectMatchesSpec('room_upgrades.yaml', '/rooms/{roomId}/upgrade', 'POST', 400, res.body);
  });

  it('forbids users who cannot send m.room.tombstone', async () => {
    const res = await upgrade(bob, room, { new_version: '12' });
    expectMatrixError(res, 403, 'M_FORBIDDEN');
    expectMatchesSpec('room_upgrades.yaml', '/rooms/{roomId}/upgrade', 'POST', 403, res.body);
    expectMatrixError(await upgrade(carol, room, { new_version: '12' }), 403, 'M_FORBIDDEN');
    // Nothing happened to the room.
    expectMatrixError(await alice.client.get(roomPath(room, '/state/m.room.tombstone/')), 404, 'M_NOT_FOUND');
  });

  it('validates the body and the room', async () => {
    expectMatrixError(await upgrade(alice, room, {}), 400, 'M_MISSING_PARAM');
    expectMatrixError(await upgrade(alice, room, { new_version: 12 }), 400, 'M_BAD_JSON');
    expectMatrixError(await upgrade(alice, room, { new_version: '12', additional_creators: ['not-a-user'] }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await upgrade(alice, '!nowhere:localhost', { new_version: '12' }), 404, 'M_NOT_FOUND');
    expectMatrixError(await upgrade(alice, 'nowhere', { new_version: '12' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await alice.client.post(roomPath(room, '/upgrade'), { new_version: '12' }, { token: null }), 401, 'M_MISSING_TOKEN');
  });
});
