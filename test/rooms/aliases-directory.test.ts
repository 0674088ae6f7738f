import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { adminRegister, ApiClient, type TestUser } from '../support/client.ts';
import { createRoom, CS, enc, getState, joinRoom, ok, roomPath, setState } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** Room aliases: /directory/room/{alias}, /rooms/{roomId}/aliases, and m.room.canonical_alias checks. */

const {
  hs,
  users: [alice, bob, carol],
} = withHomeserver({ users: ['al_alice', 'al_bob', 'al_carol'] });
let roomId: string; // public_chat, alice admin, bob joined (PL 0)
let otherRoom: string;

const aliasPath = (alias: string) => `${CS}/directory/room/${enc(alias)}`;
const putAlias = (user: TestUser, alias: string, rid: string) => user.client.put(aliasPath(alias), { room_id: rid });

beforeAll(async () => {
  roomId = await createRoom(alice, { preset: 'public_chat', name: 'Aliased' });
  await joinRoom(bob, roomId);
  otherRoom = await createRoom(alice, { preset: 'public_chat' });
});

describe('PUT and GET /directory/room/{roomAlias}', () => {
  it('creates an alias and resolves it, also without a token', async () => {
    const put = ok(await putAlias(bob, '#lisbon:localhost', roomId));
    expect(put).toEqual({});
    expectMatchesSpec('directory.yaml', '/directory/room/{roomAlias}', 'PUT', 200, put);
    const got = ok(await carol.client.get(aliasPath('#lisbon:localhost')));
    expectMatchesSpec('directory.yaml', '/directory/room/{roomAlias}', 'GET', 200, got);
    expect(got).toEqual({ room_id: roomId, servers: ['localhost'] });
    expect(ok(await new ApiClient(hs.url).get(aliasPath('#lisbon:localhost'))).room_id).toBe(roomId);
  });

  it('lets users join through the alias', async () => {
    const joined = ok(await carol.client.post(`${CS}/join/${enc('#lisbon:localhost')}`, {}));
    expect(joined.room_id).toBe(roomId);
    ok(await carol.client.post(roomPath(roomId, '/leave'), {}));
  });

  it('refuses a taken alias with 409 M_UNKNOWN', async () => {
    const res = await putAlias(alice, '#lisbon:localhost', otherRoom);
    expectMatrixError(res, 409, 'M_UNKNOWN');
    expectMatchesSpec('directory.yaml', '/directory/room/{roomAlias}', 'PUT', 409, res.body);
  });

  it('refuses invalid aliases and aliases of other servers with 400 M_INVALID_PARAM', async () => {
    for (const alias of ['lisbon:localhost', '#lisbon', '#:localhost', '#a b:localhost', '#x:bad host', `#${'x'.repeat(260)}:localhost`]) {
      const res = await putAlias(alice, alias, roomId);
      expectMatrixError(res, 400, 'M_INVALID_PARAM');
    }
    const remote = await putAlias(alice, '#porto:example.org', roomId);
    expectMatrixError(remote, 400, 'M_INVALID_PARAM');
    expectMatchesSpec('directory.yaml', '/directory/room/{roomAlias}', 'PUT', 400, remote.body);
  });

  it('validates the body and the room', async () => {
    expectMatrixError(await alice.client.put(aliasPath('#body:localhost'), {}), 400, 'M_MISSING_PARAM');
    expectMatrixError(await alice.client.put(aliasPath('#body:localhost'), { room_id: 'not-a-room' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await putAlias(alice, '#body:localhost', '!nowhere:localhost'), 404, 'M_NOT_FOUND');
  });

  it('only lets room members create aliases', async () => {
    expectMatrixError(await putAlias(carol, '#intruder:localhost', roomId), 403, 'M_FORBIDDEN');
    expectMatrixError(
      await carol.client.put(aliasPath('#intruder:localhost'), { room_id: roomId }, { token: null }),
      401,
      'M_MISSING_TOKEN',
    );
  });

  it('404s for unknown aliases and 400s for malformed ones', async () => {
    const res = await bob.client.get(aliasPath('#nowhere:localhost'));
    expectMatrixError(res, 404, 'M_NOT_FOUND');
    expectMatchesSpec('directory.yaml', '/directory/room/{roomAlias}', 'GET', 404, res.body);
    // Remote aliases would need federation: unknown here.
    expectMatrixError(await bob.client.get(aliasPath('#room:example.org')), 404, 'M_NOT_FOUND');
    const bad = await bob.client.get(aliasPath('nohash:localhost'));
    expectMatrixError(bad, 400, 'M_INVALID_PARAM');
    expectMatchesSpec('directory.yaml', '/directory/room/{roomAlias}', 'GET', 400, bad.body);
  });
});

describe('GET /rooms/{roomId}/aliases', () => {
  it('lists the local aliases to members', async () => {
    ok(await putAlias(alice, '#lisboa:localhost', roomId));
    const body = ok(await bob.client.get(roomPath(roomId, '/aliases')));
    expectMatchesSpec('directory.yaml', '/rooms/{roomId}/aliases', 'GET', 200, body);
    expect(body.aliases).toEqual(['#lisboa:localhost', '#lisbon:localhost']);
    expect(ok(await alice.client.get(roomPath(otherRoom, '/aliases'))).aliases).toEqual([]);
  });

  it('forbids non-members unless the room is world_readable', async () => {
    const res = await carol.client.get(roomPath(roomId, '/aliases'));
    expectMatrixError(res, 403, 'M_FORBIDDEN');
    expectMatchesSpec('directory.yaml', '/rooms/{roomId}/aliases', 'GET', 403, res.body);
    expectMatrixError(await carol.client.get(roomPath('!nowhere:localhost', '/aliases')), 403, 'M_FORBIDDEN');
    const open = await createRoom(alice, { preset: 'public_chat', room_alias_name: 'open' });
    await setState(alice, open, 'm.room.history_visibility', '', { history_visibility: 'world_readable' });
    expect(ok(await carol.client.get(roomPath(open, '/aliases'))).aliases).toEqual(['#open:localhost']);
  });
});

describe('DELETE /directory/room/{roomAlias}', () => {
  it('lets the alias creator delete it even without power in the room', async () => {
    ok(await putAlias(bob, '#bobs:localhost', roomId));
    const res = ok(await bob.client.delete(aliasPath('#bobs:localhost')));
    expectMatchesSpec('directory.yaml', '/directory/room/{roomAlias}', 'DELETE', 200, res);
    expectMatrixError(await bob.client.get(aliasPath('#bobs:localhost')), 404, 'M_NOT_FOUND');
  });

  it('lets a member with the canonical alias power level delete anyone’s alias', async () => {
    ok(await putAlias(bob, '#bobs2:localhost', roomId));
    ok(await alice.client.delete(aliasPath('#bobs2:localhost')));
  });

  it('forbids others', async () => {
    ok(await putAlias(alice, '#alices:localhost', roomId));
    expectMatrixError(await bob.client.delete(aliasPath('#alices:localhost')), 403, 'M_FORBIDDEN');
    expectMatrixError(await carol.client.delete(aliasPath('#alices:localhost')), 403, 'M_FORBIDDEN');
    expect(ok(await bob.client.get(aliasPath('#alices:localhost'))).room_id).toBe(roomId);
  });

  it('lets a server admin delete any alias', async () => {
    const reg = ok(await adminRegister(hs.url, 'al_admin', 'admin password 123', true));
    const admin = new ApiClient(hs.url, reg.access_token as string);
    ok(await admin.delete(aliasPath('#alices:localhost')));
    expectMatrixError(await bob.client.get(aliasPath('#alices:localhost')), 404, 'M_NOT_FOUND');
  });

  it('404s for unknown aliases and 400s for invalid ones', async () => {
    const res = await alice.client.delete(aliasPath('#ghost:localhost'));
    expectMatrixError(res, 404, 'M_NOT_FOUND');
    expectMatchesSpec('directory.yaml', '/directory/room/{roomAlias}', 'DELETE', 404, res.body);
    expectMatrixError(await alice.client.delete(aliasPath('ghost')), 400, 'M_INVALID_PARAM');
    expectMatrixError(await alice.client.delete(aliasPath('#ghost:example.org')), 400, 'M_INVALID_PARAM');
  });

  it('removes a deleted alias from m.room.canonical_alias', async () => {
    const room = await createRoom(alice, { preset: 'public_chat', room_alias_name: 'canon' });
    ok(await putAlias(alice, '#canon-alt:localhost', room));
    ok(await putAlias(alice, '#canon-alt2:localhost', room));
    await setState(alice, room, 'm.room.canonical_alias', '', {
      alias: '#canon:localhost',
      alt_aliases: ['#canon-alt:localhost', '#canon-alt2:localhost'],
    });
    ok(await alice.client.delete(aliasPath('#canon:localhost')));
    expect(await getState(alice, room, 'm.room.canonical_alias')).toEqual({
      alt_aliases: ['#canon-alt:localhost', '#canon-alt2:localhost'],
    });
    ok(await alice.client.delete(aliasPath('#canon-alt:localhost')));
    expect(await getState(alice, room, 'm.room.canonical_alias')).toEqual({ alt_aliases: ['#canon-alt2:localhost'] });
  });
});

describe('m.room.canonical_alias validation', () => {
  let room: string;
  beforeAll(async () => {
    room = await createRoom(alice, { preset: 'public_chat', room_alias_name: 'checked' });
    ok(await putAlias(alice, '#checked-alt:localhost', room));
    ok(await putAlias(alice, '#elsewhere:localhost', otherRoom));
  });
  const put = (content: Record<string, unknown>) => alice.client.put(roomPath(room, '/state/m.room.canonical_alias/'), content);

  it('accepts aliases that point to the room', async () => {
    ok(await put({ alias: '#checked:localhost', alt_aliases: ['#checked-alt:localhost'] }));
    ok(await put({}));
    ok(await put({ alias: null, alt_aliases: [] }));
  });

  it('refuses aliases of another room or no room with M_BAD_ALIAS', async () => {
    const res = await put({ alias: '#elsewhere:localhost' });
    expectMatrixError(res, 400, 'M_BAD_ALIAS');
    expectMatchesSpec('room_state.yaml', '/rooms/{roomId}/state/{eventType}/{stateKey}', 'PUT', 400, res.body);
    expectMatrixError(await put({ alias: '#checked:localhost', alt_aliases: ['#nobody:localhost'] }), 400, 'M_BAD_ALIAS');
    expectMatrixError(await put({ alt_aliases: ['#remote:example.org'] }), 400, 'M_BAD_ALIAS');
  });

  it('refuses malformed aliases with M_INVALID_PARAM', async () => {
    expectMatrixError(await put({ alias: 'checked' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await put({ alias: 42 }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await put({ alt_aliases: '#checked:localhost' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await put({ alt_aliases: ['#checked-alt:localhost', 'oops'] }), 400, 'M_INVALID_PARAM');
  });

  it('does not re-check aliases the event already carried', async () => {
    // bob may delete his own alias but not edit the event, so the event keeps naming it.
    await joinRoom(bob, room);
    ok(await putAlias(bob, '#bobs-alt:localhost', room));
    ok(await put({ alt_aliases: ['#bobs-alt:localhost'] }));
    ok(await bob.client.delete(aliasPath('#bobs-alt:localhost')));
    expect(await getState(alice, room, 'm.room.canonical_alias')).toEqual({ alt_aliases: ['#bobs-alt:localhost'] });
    ok(await put({ alias: '#checked:localhost', alt_aliases: ['#bobs-alt:localhost'] }));
    expectMatrixError(
      await put({ alias: '#checked:localhost', alt_aliases: ['#bobs-alt:localhost', '#checked-alt:localhost', '#bobs-gone:localhost'] }),
      400,
      'M_BAD_ALIAS',
    );
  });
});
