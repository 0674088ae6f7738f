import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError, passwordLogin, rowCounts } from '../support/accounts.ts';
import { ApiClient, registerUser } from '../support/client.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const REGISTER = '/_matrix/client/v3/register';
const AVAILABLE = '/_matrix/client/v3/register/available';

const { hs } = withHomeserver();
let anon: ApiClient;
beforeAll(async () => {
  anon = new ApiClient(hs.url);
});

const spec = (status: number, body: unknown) => expectMatchesSpec('registration.yaml', '/register', 'POST', status, body);

describe('POST /register (open server)', () => {
  it('challenges with UIA: flows and a session, m.login.dummy offered', async () => {
    const r = await anon.post(REGISTER, { username: 'uia1', password: 'a long password' });
    expect(r.status).toBe(401);
    spec(401, r.body);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(typeof r.body.session).toBe('string');
    expect(r.body.session.length).toBeGreaterThan(0);
    expect(r.body.flows).toContainEqual({ stages: ['m.login.dummy'] });
    expect(r.body.completed ?? []).toEqual([]);
    expect(r.body.errcode).toBeUndefined();
    // The challenge created nobody.
    const [n] = await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from users where handle = 'uia1'`;
    expect(n!.n).toBe(0);
  });

  it('registers with m.login.dummy and returns a working session', async () => {
    const first = await anon.post(REGISTER, { username: 'bob', password: 'a long password', initial_device_display_name: 'Bob phone' });
    const done = await anon.post(REGISTER, {
      username: 'bob',
      password: 'a long password',
      initial_device_display_name: 'Bob phone',
      device_id: 'BOBPHONE',
      auth: { type: 'm.login.dummy', session: first.body.session },
    });
    expect(done.status).toBe(200);
    spec(200, done.body);
    expect(done.body).toMatchObject({ user_id: '@bob:localhost', device_id: 'BOBPHONE', home_server: 'localhost' });
    expect(done.body.refresh_token).toBeUndefined();
    const bob = new ApiClient(hs.url, done.body.access_token);
    expect((await bob.get('/_matrix/client/v3/account/whoami')).body).toMatchObject({ user_id: '@bob:localhost', device_id: 'BOBPHONE' });
    expect((await bob.get('/_matrix/client/v3/devices/BOBPHONE')).body).toMatchObject({ display_name: 'Bob phone' });
    // The password works for login.
    expect((await passwordLogin(hs.url, 'bob', 'a long password')).status).toBe(200);
  });

  it('a used UIA session cannot register a second account', async () => {
    const first = await anon.post(REGISTER, { username: 'once1', password: 'a long password' });
    const auth = { type: 'm.login.dummy', session: first.body.session };
    expect((await anon.post(REGISTER, { username: 'once1', password: 'a long password', auth })).status).toBe(200);
    const again = await anon.post(REGISTER, { username: 'once2', password: 'a long password', auth });
    // The session ended with the registration it authorised (Synapse answers the same).
    expectMatrixError(again, 400, 'M_UNKNOWN');
    const [n] = await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from users where handle = 'once2'`;
    expect(n!.n).toBe(0);
  });

  it('accepts the auth dict on the first request (no session yet)', async () => {
    const r = await anon.post(REGISTER, { username: 'eager', password: 'a long password', auth: { type: 'm.login.dummy' } });
    expect(r.status).toBe(200);
    spec(200, r.body);
    expect(r.body.user_id).toBe('@eager:localhost');
  });

  it('inhibit_login creates the account without a device', async () => {
    const r = await anon.post(REGISTER, {
      username: 'quiet',
      password: 'a long password',
      inhibit_login: true,
      auth: { type: 'm.login.dummy' },
    });
    expect(r.status).toBe(200);
    spec(200, r.body);
    expect(r.body.user_id).toBe('@quiet:localhost');
    expect(r.body.access_token).toBeUndefined();
    const [n] = await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from devices where user_id = '@quiet:localhost'`;
    expect(n!.n).toBe(0);
  });

  it('refresh_token: true on registration issues a refresh token', async () => {
    const r = await anon.post(REGISTER, {
      username: 'fresh',
      password: 'a long password',
      refresh_token: true,
      auth: { type: 'm.login.dummy' },
    });
    expect(r.status).toBe(200);
    spec(200, r.body);
    expect(typeof r.body.refresh_token).toBe('string');
    expect(r.body.expires_in_ms).toBeGreaterThan(0);
  });

  it('an unknown stage type is refused inside the UIA body', async () => {
    const r = await anon.post(REGISTER, { username: 'stagey', password: 'a long password', auth: { type: 'm.login.bogus' } });
    expect(r.status).toBe(401);
    spec(401, r.body);
    expect(typeof r.body.errcode).toBe('string');
    expect(r.body.flows.length).toBeGreaterThan(0);
  });

  it('an unknown UIA session is refused', async () => {
    const r = await anon.post(REGISTER, {
      username: 'ghost',
      password: 'a long password',
      auth: { type: 'm.login.dummy', session: 'nope' },
    });
    expectMatrixError(r, 400, 'M_UNKNOWN');
  });

  it('refuses guests and unknown kinds', async () => {
    expectMatrixError(await anon.post(`${REGISTER}?kind=guest`, {}), 403, 'M_FORBIDDEN');
    expectMatrixError(await anon.post(`${REGISTER}?kind=robot`, {}), 400, 'M_INVALID_PARAM');
  });
});

describe('POST /register: refused names and passwords change nothing', () => {
  it.each([
    ['a space', 'al ice'],
    ['a leading underscore', '_alice'],
    ['a colon', 'al:ice'],
    ['an empty name', ''],
  ])('a name with %s is M_INVALID_USERNAME', async (_what, username) => {
    const before = await rowCounts(hs.hs.db.sql);
    const r = await anon.post(REGISTER, { username, password: 'a long password', auth: { type: 'm.login.dummy' } });
    expectMatrixError(r, 400, 'M_INVALID_USERNAME');
    spec(400, r.body);
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });

  it('a taken name is M_USER_IN_USE, before any UIA', async () => {
    await registerUser(hs.url, 'taken');
    const before = await rowCounts(hs.hs.db.sql);
    const r = await anon.post(REGISTER, { username: 'taken', password: 'a long password' });
    expectMatrixError(r, 400, 'M_USER_IN_USE');
    spec(400, r.body);
    const withAuth = await anon.post(REGISTER, { username: 'taken', password: 'a long password', auth: { type: 'm.login.dummy' } });
    expectMatrixError(withAuth, 400, 'M_USER_IN_USE');
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });

  it('a short password is M_WEAK_PASSWORD', async () => {
    const before = await rowCounts(hs.hs.db.sql);
    const r = await anon.post(REGISTER, { username: 'weakling', password: 'short', auth: { type: 'm.login.dummy' } });
    expectMatrixError(r, 400, 'M_WEAK_PASSWORD');
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });
});

describe('GET /register/available', () => {
  const available = (username: string) => anon.get(`${AVAILABLE}?username=${encodeURIComponent(username)}`);
  const spec = (status: number, body: unknown) => expectMatchesSpec('registration.yaml', '/register/available', 'GET', status, body);

  it('a free name is available', async () => {
    const r = await available('nobody-yet');
    expect(r.status).toBe(200);
    spec(200, r.body);
    expect(r.body).toEqual({ available: true });
  });

  it('a taken name is M_USER_IN_USE', async () => {
    await registerUser(hs.url, 'avail-taken');
    const r = await available('avail-taken');
    expectMatrixError(r, 400, 'M_USER_IN_USE');
    spec(400, r.body);
  });

  it.each(['Upper', 'has space', '_bridge'])('%j is M_INVALID_USERNAME', async (name) => {
    const r = await available(name);
    expectMatrixError(r, 400, 'M_INVALID_USERNAME');
    spec(400, r.body);
  });

  it('without a username is M_MISSING_PARAM', async () => {
    expectMatrixError(await anon.get(AVAILABLE), 400, 'M_MISSING_PARAM');
  });
});
