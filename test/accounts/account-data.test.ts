import { describe, expect, it } from 'vitest';
import { enc, expectMatrixError } from '../support/accounts.ts';
import { ApiClient } from '../support/client.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const {
  hs,
  users: [alice, bob],
} = withHomeserver({ users: ['alice', 'bob'] });

const ROOM = '!room1:localhost';
const globalPath = (userId: string, type: string) => `/_matrix/client/v3/user/${enc(userId)}/account_data/${enc(type)}`;
const roomPath = (userId: string, roomId: string, type: string) =>
  `/_matrix/client/v3/user/${enc(userId)}/rooms/${enc(roomId)}/account_data/${enc(type)}`;
const GLOBAL = '/user/{userId}/account_data/{type}';
const SCOPED = '/user/{userId}/rooms/{roomId}/account_data/{type}';
const spec = (path: string, method: string, status: number, body: unknown) =>
  expectMatchesSpec('account-data.yaml', path, method, status, body);

describe('global account data', () => {
  it('a type never set is 404 M_NOT_FOUND', async () => {
    const r = await alice.client.get(globalPath(alice.userId, 'org.example.unset'));
    expectMatrixError(r, 404, 'M_NOT_FOUND');
    spec(GLOBAL, 'GET', 404, r.body);
  });

  it('stores, returns and replaces content', async () => {
    const put = await alice.client.put(globalPath(alice.userId, 'org.example.settings'), { theme: 'dark', nested: { n: [1, 2] } });
    expect(put.status).toBe(200);
    spec(GLOBAL, 'PUT', 200, put.body);
    const got = await alice.client.get(globalPath(alice.userId, 'org.example.settings'));
    expect(got.status).toBe(200);
    spec(GLOBAL, 'GET', 200, got.body);
    expect(got.body).toEqual({ theme: 'dark', nested: { n: [1, 2] } });
    await alice.client.put(globalPath(alice.userId, 'org.example.settings'), { theme: 'light' });
    expect((await alice.client.get(globalPath(alice.userId, 'org.example.settings'))).body).toEqual({ theme: 'light' });
  });

  it('another user’s account data is 403 M_FORBIDDEN, both ways', async () => {
    const read = await bob.client.get(globalPath(alice.userId, 'org.example.settings'));
    expectMatrixError(read, 403, 'M_FORBIDDEN');
    spec(GLOBAL, 'GET', 403, read.body);
    const write = await bob.client.put(globalPath(alice.userId, 'org.example.settings'), { theme: 'pwned' });
    expectMatrixError(write, 403, 'M_FORBIDDEN');
    spec(GLOBAL, 'PUT', 403, write.body);
    expect((await alice.client.get(globalPath(alice.userId, 'org.example.settings'))).body).toEqual({ theme: 'light' });
    // Bob's own namespace is separate.
    expectMatrixError(await bob.client.get(globalPath(bob.userId, 'org.example.settings')), 404, 'M_NOT_FOUND');
  });

  it.each(['m.fully_read', 'm.push_rules'])('%s is managed by the server: 405 M_BAD_JSON', async (type) => {
    const r = await alice.client.put(globalPath(alice.userId, type), { event_id: '$x' });
    expectMatrixError(r, 405, 'M_BAD_JSON');
    spec(GLOBAL, 'PUT', 405, r.body);
    expectMatrixError(await alice.client.get(globalPath(alice.userId, type)), 404, 'M_NOT_FOUND');
  });

  it('a body that is not a JSON object is refused', async () => {
    const path = globalPath(alice.userId, 'org.example.bad');
    const notJson = await alice.client.request('PUT', path, undefined, { raw: 'not json' });
    expectMatrixError(notJson, 400, 'M_NOT_JSON');
    spec(GLOBAL, 'PUT', 400, notJson.body);
    expectMatrixError(await alice.client.put(path, [1, 2, 3]), 400, 'M_BAD_JSON');
    expectMatrixError(await alice.client.request('PUT', path, undefined, { raw: '"a string"' }), 400, 'M_BAD_JSON');
    expectMatrixError(await alice.client.get(path), 404, 'M_NOT_FOUND');
  });

  it('needs a token', async () => {
    expectMatrixError(await new ApiClient(hs.url).get(globalPath(alice.userId, 'org.example.settings')), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await new ApiClient(hs.url).put(globalPath(alice.userId, 'org.example.settings'), {}), 401, 'M_MISSING_TOKEN');
  });
});

describe('per-room account data', () => {
  it('is kept apart from global data of the same type, and per room', async () => {
    const put = await alice.client.put(roomPath(alice.userId, ROOM, 'org.example.settings'), { room: true });
    expect(put.status).toBe(200);
    spec(SCOPED, 'PUT', 200, put.body);
    const got = await alice.client.get(roomPath(alice.userId, ROOM, 'org.example.settings'));
    expect(got.status).toBe(200);
    spec(SCOPED, 'GET', 200, got.body);
    expect(got.body).toEqual({ room: true });
    expect((await alice.client.get(globalPath(alice.userId, 'org.example.settings'))).body).toEqual({ theme: 'light' });
    const other = await alice.client.get(roomPath(alice.userId, '!room2:localhost', 'org.example.settings'));
    expectMatrixError(other, 404, 'M_NOT_FOUND');
    spec(SCOPED, 'GET', 404, other.body);
  });

  it('m.fully_read is refused in a room too', async () => {
    const r = await alice.client.put(roomPath(alice.userId, ROOM, 'm.fully_read'), { event_id: '$abc' });
    expectMatrixError(r, 405, 'M_BAD_JSON');
    spec(SCOPED, 'PUT', 405, r.body);
  });

  it('another user’s room data is 403 M_FORBIDDEN', async () => {
    const read = await bob.client.get(roomPath(alice.userId, ROOM, 'org.example.settings'));
    expectMatrixError(read, 403, 'M_FORBIDDEN');
    spec(SCOPED, 'GET', 403, read.body);
    const write = await bob.client.put(roomPath(alice.userId, ROOM, 'org.example.settings'), { room: 'pwned' });
    expectMatrixError(write, 403, 'M_FORBIDDEN');
    expect((await alice.client.get(roomPath(alice.userId, ROOM, 'org.example.settings'))).body).toEqual({ room: true });
  });

  it('an invalid room ID is 400 M_INVALID_PARAM', async () => {
    const r = await alice.client.put(roomPath(alice.userId, 'not-a-room', 'org.example.settings'), { x: 1 });
    expectMatrixError(r, 400, 'M_INVALID_PARAM');
    spec(SCOPED, 'PUT', 400, r.body);
    const g = await alice.client.get(roomPath(alice.userId, '#alias:localhost', 'org.example.settings'));
    expectMatrixError(g, 400, 'M_INVALID_PARAM');
    spec(SCOPED, 'GET', 400, g.body);
  });
});

describe('filters', () => {
  const filterPath = (userId: string) => `/_matrix/client/v3/user/${enc(userId)}/filter`;
  const fspec = (path: string, method: string, status: number, body: unknown) =>
    expectMatchesSpec('filter.yaml', path, method, status, body);
  const filter = {
    event_fields: ['type', 'content.body'],
    event_format: 'client',
    presence: { not_types: ['*'] },
    room: { timeline: { limit: 10, types: ['m.room.message'] }, state: { lazy_load_members: true } },
    'org.example.unstable': { kept: true },
  };

  it('creates a filter and returns it by id', async () => {
    const r = await alice.client.post(filterPath(alice.userId), filter);
    expect(r.status).toBe(200);
    fspec('/user/{userId}/filter', 'POST', 200, r.body);
    expect(typeof r.body.filter_id).toBe('string');
    const got = await alice.client.get(`${filterPath(alice.userId)}/${enc(r.body.filter_id)}`);
    expect(got.status).toBe(200);
    fspec('/user/{userId}/filter/{filterId}', 'GET', 200, got.body);
    expect(got.body).toEqual(filter);
  });

  it('an empty filter is a filter', async () => {
    const r = await alice.client.post(filterPath(alice.userId), {});
    expect(r.status).toBe(200);
    expect((await alice.client.get(`${filterPath(alice.userId)}/${r.body.filter_id}`)).body).toEqual({});
  });

  it.each([
    ['a string limit', { room: { timeline: { limit: 'ten' } } }],
    ['a negative limit', { room: { timeline: { limit: -1 } } }],
    ['types as a string', { presence: { types: 'm.presence' } }],
    ['an unknown event_format', { event_format: 'xml' }],
    ['include_leave as a string', { room: { include_leave: 'yes' } }],
  ])('%s is 400 M_BAD_JSON and stores nothing', async (_what, bad) => {
    const count = async () => (await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from user_filters`)[0]!.n;
    const before = await count();
    expectMatrixError(await alice.client.post(filterPath(alice.userId), bad), 400, 'M_BAD_JSON');
    expect(await count()).toBe(before);
  });

  it('an unknown filter id is 404 M_NOT_FOUND', async () => {
    expectMatrixError(await alice.client.get(`${filterPath(alice.userId)}/999999`), 404, 'M_NOT_FOUND');
    expectMatrixError(await alice.client.get(`${filterPath(alice.userId)}/not-a-number`), 404, 'M_NOT_FOUND');
  });

  it('filters are private to their owner', async () => {
    const mine = await alice.client.post(filterPath(alice.userId), filter);
    expectMatrixError(await bob.client.get(`${filterPath(alice.userId)}/${mine.body.filter_id}`), 403, 'M_FORBIDDEN');
    expectMatrixError(await bob.client.get(`${filterPath(bob.userId)}/${mine.body.filter_id}`), 404, 'M_NOT_FOUND');
    expectMatrixError(await bob.client.post(filterPath(alice.userId), {}), 403, 'M_FORBIDDEN');
  });

  it('needs a token', async () => {
    expectMatrixError(await new ApiClient(hs.url).post(filterPath(alice.userId), {}), 401, 'M_MISSING_TOKEN');
  });
});
