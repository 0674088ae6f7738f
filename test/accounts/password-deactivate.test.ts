import { describe, expect, it } from 'vitest';
import { expectMatrixError, passwordAuth, passwordLogin, rowCounts } from '../support/accounts.ts';
import { ApiClient, registerUser } from '../support/client.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const PASSWORD = '/_matrix/client/v3/account/password';
const DEACTIVATE = '/_matrix/client/v3/account/deactivate';
const WHOAMI = '/_matrix/client/v3/account/whoami';

const { hs } = withHomeserver();

const whoami = (token: string) => new ApiClient(hs.url).get(WHOAMI, { token });

describe('POST /account/password', () => {
  const spec = (status: number, body: unknown) => expectMatchesSpec('password_management.yaml', '/account/password', 'POST', status, body);

  it('challenges with m.login.password before changing anything', async () => {
    const u = await registerUser(hs.url, 'pw-challenge');
    const r = await u.client.post(PASSWORD, { new_password: 'brand new password' });
    expect(r.status).toBe(401);
    spec(401, r.body);
    expect(r.body.flows).toContainEqual({ stages: ['m.login.password'] });
    expect((await passwordLogin(hs.url, 'pw-challenge', u.password)).status).toBe(200);
  });

  it('changes the password; by default other devices are logged out, this one stays', async () => {
    const u = await registerUser(hs.url, 'pw-default');
    const other = await passwordLogin(hs.url, 'pw-default', u.password, { refresh_token: true });
    const challenge = await u.client.post(PASSWORD, { new_password: 'brand new password' });
    const r = await u.client.post(PASSWORD, {
      new_password: 'brand new password',
      auth: passwordAuth(u.userId, u.password, challenge.body.session),
    });
    expect(r.status).toBe(200);
    spec(200, r.body);

    expect((await whoami(u.accessToken)).status).toBe(200);
    expectMatrixError(await whoami(other.body.access_token), 401, 'M_UNKNOWN_TOKEN');
    expectMatrixError(
      await new ApiClient(hs.url).post('/_matrix/client/v3/refresh', { refresh_token: other.body.refresh_token }),
      401,
      'M_UNKNOWN_TOKEN',
    );
    const devices = (await u.client.get('/_matrix/client/v3/devices')).body.devices.map((d: { device_id: string }) => d.device_id);
    expect(devices).toEqual([u.deviceId]);

    expectMatrixError(await passwordLogin(hs.url, 'pw-default', u.password), 403, 'M_FORBIDDEN');
    expect((await passwordLogin(hs.url, 'pw-default', 'brand new password')).status).toBe(200);
  });

  it('logout_devices: false keeps the other devices signed in', async () => {
    const u = await registerUser(hs.url, 'pw-keep');
    const other = await passwordLogin(hs.url, 'pw-keep', u.password);
    const r = await u.client.post(PASSWORD, {
      new_password: 'another new password',
      logout_devices: false,
      auth: passwordAuth(u.userId, u.password),
    });
    expect(r.status).toBe(200);
    spec(200, r.body);
    expect((await whoami(u.accessToken)).status).toBe(200);
    expect((await whoami(other.body.access_token)).status).toBe(200);
    expectMatrixError(await passwordLogin(hs.url, 'pw-keep', u.password), 403, 'M_FORBIDDEN');
    expect((await passwordLogin(hs.url, 'pw-keep', 'another new password')).status).toBe(200);
  });

  it('logout_devices: true logs out the others explicitly', async () => {
    const u = await registerUser(hs.url, 'pw-explicit');
    const other = await passwordLogin(hs.url, 'pw-explicit', u.password);
    const r = await u.client.post(PASSWORD, {
      new_password: 'explicit new password',
      logout_devices: true,
      auth: passwordAuth(u.userId, u.password),
    });
    expect(r.status).toBe(200);
    expectMatrixError(await whoami(other.body.access_token), 401, 'M_UNKNOWN_TOKEN');
  });

  it('a wrong current password is 401 M_FORBIDDEN in the UIA body; the password stays', async () => {
    const u = await registerUser(hs.url, 'pw-wrong');
    const other = await passwordLogin(hs.url, 'pw-wrong', u.password);
    const before = await rowCounts(hs.hs.db.sql);
    const r = await u.client.post(PASSWORD, { new_password: 'brand new password', auth: passwordAuth(u.userId, 'not my password') });
    expect(r.status).toBe(401);
    spec(401, r.body);
    expect(r.body.errcode).toBe('M_FORBIDDEN');
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
    expect((await whoami(other.body.access_token)).status).toBe(200);
    expect((await passwordLogin(hs.url, 'pw-wrong', u.password)).status).toBe(200);
  });

  it('a weak new password is M_WEAK_PASSWORD; missing is M_MISSING_PARAM; wrong type is M_BAD_JSON', async () => {
    const u = await registerUser(hs.url, 'pw-weak');
    expectMatrixError(
      await u.client.post(PASSWORD, { new_password: 'short', auth: passwordAuth(u.userId, u.password) }),
      400,
      'M_WEAK_PASSWORD',
    );
    expectMatrixError(await u.client.post(PASSWORD, { auth: passwordAuth(u.userId, u.password) }), 400, 'M_MISSING_PARAM');
    expectMatrixError(
      await u.client.post(PASSWORD, { new_password: 'long enough pw', logout_devices: 'no', auth: passwordAuth(u.userId, u.password) }),
      400,
      'M_BAD_JSON',
    );
    expect((await passwordLogin(hs.url, 'pw-weak', u.password)).status).toBe(200);
  });

  it('needs an access token', async () => {
    expectMatrixError(await new ApiClient(hs.url).post(PASSWORD, { new_password: 'brand new password' }), 401, 'M_MISSING_TOKEN');
  });
});

describe('POST /account/deactivate', () => {
  const spec = (status: number, body: unknown) =>
    expectMatchesSpec('account_deactivation.yaml', '/account/deactivate', 'POST', status, body);

  it('challenges with m.login.password; a wrong password changes nothing', async () => {
    const u = await registerUser(hs.url, 'stayer');
    const challenge = await u.client.post(DEACTIVATE, {});
    expect(challenge.status).toBe(401);
    spec(401, challenge.body);
    expect(challenge.body.flows).toContainEqual({ stages: ['m.login.password'] });
    const before = await rowCounts(hs.hs.db.sql);
    const wrong = await u.client.post(DEACTIVATE, { auth: passwordAuth(u.userId, 'wrong', challenge.body.session) });
    expect(wrong.status).toBe(401);
    spec(401, wrong.body);
    expect(wrong.body.errcode).toBe('M_FORBIDDEN');
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
    expect((await whoami(u.accessToken)).status).toBe(200);
  });

  it('deactivates: every session ends, login fails, the name cannot be registered again', async () => {
    const u = await registerUser(hs.url, 'leaver');
    const other = await passwordLogin(hs.url, 'leaver', u.password);
    const challenge = await u.client.post(DEACTIVATE, {});
    const r = await u.client.post(DEACTIVATE, { auth: passwordAuth(u.userId, u.password, challenge.body.session) });
    expect(r.status).toBe(200);
    spec(200, r.body);
    expect(['success', 'no-support']).toContain(r.body.id_server_unbind_result);

    expectMatrixError(await whoami(u.accessToken), 401, 'M_UNKNOWN_TOKEN');
    expectMatrixError(await whoami(other.body.access_token), 401, 'M_UNKNOWN_TOKEN');
    const login = await passwordLogin(hs.url, 'leaver', u.password);
    expect(login.status).toBe(403);
    expect(['M_FORBIDDEN', 'M_USER_DEACTIVATED']).toContain(login.body.errcode);
    expectMatchesSpec('login.yaml', '/login', 'POST', 403, login.body);

    const anon = new ApiClient(hs.url);
    expectMatrixError(await anon.get('/_matrix/client/v3/register/available?username=leaver'), 400, 'M_USER_IN_USE');
    expectMatrixError(
      await anon.post('/_matrix/client/v3/register', { username: 'leaver', password: 'a long password', auth: { type: 'm.login.dummy' } }),
      400,
      'M_USER_IN_USE',
    );
    // The profile is gone too.
    expectMatrixError(await anon.get(`/_matrix/client/v3/profile/${encodeURIComponent(u.userId)}`), 404, 'M_NOT_FOUND');
    const [row] = await hs.hs.db.sql<{ deactivated: boolean; n: number }[]>`
      select deactivated, (select count(*)::int from devices where user_id = ${u.userId}) as n from users where user_id = ${u.userId}`;
    expect(row).toEqual({ deactivated: true, n: 0 });
  });

  it('a UIA session started for a password change cannot deactivate', async () => {
    const u = await registerUser(hs.url, 'switcher');
    const pw = await u.client.post(PASSWORD, { new_password: 'brand new password' });
    const r = await u.client.post(DEACTIVATE, { auth: passwordAuth(u.userId, u.password, pw.body.session) });
    expect(r.status).toBe(403);
    expect(r.body.errcode).toBe('M_FORBIDDEN');
    expect((await whoami(u.accessToken)).status).toBe(200);
  });

  it('needs an access token', async () => {
    expectMatrixError(await new ApiClient(hs.url).post(DEACTIVATE, {}), 401, 'M_MISSING_TOKEN');
  });
});
