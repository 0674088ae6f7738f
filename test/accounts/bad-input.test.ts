import { beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { enc, expectMatrixError, rowCounts, type RowCounts } from '../support/accounts.ts';
import { ApiClient, registerUser, type Reply, type TestUser } from '../support/client.ts';
import { expectMatchesSchemaFile } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * Bad requests, each answered with its Matrix error, and each leaving the
 * users, devices and tokens exactly as they were.
 */
const { hs } = withHomeserver({ config: { max_request_body_bytes: 1024 } });
let anon: ApiClient;
let alice: TestUser;
beforeAll(async () => {
  anon = new ApiClient(hs.url);
  alice = await registerUser(hs.url, 'alice');
});

let before: RowCounts;
beforeEach(async () => {
  before = await rowCounts(hs.hs.db.sql);
});
afterEach(async () => {
  expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
});

const v3 = '/_matrix/client/v3';
const bad = (r: Reply, status: number, errcode: string) => {
  expectMatrixError(r, status, errcode);
  expectMatchesSchemaFile('definitions/errors/error.yaml', r.body);
};
const raw = (client: ApiClient, method: string, path: string, text: string) =>
  client.request(method, path, undefined, { raw: text, headers: { 'content-type': 'application/json' } });

describe('malformed JSON is 400 M_NOT_JSON', () => {
  it.each([
    ['POST', `${v3}/register`],
    ['POST', `${v3}/login`],
    ['POST', `${v3}/refresh`],
    ['POST', '/_synapse/admin/v1/register'],
  ])('%s %s (no token needed)', async (method, path) => {
    bad(await raw(anon, method, path, '{"username": "mallory", '), 400, 'M_NOT_JSON');
    bad(await raw(anon, method, path, 'username=mallory'), 400, 'M_NOT_JSON');
  });

  it.each([
    ['POST', `${v3}/account/password`],
    ['POST', `${v3}/account/deactivate`],
    ['POST', `${v3}/delete_devices`],
    ['PUT', `${v3}/devices/DEV`],
    ['POST', `${v3}/user/@alice:localhost/filter`],
  ])('%s %s (with a token)', async (method, path) => {
    bad(await raw(alice.client, method, path, '{"auth": {'), 400, 'M_NOT_JSON');
  });
});

describe('JSON of the wrong shape is 400 M_BAD_JSON', () => {
  it('a body that is not an object', async () => {
    for (const text of ['[]', 'null', '42', '"register me"']) {
      bad(await raw(anon, 'POST', `${v3}/register`, text), 400, 'M_BAD_JSON');
      bad(await raw(anon, 'POST', `${v3}/login`, text), 400, 'M_BAD_JSON');
    }
  });

  it.each([
    [`${v3}/register`, { username: 42, password: 'a long password', auth: { type: 'm.login.dummy' } }],
    [`${v3}/register`, { username: 'mallory', password: ['a long password'], auth: { type: 'm.login.dummy' } }],
    [`${v3}/register`, { username: 'mallory', password: 'a long password', inhibit_login: 'no', auth: { type: 'm.login.dummy' } }],
    [`${v3}/register`, { username: 'mallory', password: 'a long password', auth: 'm.login.dummy' }],
    [`${v3}/login`, { type: 7, user: 'alice', password: 'correct horse battery' }],
    [`${v3}/login`, { type: 'm.login.password', identifier: 'alice', password: 'correct horse battery' }],
  ])('POST %s %j', async (path, body) => {
    bad(await anon.post(path, body), 400, 'M_BAD_JSON');
  });
});

describe('JSON that PostgreSQL cannot store is 400 M_BAD_JSON, not a 500', () => {
  const accountData = `${v3}/user/@alice:localhost/account_data/org.example.odd`;

  it.each([
    ['a NUL in a string', '{"s": "a\\u0000b"}'],
    ['a NUL in a key', '{"a\\u0000": 1}'],
    ['an unpaired high surrogate', '{"s": "\\ud800"}'],
    ['an unpaired low surrogate', '{"s": ["x\\udc00"]}'],
    ['nesting 200 deep', `{"d": ${'['.repeat(200)}${']'.repeat(200)}}`],
  ])('account data with %s', async (_what, text) => {
    bad(await raw(alice.client, 'PUT', accountData, text), 400, 'M_BAD_JSON');
    expectMatrixError(await alice.client.get(accountData), 404, 'M_NOT_FOUND');
  });

  it('a NUL in a login, a display name or a device name', async () => {
    bad(await anon.post(`${v3}/login`, { type: 'm.login.password', user: 'ali\u0000ce', password: 'x' }), 400, 'M_BAD_JSON');
    bad(await alice.client.put(`${v3}/profile/@alice:localhost/displayname`, { displayname: 'A\u0000' }), 400, 'M_BAD_JSON');
    bad(await alice.client.put(`${v3}/devices/${alice.deviceId}`, { display_name: 'D\u0000' }), 400, 'M_BAD_JSON');
  });

  it('a surrogate pair (an emoji) is fine', async () => {
    const path = `${v3}/user/@alice:localhost/account_data/org.example.emoji`;
    expect((await alice.client.put(path, { s: '\u{1F600} ok', nested: { '\u{1F600}': [1] } })).status).toBe(200);
    expect((await alice.client.get(path)).body).toEqual({ s: '\u{1F600} ok', nested: { '\u{1F600}': [1] } });
  });
});

describe('a missing required parameter is 400 M_MISSING_PARAM', () => {
  it.each([
    [`${v3}/login`, { identifier: { type: 'm.id.user', user: 'alice' }, password: 'correct horse battery' }],
    [`${v3}/refresh`, {}],
    ['/_synapse/admin/v1/register', { username: 'mallory', password: 'a long password', mac: 'x' }],
  ])('POST %s %j', async (path, body) => {
    bad(await anon.post(path, body), 400, 'M_MISSING_PARAM');
  });

  it('with a token', async () => {
    bad(await alice.client.post(`${v3}/account/password`, {}), 400, 'M_MISSING_PARAM');
    bad(await alice.client.post(`${v3}/delete_devices`, { auth: {} }), 400, 'M_MISSING_PARAM');
  });
});

describe('a body over max_request_body_bytes is 413 M_TOO_LARGE', () => {
  const big = { username: 'mallory', password: 'a long password', auth: { type: 'm.login.dummy' }, padding: 'x'.repeat(4096) };

  it('with a Content-Length', async () => {
    bad(await anon.post(`${v3}/register`, big), 413, 'M_TOO_LARGE');
    bad(
      await alice.client.put(`${v3}/user/${enc(alice.userId)}/account_data/org.example.big`, { blob: 'y'.repeat(2048) }),
      413,
      'M_TOO_LARGE',
    );
    expectMatrixError(await alice.client.get(`${v3}/user/${enc(alice.userId)}/account_data/org.example.big`), 404, 'M_NOT_FOUND');
  });

  it('sent chunked, without a Content-Length', async () => {
    const payload = new TextEncoder().encode(JSON.stringify(big));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < payload.length; i += 512) controller.enqueue(payload.slice(i, i + 512));
        controller.close();
      },
    });
    const res = await fetch(`${hs.url}${v3}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    const r: Reply = { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
    bad(r, 413, 'M_TOO_LARGE');
  });

  it('a body just under the limit is read normally', async () => {
    const r = await anon.post(`${v3}/register`, { username: 'Not Valid', password: 'a long password', padding: 'p'.repeat(900) });
    bad(r, 400, 'M_INVALID_USERNAME');
  });
});

describe('access tokens', () => {
  const authed = [
    ['GET', `${v3}/account/whoami`],
    ['GET', `${v3}/capabilities`],
    ['GET', `${v3}/devices`],
    ['POST', `${v3}/logout`],
    ['POST', `${v3}/logout/all`],
    ['POST', `${v3}/account/password`],
    ['POST', `${v3}/account/deactivate`],
    ['PUT', `${v3}/profile/@alice:localhost/displayname`],
    ['GET', `${v3}/user/@alice:localhost/account_data/org.example`],
    ['POST', `${v3}/user/@alice:localhost/filter`],
  ] as const;

  it.each(authed)('%s %s without a token is 401 M_MISSING_TOKEN', async (method, path) => {
    bad(await anon.request(method, path, method === 'GET' ? undefined : {}, { token: null }), 401, 'M_MISSING_TOKEN');
  });

  it.each(authed)('%s %s with an unknown token is 401 M_UNKNOWN_TOKEN', async (method, path) => {
    const r = await anon.request(method, path, method === 'GET' ? undefined : {}, { token: 'cca_thisisnotatoken' });
    bad(r, 401, 'M_UNKNOWN_TOKEN');
    expect(r.body.soft_logout).toBe(false);
  });

  it('an unknown token in the query string is 401 M_UNKNOWN_TOKEN', async () => {
    bad(await anon.get(`${v3}/account/whoami?access_token=cca_nope`, { token: null }), 401, 'M_UNKNOWN_TOKEN');
  });

  it('the token is checked before the body is parsed', async () => {
    bad(await anon.request('POST', `${v3}/account/password`, undefined, { raw: '{not json', token: 'cca_nope' }), 401, 'M_UNKNOWN_TOKEN');
  });
});

describe('routing errors', () => {
  it('unknown endpoints are 404 M_UNRECOGNIZED, whatever the method', async () => {
    bad(await anon.get(`${v3}/no_such_endpoint`), 404, 'M_UNRECOGNIZED');
    bad(await anon.post(`${v3}/no_such_endpoint`, { a: 1 }), 404, 'M_UNRECOGNIZED');
    bad(await anon.get('/_matrix/client/r0/login'), 404, 'M_UNRECOGNIZED');
  });

  it('known endpoints with the wrong method are 405 M_UNRECOGNIZED', async () => {
    bad(await anon.get(`${v3}/refresh`), 405, 'M_UNRECOGNIZED');
    bad(await anon.put(`${v3}/account/whoami`, {}), 405, 'M_UNRECOGNIZED');
    bad(await anon.request('DELETE', `${v3}/user/@alice:localhost/filter`), 405, 'M_UNRECOGNIZED');
  });
});
