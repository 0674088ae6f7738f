import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { adminRegister, ApiClient, type TestUser } from '../support/client.ts';
import { createRoom, CS, enc, joinRoom, ok, query, setState } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** The published room directory: GET/POST /publicRooms and GET/PUT /directory/list/room/{roomId}. */

const {
  hs,
  users: [alice, bob, carol],
} = withHomeserver({ users: ['dir_alice', 'dir_bob', 'dir_carol'] });
let big: string; // 3 joined
let medium: string; // 2 joined
let small: string; // 1 joined, world_readable, guests
let space: string; // 1 joined, m.space
let hidden: string; // private, not published

const publicRooms = (client: ApiClient, params: Record<string, string | number | undefined> = {}) =>
  client.get(`${CS}/publicRooms${query(params)}`);
const search = (user: TestUser, body: Record<string, unknown>, params: Record<string, string> = {}) =>
  user.client.post(`${CS}/publicRooms${query(params)}`, body);
const listPath = (rid: string) => `${CS}/directory/list/room/${enc(rid)}`;
const roomIds = (chunk: Array<{ room_id: string }>) => chunk.map((r) => r.room_id);

beforeAll(async () => {
  big = await createRoom(alice, { visibility: 'public', name: 'Big Lisbon', topic: 'Trams and pastries', room_alias_name: 'big' });
  medium = await createRoom(alice, { visibility: 'public', name: 'Medium Porto' });
  small = await createRoom(alice, {
    visibility: 'public',
    name: 'Small Faro',
    initial_state: [
      { type: 'm.room.history_visibility', content: { history_visibility: 'world_readable' } },
      { type: 'm.room.guest_access', content: { guest_access: 'can_join' } },
      { type: 'm.room.avatar', content: { url: 'mxc://localhost/avatar' } },
    ],
  });
  space = await createRoom(alice, { visibility: 'public', name: 'Portugal space', creation_content: { type: 'm.space' } });
  hidden = await createRoom(alice, { preset: 'public_chat', name: 'Hidden Lisbon' });
  await joinRoom(bob, big);
  await joinRoom(carol, big);
  await joinRoom(bob, medium);
  await setState(alice, big, 'm.room.topic', '', {
    topic: 'Trams and pastries (plain fallback)',
    'm.topic': { 'm.text': [{ mimetype: 'text/html', body: '<b>Trams</b>' }, { body: 'Trams and pastries' }] },
  });
  // MSC3765's draft shape (a bare array under m.topic), as older clients still send it.
  await setState(alice, medium, 'm.room.topic', '', {
    topic: 'Ferries (plain fallback)',
    'm.topic': [{ mimetype: 'text/plain', body: 'Ferries' }],
  });
});

describe('GET /publicRooms', () => {
  it('lists published rooms by joined members, with their directory fields', async () => {
    const body = ok(await publicRooms(new ApiClient(hs.url)));
    expectMatchesSpec('list_public_rooms.yaml', '/publicRooms', 'GET', 200, body);
    expect(roomIds(body.chunk)).toEqual([big, medium, ...[small, space].sort()]);
    expect(body.total_room_count_estimate).toBe(4);
    expect(body.next_batch).toBeUndefined();
    expect(body.prev_batch).toBeUndefined();
    const byId = new Map(body.chunk.map((r: Record<string, any>) => [r.room_id, r]));
    expect(byId.get(big)).toEqual({
      room_id: big,
      name: 'Big Lisbon',
      topic: 'Trams and pastries',
      canonical_alias: '#big:localhost',
      num_joined_members: 3,
      world_readable: false,
      guest_can_join: false,
      join_rule: 'public',
    });
    expect(byId.get(medium)).toMatchObject({ topic: 'Ferries' });
    expect(byId.get(small)).toMatchObject({
      world_readable: true,
      guest_can_join: true,
      avatar_url: 'mxc://localhost/avatar',
      num_joined_members: 1,
    });
    expect(byId.get(space)).toMatchObject({ room_type: 'm.space', name: 'Portugal space' });
    expect(roomIds(body.chunk)).not.toContain(hidden);
  });

  it('pages forwards with next_batch and back with prev_batch', async () => {
    const pages: string[][] = [];
    let since: string | undefined;
    let first: Record<string, any> | undefined;
    const tokens: Array<{ next?: string; prev?: string }> = [];
    for (let i = 0; i < 10; i++) {
      const body = ok(await publicRooms(bob.client, { limit: 1, since }));
      first ??= body;
      pages.push(roomIds(body.chunk));
      tokens.push({ next: body.next_batch, prev: body.prev_batch });
      if (!body.next_batch) break;
      since = body.next_batch;
    }
    expect(pages.flat()).toEqual([big, medium, ...[small, space].sort()]);
    expect(first?.prev_batch).toBeUndefined();
    expect(tokens.at(-1)?.prev).toEqual(expect.any(String));
    // From the last page, prev_batch leads back one page at a time.
    const back = ok(await publicRooms(bob.client, { limit: 2, since: tokens.at(-1)!.prev }));
    expect(roomIds(back.chunk)).toEqual([medium, pages[2]![0]]);
    expect(back.prev_batch).toEqual(expect.any(String));
    expect(back.next_batch).toEqual(expect.any(String));
    const start = ok(await publicRooms(bob.client, { limit: 2, since: back.prev_batch }));
    expect(roomIds(start.chunk)).toEqual([big]);
    expect(start.prev_batch).toBeUndefined();
    const again = ok(await publicRooms(bob.client, { limit: 5, since: back.next_batch }));
    expect(roomIds(again.chunk)).toEqual([pages[3]![0]]);
  });

  it('rejects a bad since token and other servers', async () => {
    expectMatrixError(await publicRooms(bob.client, { since: 'garbage' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await publicRooms(bob.client, { server: 'example.org' }), 400, 'M_INVALID_PARAM');
    expect(ok(await publicRooms(bob.client, { server: 'localhost' })).chunk).toHaveLength(4);
    expectMatrixError(await publicRooms(bob.client, { limit: 'many' }), 400, 'M_INVALID_PARAM');
  });
});

describe('POST /publicRooms', () => {
  it('searches names, topics and aliases case-insensitively', async () => {
    const body = ok(await search(bob, { filter: { generic_search_term: 'LISBON' } }));
    expectMatchesSpec('list_public_rooms.yaml', '/publicRooms', 'POST', 200, body);
    expect(roomIds(body.chunk)).toEqual([big]);
    expect(roomIds(ok(await search(bob, { filter: { generic_search_term: 'pastries' } })).chunk)).toEqual([big]);
    expect(roomIds(ok(await search(bob, { filter: { generic_search_term: '#big:' } })).chunk)).toEqual([big]);
    expect(ok(await search(bob, { filter: { generic_search_term: 'madrid' } })).chunk).toEqual([]);
    expect(ok(await search(bob, { filter: { generic_search_term: '' } })).chunk).toHaveLength(4);
  });

  it('filters by room type, null meaning no type', async () => {
    expect(roomIds(ok(await search(bob, { filter: { room_types: ['m.space'] } })).chunk)).toEqual([space]);
    expect(roomIds(ok(await search(bob, { filter: { room_types: [null] } })).chunk)).toEqual([big, medium, small]);
    expect(ok(await search(bob, { filter: { room_types: [null, 'm.space'] } })).chunk).toHaveLength(4);
    expect(ok(await search(bob, { filter: { room_types: [] } })).chunk).toEqual([]);
  });

  it('paginates with limit and since', async () => {
    const first = ok(await search(bob, { limit: 2, filter: { room_types: [null] } }));
    expect(roomIds(first.chunk)).toEqual([big, medium]);
    const second = ok(await search(bob, { limit: 2, since: first.next_batch, filter: { room_types: [null] } }));
    expect(roomIds(second.chunk)).toEqual([small]);
    expect(second.next_batch).toBeUndefined();
    expect(second.prev_batch).toEqual(expect.any(String));
  });

  it('knows no third-party networks', async () => {
    expect(ok(await search(bob, { include_all_networks: true })).chunk).toHaveLength(4);
    expect(ok(await search(bob, { third_party_instance_id: 'irc' })).chunk).toEqual([]);
    expectMatrixError(await search(bob, { include_all_networks: true, third_party_instance_id: 'irc' }), 400, 'M_INVALID_PARAM');
  });

  it('rejects malformed bodies and requires a token', async () => {
    expectMatrixError(await search(bob, { limit: 'ten' }), 400, 'M_BAD_JSON');
    expectMatrixError(await search(bob, { filter: { room_types: [1] } }), 400, 'M_BAD_JSON');
    expectMatrixError(await search(bob, { since: 'nope' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await search(bob, {}, { server: 'example.org' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await bob.client.post(`${CS}/publicRooms`, {}, { token: null }), 401, 'M_MISSING_TOKEN');
  });
});

describe('GET/PUT /directory/list/room/{roomId}', () => {
  it('reports visibility, without a token too', async () => {
    const pub = ok(await new ApiClient(hs.url).get(listPath(big)));
    expectMatchesSpec('list_public_rooms.yaml', '/directory/list/room/{roomId}', 'GET', 200, pub);
    expect(pub).toEqual({ visibility: 'public' });
    expect(ok(await bob.client.get(listPath(hidden)))).toEqual({ visibility: 'private' });
    const res = await bob.client.get(listPath('!nowhere:localhost'));
    expectMatrixError(res, 404, 'M_NOT_FOUND');
    expectMatchesSpec('list_public_rooms.yaml', '/directory/list/room/{roomId}', 'GET', 404, res.body);
  });

  it('publishes and unpublishes a room for those who may change its canonical alias', async () => {
    const put = ok(await alice.client.put(listPath(hidden), { visibility: 'public' }));
    expectMatchesSpec('list_public_rooms.yaml', '/directory/list/room/{roomId}', 'PUT', 200, put);
    expect(roomIds(ok(await publicRooms(bob.client)).chunk)).toContain(hidden);
    ok(await alice.client.put(listPath(hidden), { visibility: 'private' }));
    expect(roomIds(ok(await publicRooms(bob.client)).chunk)).not.toContain(hidden);
    // visibility defaults to public
    ok(await alice.client.put(listPath(hidden), {}));
    expect(ok(await bob.client.get(listPath(hidden)))).toEqual({ visibility: 'public' });
    ok(await alice.client.put(listPath(hidden), { visibility: 'private' }));
  });

  it('forbids members without that power and non-members', async () => {
    expectMatrixError(await bob.client.put(listPath(big), { visibility: 'private' }), 403, 'M_FORBIDDEN');
    expectMatrixError(await bob.client.put(listPath(hidden), { visibility: 'public' }), 403, 'M_FORBIDDEN');
    expect(ok(await bob.client.get(listPath(big)))).toEqual({ visibility: 'public' });
    // Power can be delegated through the canonical alias level.
    await setState(alice, big, 'm.room.power_levels', '', {
      users: { [alice.userId]: 100, [bob.userId]: 50 },
      events: { 'm.room.canonical_alias': 50, 'm.room.power_levels': 100 },
      state_default: 50,
    });
    ok(await bob.client.put(listPath(big), { visibility: 'public' }));
  });

  it('lets a server admin change any room', async () => {
    const reg = ok(await adminRegister(hs.url, 'dir_admin', 'admin password 123', true));
    const admin = new ApiClient(hs.url, reg.access_token as string);
    ok(await admin.put(listPath(medium), { visibility: 'private' }));
    expect(ok(await bob.client.get(listPath(medium)))).toEqual({ visibility: 'private' });
    ok(await admin.put(listPath(medium), { visibility: 'public' }));
  });

  it('validates the request', async () => {
    const res = await alice.client.put(listPath('!nowhere:localhost'), { visibility: 'public' });
    expectMatrixError(res, 404, 'M_NOT_FOUND');
    expectMatchesSpec('list_public_rooms.yaml', '/directory/list/room/{roomId}', 'PUT', 404, res.body);
    expectMatrixError(await alice.client.put(listPath(big), { visibility: 'everyone' }), 400, 'M_BAD_JSON');
    expectMatrixError(await alice.client.put(listPath('nope'), { visibility: 'public' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await alice.client.put(listPath(big), { visibility: 'public' }, { token: null }), 401, 'M_MISSING_TOKEN');
  });
});
