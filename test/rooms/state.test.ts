import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { createRoom, enc, getState, inviteUser, joinRoom, leaveRoom, ok, roomPath, setState, syncOk } from '../support/rooms.ts';
import { expectMatchesSchemaFile, expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** GET /state, GET and PUT /state/{type}/{key}: reads, writes, power checks and bad input. */

const {
  users: [alice, bob, eve],
} = withHomeserver({ users: ['st_alice', 'st_bob', 'st_eve'] });
let roomId: string; // private_chat: alice 100, bob 0
beforeAll(async () => {
  roomId = await createRoom(alice, { preset: 'private_chat', name: 'State room', topic: 'About state', invite: [bob.userId] });
  await joinRoom(bob, roomId);
});

describe('GET /rooms/{roomId}/state', () => {
  it('returns the full current state as client events matching the spec', async () => {
    const res = await bob.client.get(roomPath(roomId, '/state'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectMatchesSpec('rooms.yaml', '/rooms/{roomId}/state', 'GET', 200, res.body);
    const events = res.body as unknown as Array<Record<string, any>>;
    const keys = events.map((e) => `${e.type}|${e.state_key}`).sort();
    expect(keys).toEqual(
      [
        'm.room.create|',
        `m.room.member|${alice.userId}`,
        `m.room.member|${bob.userId}`,
        'm.room.power_levels|',
        'm.room.join_rules|',
        'm.room.history_visibility|',
        'm.room.guest_access|',
        'm.room.name|',
        'm.room.topic|',
      ].sort(),
    );
    for (const e of events)
      expect(e).toMatchObject({ room_id: roomId, event_id: expect.stringMatching(/^\$/), sender: expect.stringMatching(/^@/) });
  });

  it('is M_FORBIDDEN for someone who was never in the room, and for an invitee', async () => {
    expectMatrixError(await eve.client.get(roomPath(roomId, '/state')), 403, 'M_FORBIDDEN');
    const other = await createRoom(alice, { preset: 'private_chat', invite: [eve.userId] });
    expectMatrixError(await eve.client.get(roomPath(other, '/state')), 403, 'M_FORBIDDEN');
    expectMatrixError(await eve.client.get(roomPath(other, '/state/m.room.name/')), 403, 'M_FORBIDDEN');
  });

  it('needs an access token and a well-formed room id', async () => {
    expectMatrixError(await bob.client.get(roomPath(roomId, '/state'), { token: null }), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await bob.client.get(roomPath('no-sigil', '/state')), 400, 'M_INVALID_PARAM');
    expectMatrixError(await bob.client.get(roomPath('!unknown:localhost', '/state')), 403, 'M_FORBIDDEN');
  });
});

describe('GET /rooms/{roomId}/state/{type}/{key}', () => {
  it('returns the content by default and the whole event with format=event', async () => {
    const content = await bob.client.get(roomPath(roomId, '/state/m.room.name/'));
    expect(content.status).toBe(200);
    expectMatchesSpec('rooms.yaml', '/rooms/{roomId}/state/{eventType}/{stateKey}', 'GET', 200, content.body);
    expect(content.body).toEqual({ name: 'State room' });
    const event = ok(await bob.client.get(roomPath(roomId, '/state/m.room.name/?format=event')));
    // The spec's response schema is oneOf [object, StateEvent], which any event matches twice; check the StateEvent branch.
    expectMatchesSchemaFile('../../event-schemas/schema/core-event-schema/state_event.yaml', event);
    expect(event).toMatchObject({
      type: 'm.room.name',
      state_key: '',
      sender: alice.userId,
      room_id: roomId,
      content: { name: 'State room' },
    });
    expect(ok(await bob.client.get(roomPath(roomId, '/state/m.room.name/?format=content')))).toEqual({ name: 'State room' });
  });

  it('the trailing slash is optional for an empty state key', async () => {
    expect(ok(await bob.client.get(roomPath(roomId, '/state/m.room.topic')))).toMatchObject({ topic: 'About state' });
    expect(ok(await bob.client.get(roomPath(roomId, '/state/m.room.topic/')))).toMatchObject({ topic: 'About state' });
  });

  it('reads member state by user id', async () => {
    expect(await getState(alice, roomId, 'm.room.member', bob.userId)).toMatchObject({ membership: 'join' });
  });

  it('is M_NOT_FOUND for state that does not exist', async () => {
    expectMatrixError(await bob.client.get(roomPath(roomId, '/state/m.room.avatar/')), 404, 'M_NOT_FOUND');
    expectMatrixError(await bob.client.get(roomPath(roomId, '/state/m.room.name/not-empty')), 404, 'M_NOT_FOUND');
    expectMatrixError(await bob.client.get(roomPath(roomId, `/state/m.room.member/${enc(eve.userId)}`)), 404, 'M_NOT_FOUND');
  });

  it('a user who left reads the state as it was when they left', async () => {
    const room = await createRoom(alice, { preset: 'public_chat', name: 'Before' });
    await joinRoom(eve, room);
    await leaveRoom(eve, room);
    await setState(alice, room, 'm.room.name', '', { name: 'After' });
    expect(await getState(eve, room, 'm.room.name')).toEqual({ name: 'Before' });
    expect(await getState(alice, room, 'm.room.name')).toEqual({ name: 'After' });
    const asEve = ok(await eve.client.get(roomPath(room, '/state'))) as unknown as Array<Record<string, any>>;
    expect(asEve.find((e) => e.type === 'm.room.name')?.content).toEqual({ name: 'Before' });
  });
});

describe('PUT /rooms/{roomId}/state/{type}/{key}', () => {
  it('sets state, returns an event id matching the spec, and the new value reads back', async () => {
    const res = await alice.client.put(roomPath(roomId, '/state/m.room.topic/'), { topic: 'New topic' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectMatchesSpec('room_state.yaml', '/rooms/{roomId}/state/{eventType}/{stateKey}', 'PUT', 200, res.body);
    const event = ok(await bob.client.get(roomPath(roomId, '/state/m.room.topic/?format=event')));
    expect(event.event_id).toBe(res.body.event_id);
    expect(event.content).toEqual({ topic: 'New topic' });
    // The replaced content travels in unsigned.prev_content.
    expect(event.unsigned.prev_content).toMatchObject({ topic: 'About state' });
    // Without the trailing slash too.
    ok(await alice.client.put(roomPath(roomId, '/state/m.room.topic'), { topic: 'Newer topic' }));
    expect(await getState(bob, roomId, 'm.room.topic')).toEqual({ topic: 'Newer topic' });
  });

  it('custom state types with state keys are kept apart', async () => {
    await setState(alice, roomId, 'org.example.widget', 'a', { n: 1 });
    await setState(alice, roomId, 'org.example.widget', 'b', { n: 2 });
    expect(await getState(bob, roomId, 'org.example.widget', 'a')).toEqual({ n: 1 });
    expect(await getState(bob, roomId, 'org.example.widget', 'b')).toEqual({ n: 2 });
    expectMatrixError(await bob.client.get(roomPath(roomId, '/state/org.example.widget/')), 404, 'M_NOT_FOUND');
  });

  it('sending the same state again returns the existing event (no duplicate)', async () => {
    const first = await setState(alice, roomId, 'org.example.same', '', { v: 'x' });
    const second = await setState(alice, roomId, 'org.example.same', '', { v: 'x' });
    expect(second).toBe(first);
    const third = await setState(alice, roomId, 'org.example.same', '', { v: 'y' });
    expect(third).not.toBe(first);
  });

  it('an under-powered member gets M_FORBIDDEN for power_levels, name and other protected state', async () => {
    const pl = await getState(alice, roomId, 'm.room.power_levels');
    const attempts: Array<[string, string, Record<string, unknown>]> = [
      ['m.room.power_levels', '', { ...pl, users: { ...pl.users, [bob.userId]: 100 } }],
      ['m.room.name', '', { name: 'bob was here' }],
      ['m.room.topic', '', { topic: 'bob was here' }],
      ['m.room.join_rules', '', { join_rule: 'public' }],
      ['m.room.history_visibility', '', { history_visibility: 'world_readable' }],
      ['org.example.anything', '', { x: 1 }], // state_default 50
    ];
    for (const [type, key, content] of attempts) {
      const res = await bob.client.put(roomPath(roomId, `/state/${type}/${key}`), content);
      expectMatrixError(res, 403, 'M_FORBIDDEN');
    }
    expect((await getState(alice, roomId, 'm.room.power_levels')).users).toEqual(pl.users);
    expect(await getState(alice, roomId, 'm.room.name')).toEqual({ name: 'State room' });
  });

  it('power granted by the power levels lets the member act', async () => {
    const room = await createRoom(alice, { preset: 'private_chat', invite: [bob.userId] });
    await joinRoom(bob, room);
    expectMatrixError(await bob.client.put(roomPath(room, '/state/m.room.name/'), { name: 'no' }), 403, 'M_FORBIDDEN');
    const pl = await getState(alice, room, 'm.room.power_levels');
    await setState(alice, room, 'm.room.power_levels', '', { ...pl, users: { ...pl.users, [bob.userId]: 50 } });
    await setState(bob, room, 'm.room.name', '', { name: 'yes' });
    expect(await getState(alice, room, 'm.room.name')).toEqual({ name: 'yes' });
    // 50 is not enough for the power levels themselves (100), nor to raise oneself above one's own level.
    expectMatrixError(
      await bob.client.put(roomPath(room, '/state/m.room.power_levels/'), { ...pl, users: { ...pl.users, [bob.userId]: 100 } }),
      403,
      'M_FORBIDDEN',
    );
  });

  it('a non-member cannot set state', async () => {
    expectMatrixError(await eve.client.put(roomPath(roomId, '/state/org.example.x/'), { a: 1 }), 403, 'M_FORBIDDEN');
  });

  it('a state key naming another user is refused', async () => {
    expectMatrixError(
      await alice.client.put(roomPath(roomId, `/state/org.example.personal/${enc(bob.userId)}`), { mine: true }),
      403,
      'M_FORBIDDEN',
    );
    // One's own user id as state key is fine (given the power).
    ok(await alice.client.put(roomPath(roomId, `/state/org.example.personal/${enc(alice.userId)}`), { mine: true }));
  });

  it('member events through /state are judged by the auth rules', async () => {
    // Setting one's own display name in the room.
    ok(await bob.client.put(roomPath(roomId, `/state/m.room.member/${enc(bob.userId)}`), { membership: 'join', displayname: 'Bobby' }));
    expect(ok(await alice.client.get(roomPath(roomId, '/joined_members'))).joined[bob.userId]).toEqual({ display_name: 'Bobby' });
    // Joining someone else is not allowed.
    expectMatrixError(
      await alice.client.put(roomPath(roomId, `/state/m.room.member/${enc(eve.userId)}`), { membership: 'join' }),
      403,
      'M_FORBIDDEN',
    );
    // A member event without membership is malformed.
    expectMatrixError(
      await bob.client.put(roomPath(roomId, `/state/m.room.member/${enc(bob.userId)}`), { displayname: 'x' }),
      400,
      'M_BAD_JSON',
    );
  });

  it('rejects bodies that are not JSON objects', async () => {
    const path = roomPath(roomId, '/state/org.example.bad/');
    expectMatrixError(
      await alice.client.request('PUT', path, undefined, { raw: 'not json', headers: { 'content-type': 'application/json' } }),
      400,
      'M_NOT_JSON',
    );
    expectMatrixError(
      await alice.client.request('PUT', path, undefined, { raw: '[]', headers: { 'content-type': 'application/json' } }),
      400,
      'M_BAD_JSON',
    );
    expectMatrixError(
      await alice.client.request('PUT', path, undefined, { raw: '"str"', headers: { 'content-type': 'application/json' } }),
      400,
      'M_BAD_JSON',
    );
    expectMatrixError(
      await alice.client.request('PUT', path, undefined, { raw: 'null', headers: { 'content-type': 'application/json' } }),
      400,
      'M_BAD_JSON',
    );
  });

  it('a state change reaches other members through /sync with prev_content', async () => {
    const before = await syncOk(bob);
    await setState(alice, roomId, 'm.room.name', '', { name: 'Renamed' });
    const after = await syncOk(bob, { since: before.next_batch });
    const ev = (after.rooms.join[roomId].timeline.events as Array<Record<string, any>>).find((e) => e.type === 'm.room.name');
    expect(ev).toMatchObject({ state_key: '', content: { name: 'Renamed' }, unsigned: { prev_content: { name: 'State room' } } });
    await setState(alice, roomId, 'm.room.name', '', { name: 'State room' });
  });

  it('an invited user cannot set state before joining', async () => {
    const room = await createRoom(alice, { preset: 'private_chat', power_level_content_override: { state_default: 0 } });
    await inviteUser(alice, room, eve.userId);
    expectMatrixError(await eve.client.put(roomPath(room, '/state/org.example.x/'), { a: 1 }), 403, 'M_FORBIDDEN');
    await joinRoom(eve, room);
    ok(await eve.client.put(roomPath(room, '/state/org.example.x/'), { a: 1 }));
  });
});
