import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError, passwordLogin, rowCounts } from '../support/accounts.ts';
import { ApiClient, registerUser, type TestUser } from '../support/client.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const LOGIN = '/_matrix/client/v3/login';
const WHOAMI = '/_matrix/client/v3/account/whoami';

const { hs } = withHomeserver();
let anon: ApiClient;
let alice: TestUser;
beforeAll(async () => {
  anon = new ApiClient(hs.url);
  alice = await registerUser(hs.url, 'alice');
});

const spec = (status: number, body: unknown) => expectMatchesSpec('login.yaml', '/login', 'POST', status, body);
const whoami = (token: string) => anon.get(WHOAMI, { token });

describe('GET /login', () => {
  it('offers m.login.password', async () => {
    const r = await anon.get(LOGIN);
    expect(r.status).toBe(200);
    expectMatchesSpec('login.yaml', '/login', 'GET', 200, r.body);
    expect(r.body.flows).toContainEqual({ type: 'm.login.password' });
  });
});

describe('POST /login with m.login.password', () => {
  it.each([
    ['the localpart', 'alice'],
    ['the full Matrix ID', '@alice:localhost'],
    ['the localpart in another case', 'ALICE'],
    ['the full Matrix ID in another case', '@Alice:localhost'],
  ])('logs in with %s', async (_what, user) => {
    const r = await passwordLogin(hs.url, user, alice.password);
    expect(r.status).toBe(200);
    spec(200, r.body);
    expect(r.body.user_id).toBe('@alice:localhost');
    expect(r.body.home_server).toBe('localhost');
    expect(r.body.refresh_token).toBeUndefined();
    expect(r.body.expires_in_ms).toBeUndefined();
    const who = await whoami(r.body.access_token);
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({ user_id: '@alice:localhost', device_id: r.body.device_id });
  });

  it('accepts the deprecated top-level user field', async () => {
    const r = await anon.post(LOGIN, { type: 'm.login.password', user: 'alice', password: alice.password });
    expect(r.status).toBe(200);
    spec(200, r.body);
  });

  it('each login is a new device with its own token', async () => {
    const a = await passwordLogin(hs.url, 'alice', alice.password);
    const b = await passwordLogin(hs.url, 'alice', alice.password);
    expect(a.body.device_id).not.toBe(b.body.device_id);
    expect(a.body.access_token).not.toBe(b.body.access_token);
  });

  it('refresh_token: true returns a refresh token and the token lifetime', async () => {
    const r = await passwordLogin(hs.url, 'alice', alice.password, { refresh_token: true });
    expect(r.status).toBe(200);
    spec(200, r.body);
    expect(typeof r.body.refresh_token).toBe('string');
    expect(r.body.expires_in_ms).toBe(hs.config.auth.refreshable_access_token_lifetime_ms);
    expect((await whoami(r.body.access_token)).status).toBe(200);
  });

  it('a client-chosen device id is kept, with its display name', async () => {
    const first = await passwordLogin(hs.url, 'alice', alice.password, { device_id: 'LAPTOP', initial_device_display_name: 'Work laptop' });
    expect(first.status).toBe(200);
    expect(first.body.device_id).toBe('LAPTOP');
    const dev = await alice.client.get('/_matrix/client/v3/devices/LAPTOP');
    expect(dev.body).toMatchObject({ device_id: 'LAPTOP', display_name: 'Work laptop' });
  });

  it('logging in again as a known device keeps the device (and its name) and ends its old token', async () => {
    const first = await passwordLogin(hs.url, 'alice', alice.password, { device_id: 'PHONE', initial_device_display_name: 'Pocket' });
    const second = await passwordLogin(hs.url, 'alice', alice.password, { device_id: 'PHONE', initial_device_display_name: 'Ignored' });
    expect(second.status).toBe(200);
    expect(second.body.device_id).toBe('PHONE');
    expect((await whoami(second.body.access_token)).body.device_id).toBe('PHONE');
    // The spec: initial_device_display_name is ignored for a known device.
    const dev = await alice.client.get('/_matrix/client/v3/devices/PHONE');
    expect(dev.body).toMatchObject({ device_id: 'PHONE', display_name: 'Pocket' });
    expectMatrixError(await whoami(first.body.access_token), 401, 'M_UNKNOWN_TOKEN');
    const [n] = await hs.hs.db.sql<
      { n: number }[]
    >`select count(*)::int as n from devices where user_id = ${alice.userId} and device_id = 'PHONE'`;
    expect(n!.n).toBe(1);
  });
});

describe('POST /login refusals change nothing', () => {
  const refused = async (body: Record<string, unknown>, status: number, errcode: string) => {
    const before = await rowCounts(hs.hs.db.sql);
    const r = await anon.post(LOGIN, body);
    expectMatrixError(r, status, errcode);
    if (status !== 405) spec(status, r.body);
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
    return r;
  };
  const pw = (user: string, password: string) => ({ type: 'm.login.password', identifier: { type: 'm.id.user', user }, password });

  it('a wrong password is 403 M_FORBIDDEN', async () => {
    await refused(pw('alice', 'not the password'), 403, 'M_FORBIDDEN');
  });

  it('an unknown user is 403 M_FORBIDDEN, said the same way as a wrong password', async () => {
    const unknown = await refused(pw('nobody', 'whatever pass'), 403, 'M_FORBIDDEN');
    const wrong = await refused(pw('alice', 'whatever pass'), 403, 'M_FORBIDDEN');
    expect(unknown.body.error).toBe(wrong.body.error);
  });

  it('a user of another server is 403 M_FORBIDDEN', async () => {
    await refused(pw('@alice:elsewhere.example', alice.password), 403, 'M_FORBIDDEN');
  });

  it('an unknown login type is 400', async () => {
    await refused({ type: 'm.login.magic', identifier: { type: 'm.id.user', user: 'alice' } }, 400, 'M_UNKNOWN');
  });

  it('an unknown identifier type is 400', async () => {
    await refused(
      { type: 'm.login.password', identifier: { type: 'm.id.thirdparty', medium: 'email', address: 'a@b.c' }, password: 'x' },
      400,
      'M_UNKNOWN',
    );
  });

  it('a missing type, user or password is M_MISSING_PARAM', async () => {
    await refused({ identifier: { type: 'm.id.user', user: 'alice' }, password: alice.password }, 400, 'M_MISSING_PARAM');
    await refused({ type: 'm.login.password', password: alice.password }, 400, 'M_MISSING_PARAM');
    await refused({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' } }, 400, 'M_MISSING_PARAM');
  });

  it('wrong types are M_BAD_JSON', async () => {
    await refused({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 12345678 }, 400, 'M_BAD_JSON');
    await refused({ ...pw('alice', alice.password), refresh_token: 'yes' }, 400, 'M_BAD_JSON');
    await refused({ ...pw('alice', alice.password), device_id: '' }, 400, 'M_BAD_JSON');
  });
});

describe('GET /account/whoami', () => {
  it('says who the token belongs to', async () => {
    const r = await alice.client.get(WHOAMI);
    expect(r.status).toBe(200);
    expectMatchesSpec('whoami.yaml', '/account/whoami', 'GET', 200, r.body);
    expect(r.body).toEqual({ user_id: alice.userId, device_id: alice.deviceId, is_guest: false });
  });

  it('accepts the token as a query parameter too (deprecated, still used)', async () => {
    const r = await anon.get(`${WHOAMI}?access_token=${encodeURIComponent(alice.accessToken)}`, { token: null });
    expect(r.status).toBe(200);
    expect(r.body.user_id).toBe(alice.userId);
  });

  it('refuses a missing, unknown or malformed token', async () => {
    const missing = await anon.get(WHOAMI);
    expectMatrixError(missing, 401, 'M_MISSING_TOKEN');
    expectMatchesSpec('whoami.yaml', '/account/whoami', 'GET', 401, missing.body);
    const unknown = await whoami('cca_notarealtoken');
    expectMatrixError(unknown, 401, 'M_UNKNOWN_TOKEN');
    expect(unknown.body.soft_logout).toBe(false);
    expectMatchesSpec('whoami.yaml', '/account/whoami', 'GET', 401, unknown.body);
    const basic = await anon.request('GET', WHOAMI, undefined, { token: null, headers: { authorization: 'Basic YWxpY2U6cHc=' } });
    expect(basic.status).toBe(401);
    expect(['M_MISSING_TOKEN', 'M_UNKNOWN_TOKEN']).toContain(basic.body.errcode);
  });
});

describe('POST /logout and /logout/all', () => {
  it('logout ends this session and its device, and no other', async () => {
    const bob = await registerUser(hs.url, 'bob');
    const other = await passwordLogin(hs.url, 'bob', bob.password);
    const r = await bob.client.post('/_matrix/client/v3/logout', {});
    expect(r.status).toBe(200);
    expectMatchesSpec('logout.yaml', '/logout', 'POST', 200, r.body);
    expectMatrixError(await whoami(bob.accessToken), 401, 'M_UNKNOWN_TOKEN');
    expect((await whoami(other.body.access_token)).status).toBe(200);
    const devices = await new ApiClient(hs.url, other.body.access_token).get('/_matrix/client/v3/devices');
    expect(devices.body.devices.map((d: { device_id: string }) => d.device_id)).toEqual([other.body.device_id]);
    // A second logout with the dead token is refused.
    expectMatrixError(await bob.client.post('/_matrix/client/v3/logout', {}), 401, 'M_UNKNOWN_TOKEN');
  });

  it('logout/all ends every session of the user, and only theirs', async () => {
    const carol = await registerUser(hs.url, 'carol');
    const second = await passwordLogin(hs.url, 'carol', carol.password, { refresh_token: true });
    const r = await carol.client.post('/_matrix/client/v3/logout/all', {});
    expect(r.status).toBe(200);
    expectMatchesSpec('logout.yaml', '/logout/all', 'POST', 200, r.body);
    expectMatrixError(await whoami(carol.accessToken), 401, 'M_UNKNOWN_TOKEN');
    expectMatrixError(await whoami(second.body.access_token), 401, 'M_UNKNOWN_TOKEN');
    expectMatrixError(await anon.post('/_matrix/client/v3/refresh', { refresh_token: second.body.refresh_token }), 401, 'M_UNKNOWN_TOKEN');
    const [n] = await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from devices where user_id = ${carol.userId}`;
    expect(n!.n).toBe(0);
    expect((await whoami(alice.accessToken)).status).toBe(200);
    // The password still works: logging out is not losing the account.
    expect((await passwordLogin(hs.url, 'carol', carol.password)).status).toBe(200);
  });

  it('logout needs a token', async () => {
    expectMatrixError(await anon.post('/_matrix/client/v3/logout', {}), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await anon.post('/_matrix/client/v3/logout/all', {}), 401, 'M_MISSING_TOKEN');
  });
});

describe('tokens looked up together', () => {
  // The requests of one turn of the event loop look their tokens up in one query: each must
  // still be answered as its own token says, and a bad or ended token in the burst fails alone.
  it('a burst of requests with different tokens: each its own user, an unknown or logged-out one 401', async () => {
    const users = await Promise.all(['burst_a', 'burst_b', 'burst_c', 'burst_d'].map((n) => registerUser(hs.url, n)));
    const ended = await registerUser(hs.url, 'burst_ended');
    expect((await ended.client.post('/_matrix/client/v3/logout', {})).status).toBe(200);
    const tokens = [...users.map((u) => u.accessToken), 'cca_not_a_token', ended.accessToken, users[0]!.accessToken];
    const replies = await Promise.all(tokens.map((t) => whoami(t)));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 401, 401, 200]);
    expect(replies.map((r) => r.body.user_id ?? r.body.errcode)).toEqual([
      ...users.map((u) => u.userId),
      'M_UNKNOWN_TOKEN',
      'M_UNKNOWN_TOKEN',
      users[0]!.userId,
    ]);
  });
});
