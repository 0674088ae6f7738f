import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError, passwordLogin, rowCounts, sleep } from '../support/accounts.ts';
import { ApiClient, registerUser, type TestUser } from '../support/client.ts';
import { startTestHomeserver, type TestHomeserver } from '../support/homeserver.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';

const REFRESH = '/_matrix/client/v3/refresh';
const WHOAMI = '/_matrix/client/v3/account/whoami';

// Two servers: one with the default token lifetime, one whose refreshable tokens expire at once.
let hs: TestHomeserver;
let shortLived: TestHomeserver;
let alice: TestUser;
let zoe: TestUser;
beforeAll(async () => {
  [hs, shortLived] = await Promise.all([startTestHomeserver(), startTestHomeserver({ auth: { refreshable_access_token_lifetime_ms: 1 } })]);
  [alice, zoe] = await Promise.all([registerUser(hs.url, 'alice'), registerUser(shortLived.url, 'zoe')]);
});
afterAll(async () => {
  await Promise.all([hs?.close(), shortLived?.close()]);
});

const spec = (status: number, body: unknown) => expectMatchesSpec('refresh.yaml', '/refresh', 'POST', status, body);
const refresh = (url: string, refreshToken: unknown) => new ApiClient(url).post(REFRESH, { refresh_token: refreshToken });
const whoami = (url: string, token: string) => new ApiClient(url).get(WHOAMI, { token });

describe('POST /refresh', () => {
  it('rotates: a new access and refresh token for the same device', async () => {
    const login = await passwordLogin(hs.url, 'alice', alice.password, { refresh_token: true });
    const r = await refresh(hs.url, login.body.refresh_token);
    expect(r.status).toBe(200);
    spec(200, r.body);
    expect(r.body.access_token).not.toBe(login.body.access_token);
    expect(r.body.refresh_token).not.toBe(login.body.refresh_token);
    expect(r.body.expires_in_ms).toBe(hs.config.auth.refreshable_access_token_lifetime_ms);
    const who = await whoami(hs.url, r.body.access_token);
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({ user_id: alice.userId, device_id: login.body.device_id });
  });

  it('an old refresh token, once the new pair is in use, is 401 M_UNKNOWN_TOKEN; the new pair keeps working', async () => {
    const login = await passwordLogin(hs.url, 'alice', alice.password, { refresh_token: true });
    const next = await refresh(hs.url, login.body.refresh_token);
    expect((await whoami(hs.url, next.body.access_token)).status).toBe(200);

    const before = await rowCounts(hs.hs.db.sql);
    const reused = await refresh(hs.url, login.body.refresh_token);
    expectMatrixError(reused, 401, 'M_UNKNOWN_TOKEN');
    spec(401, reused.body);
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);

    const third = await refresh(hs.url, next.body.refresh_token);
    expect(third.status).toBe(200);
    spec(200, third.body);
    expect((await whoami(hs.url, third.body.access_token)).body.device_id).toBe(login.body.device_id);
    // A refresh token is spent by its rotation, whatever happened in between.
    expectMatrixError(await refresh(hs.url, next.body.refresh_token), 401, 'M_UNKNOWN_TOKEN');
  });

  it('two refreshes racing with one token: exactly one gets a new pair', async () => {
    const login = await passwordLogin(hs.url, 'alice', alice.password, { refresh_token: true });
    const results = await Promise.all([refresh(hs.url, login.body.refresh_token), refresh(hs.url, login.body.refresh_token)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(results.find((r) => r.status === 401)?.body.errcode).toBe('M_UNKNOWN_TOKEN');
  });

  it('an unknown refresh token is 401 M_UNKNOWN_TOKEN', async () => {
    const r = await refresh(hs.url, 'ccr_not_a_token');
    expectMatrixError(r, 401, 'M_UNKNOWN_TOKEN');
    spec(401, r.body);
    // An access token is not a refresh token.
    expectMatrixError(await refresh(hs.url, alice.accessToken), 401, 'M_UNKNOWN_TOKEN');
  });

  it('a refresh token dies with its device', async () => {
    const login = await passwordLogin(hs.url, 'alice', alice.password, { refresh_token: true });
    expect((await new ApiClient(hs.url, login.body.access_token).post('/_matrix/client/v3/logout', {})).status).toBe(200);
    expectMatrixError(await refresh(hs.url, login.body.refresh_token), 401, 'M_UNKNOWN_TOKEN');
  });

  it('bad bodies: M_MISSING_PARAM, M_BAD_JSON, M_NOT_JSON', async () => {
    const before = await rowCounts(hs.hs.db.sql);
    const anon = new ApiClient(hs.url);
    expectMatrixError(await anon.post(REFRESH, {}), 400, 'M_MISSING_PARAM');
    expectMatrixError(await refresh(hs.url, 42), 400, 'M_BAD_JSON');
    expectMatrixError(await anon.request('POST', REFRESH, undefined, { raw: '{"refresh_token":' }), 400, 'M_NOT_JSON');
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });
});

describe('expiring access tokens (refreshable_access_token_lifetime_ms: 1)', () => {
  it('an expired access token is 401 M_UNKNOWN_TOKEN with soft_logout: true', async () => {
    const login = await passwordLogin(shortLived.url, 'zoe', zoe.password, { refresh_token: true });
    expect(login.status).toBe(200);
    expect(login.body.expires_in_ms).toBe(1);
    await sleep(20);
    const r = await whoami(shortLived.url, login.body.access_token);
    expectMatrixError(r, 401, 'M_UNKNOWN_TOKEN');
    expect(r.body.soft_logout).toBe(true);
    expectMatchesSpec('whoami.yaml', '/account/whoami', 'GET', 401, r.body);
  });

  it('the refresh token still gets a new pair after the access token expired', async () => {
    const login = await passwordLogin(shortLived.url, 'zoe', zoe.password, { refresh_token: true });
    await sleep(20);
    const r = await refresh(shortLived.url, login.body.refresh_token);
    expect(r.status).toBe(200);
    spec(200, r.body);
    expect(r.body.expires_in_ms).toBe(1);
    await sleep(20);
    // The new token is as short-lived; its expiry is a soft logout as well.
    const expired = await whoami(shortLived.url, r.body.access_token);
    expectMatrixError(expired, 401, 'M_UNKNOWN_TOKEN');
    expect(expired.body.soft_logout).toBe(true);
  });

  it('a token issued without refresh_token does not expire', async () => {
    const login = await passwordLogin(shortLived.url, 'zoe', zoe.password);
    expect(login.body.expires_in_ms).toBeUndefined();
    await sleep(20);
    expect((await whoami(shortLived.url, login.body.access_token)).status).toBe(200);
    expect((await whoami(shortLived.url, zoe.accessToken)).status).toBe(200);
  });

  it('after a soft logout, logging in again with the device id keeps the device', async () => {
    const login = await passwordLogin(shortLived.url, 'zoe', zoe.password, {
      refresh_token: true,
      device_id: 'ZOETAB',
      initial_device_display_name: 'Tablet',
    });
    await sleep(20);
    expect((await whoami(shortLived.url, login.body.access_token)).body.soft_logout).toBe(true);
    const again = await passwordLogin(shortLived.url, 'zoe', zoe.password, { device_id: 'ZOETAB' });
    expect(again.status).toBe(200);
    expect(again.body.device_id).toBe('ZOETAB');
    expect((await whoami(shortLived.url, again.body.access_token)).body.device_id).toBe('ZOETAB');
    const dev = await zoe.client.get('/_matrix/client/v3/devices/ZOETAB');
    expect(dev.body).toMatchObject({ device_id: 'ZOETAB', display_name: 'Tablet' });
    // The old refresh token went with the old session.
    expectMatrixError(await refresh(shortLived.url, login.body.refresh_token), 401, 'M_UNKNOWN_TOKEN');
  });
});
