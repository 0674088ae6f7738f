import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import {
  bodiesOf,
  createRoom,
  CS,
  enc,
  getState,
  getStateEvent,
  joinRoom,
  messages,
  newTxnId,
  ok,
  roomPath,
  sendText,
  setState,
  syncOk,
} from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** Room versions 1-12 (11 the default): what differs at the client API, and that each one works end to end. */

const VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'] as const;

const {
  hs,
  users: [alice, bob, carol],
} = withHomeserver({ users: ['rv_alice', 'rv_bob', 'rv_carol'] });

describe('versions offered', () => {
  it('capabilities list 1 to 12 as stable with 11 the default, and createRoom without room_version makes v11', async () => {
    const caps = ok(await alice.client.get(`${CS}/capabilities`));
    expectMatchesSpec('capabilities.yaml', '/capabilities', 'GET', 200, caps);
    const versions = caps.capabilities['m.room_versions'];
    expect(versions.default).toBe('11');
    expect(versions.available).toEqual(Object.fromEntries(VERSIONS.map((v) => [v, 'stable'])));
    const roomId = await createRoom(alice, {});
    expect((await getState(alice, roomId, 'm.room.create')).room_version).toBe('11');
  });

  it('anything else is M_UNSUPPORTED_ROOM_VERSION', async () => {
    for (const v of ['0', '13', '12.1', 'org.example.custom', ''])
      expectMatrixError(await alice.client.post(`${CS}/createRoom`, { room_version: v }), 400, 'M_UNSUPPORTED_ROOM_VERSION');
  });
});

/** The event id shapes of rooms/v1 (also v2), v3 and v4+ "Event IDs". */
function eventIdPattern(version: string): RegExp {
  if (version === '1' || version === '2') return /^\$[^:]+:localhost$/;
  if (version === '3') return /^\$[A-Za-z0-9+/]{43}$/;
  return /^\$[A-Za-z0-9_-]{43}$/;
}

for (const version of VERSIONS) {
  describe(`room version ${version}`, () => {
    it('works end to end: create, invite, join, send, read state, /messages and /sync', async () => {
      const created = await alice.client.post(`${CS}/createRoom`, {
        room_version: version,
        preset: 'private_chat',
        name: `v${version}`,
        invite: [bob.userId],
      });
      expectMatchesSpec('create_room.yaml', '/createRoom', 'POST', 200, ok(created));
      const roomId: string = created.body.room_id;
      const bobStart = await syncOk(bob);
      expectMatchesSpec('sync.yaml', '/sync', 'GET', 200, bobStart);
      // The invite's stripped state has the create event (required since v1.16), with its origin_server_ts.
      const strippedCreate = bobStart.rooms.invite[roomId].invite_state.events.find((e: Record<string, any>) => e.type === 'm.room.create');
      expect(strippedCreate.content.room_version).toBe(version);
      expect(strippedCreate.sender).toBe(alice.userId);
      expect(strippedCreate.origin_server_ts).toBe((await getStateEvent(alice, roomId, 'm.room.create')).origin_server_ts);
      expectMatchesSpec('joining.yaml', '/rooms/{roomId}/join', 'POST', 200, ok(await bob.client.post(roomPath(roomId, '/join'), {})));
      const sent = ok(
        await alice.client.put(roomPath(roomId, `/send/m.room.message/${newTxnId()}`), { msgtype: 'm.text', body: `hello v${version}` }),
      );
      expectMatchesSpec('room_send.yaml', '/rooms/{roomId}/send/{eventType}/{txnId}', 'PUT', 200, sent);
      const helloId: string = sent.event_id;
      await sendText(bob, roomId, `reply v${version}`);
      expect(helloId).toMatch(eventIdPattern(version));
      const hello = ok(await bob.client.get(roomPath(roomId, `/event/${enc(helloId)}`)));
      expectMatchesSpec('rooms.yaml', '/rooms/{roomId}/event/{eventId}', 'GET', 200, hello);
      expect(hello.event_id).toBe(helloId);
      expect((await getState(bob, roomId, 'm.room.create')).room_version).toBe(version);
      expect(await getState(bob, roomId, 'm.room.name')).toEqual({ name: `v${version}` });
      const page = ok(await messages(bob, roomId, { dir: 'b', limit: 5 }));
      expectMatchesSpec('message_pagination.yaml', '/rooms/{roomId}/messages', 'GET', 200, page);
      expect(bodiesOf(page.chunk)).toEqual([`reply v${version}`, `hello v${version}`]);
      for (const e of page.chunk) expect(e.room_id).toBe(roomId);
      const s = await syncOk(alice, { since: bobStart.next_batch });
      expect(bodiesOf(s.rooms.join[roomId].timeline.events)).toEqual([`hello v${version}`, `reply v${version}`]);
      expect(ok(await bob.client.get(`${CS}/joined_rooms`)).joined_rooms).toContain(roomId);
      // A redaction goes through the version's redaction rules (and, in v1/v2, its auth rule).
      ok(await alice.client.put(roomPath(roomId, `/redact/${enc(helloId)}/${newTxnId()}`), {}));
      expect(ok(await bob.client.get(roomPath(roomId, `/event/${enc(helloId)}`))).content).toEqual({});
    });

    it(version === '12' ? 'room id is derived from the create event and has no server part' : 'room id is !opaque:server', async () => {
      const roomId = await createRoom(alice, { room_version: version });
      const create = await getStateEvent(alice, roomId, 'm.room.create');
      expect(create.room_id).toBe(roomId);
      if (version === '12') {
        expect(roomId).toMatch(/^![A-Za-z0-9_-]{43}$/);
        expect(roomId).not.toContain(':');
        expect(create.event_id).toBe(`$${roomId.slice(1)}`);
      } else {
        expect(roomId).toMatch(/^![^:]+:localhost$/);
        expect(create.event_id).not.toBe(`$${roomId.slice(1)}`);
      }
    });

    const namesCreator = Number(version) <= 10;
    it(`the create event ${namesCreator ? 'names' : 'does not name'} the creator`, async () => {
      const roomId = await createRoom(alice, { room_version: version });
      const create = await getStateEvent(alice, roomId, 'm.room.create');
      expect(create.sender).toBe(alice.userId);
      expect(create.event_id).toMatch(eventIdPattern(version));
      if (namesCreator) expect(create.content.creator).toBe(alice.userId);
      else expect(create.content).not.toHaveProperty('creator');
    });
  });
}

describe('knocking', () => {
  it.each(['7', '10', '12'])(
    'v%s: a knock is allowed and its knock_state carries the create event with origin_server_ts',
    async (version) => {
      const roomId = await createRoom(alice, {
        room_version: version,
        initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }],
      });
      expectMatchesSpec(
        'knocking.yaml',
        '/knock/{roomIdOrAlias}',
        'POST',
        200,
        ok(await carol.client.post(`${CS}/knock/${enc(roomId)}`, {})),
      );
      const s = await syncOk(carol);
      const create = s.rooms.knock[roomId].knock_state.events.find((e: Record<string, any>) => e.type === 'm.room.create');
      expect(create.origin_server_ts).toBe((await getStateEvent(alice, roomId, 'm.room.create')).origin_server_ts);
      await carol.client.post(roomPath(roomId, '/leave'), {});
    },
  );

  it('v6 has no knocking: 403', async () => {
    const roomId = await createRoom(alice, {
      room_version: '6',
      initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }],
    });
    expectMatrixError(await carol.client.post(`${CS}/knock/${enc(roomId)}`, {}), 403, 'M_FORBIDDEN');
  });
});

describe('room version 12 creators', () => {
  it('the creator is not in power_levels.users, yet has the power; tombstone needs more than state_default', async () => {
    const roomId = await createRoom(alice, { room_version: '12', preset: 'private_chat', invite: [bob.userId] });
    const pl = await getState(alice, roomId, 'm.room.power_levels');
    expect(pl.users ?? {}).not.toHaveProperty(alice.userId);
    expect(pl.events['m.room.tombstone']).toBeGreaterThan(pl.state_default);
    // Infinite power: the creator changes anything, including the power levels.
    await setState(alice, roomId, 'm.room.name', '', { name: 'by the creator' });
    await joinRoom(bob, roomId);
    await setState(alice, roomId, 'm.room.power_levels', '', { ...pl, users: { ...pl.users, [bob.userId]: 100 } });
    // Even a member at 100 cannot act against the creator.
    expectMatrixError(await bob.client.post(roomPath(roomId, '/kick'), { user_id: alice.userId }), 403, 'M_FORBIDDEN');
    expectMatrixError(await bob.client.post(roomPath(roomId, '/ban'), { user_id: alice.userId }), 403, 'M_FORBIDDEN');
    // Nor list the creator in power levels.
    const now = await getState(alice, roomId, 'm.room.power_levels');
    expectMatrixError(
      await bob.client.put(roomPath(roomId, '/state/m.room.power_levels/'), { ...now, users: { ...now.users, [alice.userId]: 0 } }),
      403,
      'M_FORBIDDEN',
    );
  });

  it('PUT m.room.power_levels: valid content is 200, invalid content 400/403, never 500', async () => {
    const roomId = await createRoom(alice, { room_version: '12', preset: 'trusted_private_chat', invite: [carol.userId] });
    await joinRoom(carol, roomId);
    const pl = await getState(alice, roomId, 'm.room.power_levels');
    const cases: Array<[name: string, content: Record<string, unknown>, status: number, errcode?: string]> = [
      ['unchanged content', pl, 200],
      ['a member promoted', { ...pl, users: { [bob.userId]: 50 } }, 200],
      ['the creator listed', { ...pl, users: { [alice.userId]: 100 } }, 403, 'M_FORBIDDEN'],
      ['an additional creator listed', { ...pl, users: { [carol.userId]: 50 } }, 403, 'M_FORBIDDEN'],
      ['a string level (v10+)', { ...pl, ban: '50' }, 403, 'M_FORBIDDEN'],
      ['users not an object', { ...pl, users: 'nobody' }, 403, 'M_FORBIDDEN'],
      ['a float level', { ...pl, users: { [bob.userId]: 1.5 } }, 400, 'M_BAD_JSON'],
      ['an integer beyond 2^53', { ...pl, kick: 2 ** 60 }, 400, 'M_BAD_JSON'],
    ];
    for (const [name, content, status, errcode] of cases) {
      // Both spellings of the empty state key: with and without the trailing slash.
      for (const path of ['/state/m.room.power_levels', '/state/m.room.power_levels/']) {
        const res = await alice.client.put(roomPath(roomId, path), content);
        expect(res.status, `${name} at ${path}: ${JSON.stringify(res.body)}`).toBe(status);
        if (errcode) expectMatrixError(res, status, errcode);
        else expectMatchesSpec('room_state.yaml', '/rooms/{roomId}/state/{eventType}/{stateKey}', 'PUT', 200, res.body);
      }
    }
    // Messages with non-canonical numbers are refused the same way.
    expectMatrixError(
      await alice.client.put(roomPath(roomId, `/send/m.room.message/${newTxnId()}`), { body: 'x', n: 0.5 }),
      400,
      'M_BAD_JSON',
    );
  });

  it('trusted_private_chat makes the invitees additional creators, not power-level users', async () => {
    const roomId = await createRoom(alice, { room_version: '12', preset: 'trusted_private_chat', invite: [bob.userId] });
    const create = await getState(alice, roomId, 'm.room.create');
    expect(create.additional_creators).toEqual([bob.userId]);
    const pl = await getState(alice, roomId, 'm.room.power_levels');
    expect(pl.users ?? {}).toEqual({});
    await joinRoom(bob, roomId);
    // An additional creator has the creator's power.
    await setState(bob, roomId, 'm.room.power_levels', '', { ...pl, users: { [carol.userId]: 50 } });
    expect((await getState(alice, roomId, 'm.room.power_levels')).users).toEqual({ [carol.userId]: 50 });
    // additional_creators from creation_content are merged with the invitees, without duplicates.
    const merged = await createRoom(alice, {
      room_version: '12',
      preset: 'trusted_private_chat',
      invite: [bob.userId],
      creation_content: { additional_creators: [carol.userId, bob.userId] },
    });
    expect([...(await getState(alice, merged, 'm.room.create')).additional_creators].sort()).toEqual([bob.userId, carol.userId].sort());
  });

  it('private_chat invitees are not creators', async () => {
    const roomId = await createRoom(alice, { room_version: '12', preset: 'private_chat', invite: [bob.userId] });
    expect(await getState(alice, roomId, 'm.room.create')).not.toHaveProperty('additional_creators');
    await joinRoom(bob, roomId);
    expectMatrixError(await bob.client.put(roomPath(roomId, '/state/m.room.name/'), { name: 'nope' }), 403, 'M_FORBIDDEN');
  });

  it('a power_level_content_override naming the creator is refused and creates no room', async () => {
    const count = async () => Number((await hs.hs.db.sql`select count(*)::int as n from rooms`)[0]!.n);
    const before = await count();
    const res = await alice.client.post(`${CS}/createRoom`, {
      room_version: '12',
      power_level_content_override: { users: { [alice.userId]: 100 } },
    });
    expectMatrixError(res, 400, 'M_INVALID_ROOM_STATE');
    expect(await count()).toBe(before);
  });

  it('v12 redactions and ids round-trip through the event endpoints', async () => {
    const roomId = await createRoom(alice, { room_version: '12', preset: 'public_chat' });
    await joinRoom(bob, roomId);
    const id = await sendText(bob, roomId, 'v12 message');
    const red = ok(await bob.client.put(roomPath(roomId, `/redact/${enc(id)}/${newTxnId()}`), {}));
    const ev = ok(await alice.client.get(roomPath(roomId, `/event/${enc(id)}`)));
    expect(ev.content).toEqual({});
    expect(ev.unsigned.redacted_because.event_id).toBe(red.event_id);
    const ctx = ok(await alice.client.get(roomPath(roomId, `/context/${enc(id)}`)));
    expect(ctx.event.event_id).toBe(id);
  });
});
