import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError, rowCounts } from '../support/accounts.ts';
import { adminRegister, ApiClient } from '../support/client.ts';
import { SHARED_SECRET } from '../support/homeserver.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const ADMIN_REGISTER = '/_synapse/admin/v1/register';

const { hs } = withHomeserver();
let anon: ApiClient;
beforeAll(async () => {
  anon = new ApiClient(hs.url);
});

/** Synapse's MAC: HMAC-SHA1 over nonce, user, password, admin flag (and user_type), NUL-separated. */
function mac(nonce: string, username: string, password: string, admin: boolean, userType?: string, secret = SHARED_SECRET): string {
  const parts = [nonce, username, password, admin ? 'admin' : 'notadmin', ...(userType ? [userType] : [])];
  return createHmac('sha1', secret).update(parts.join('\x00')).digest('hex');
}
const nonce = async (): Promise<string> => {
  const r = await anon.get(ADMIN_REGISTER);
  expect(r.status).toBe(200);
  expect(typeof r.body.nonce).toBe('string');
  return r.body.nonce;
};
const userRow = async (userId: string) =>
  (
    await hs.hs.db.sql<{ is_admin: boolean; user_type: string | null; display_name: string | null }[]>`
    select is_admin, user_type, display_name from users where user_id = ${userId}`
  )[0];

describe('shared-secret registration (Synapse admin API)', () => {
  it('hands out a fresh nonce each time', async () => {
    const [a, b] = [await nonce(), await nonce()];
    expect(a).not.toBe(b);
    expect(a.length).toBeGreaterThanOrEqual(16);
  });

  it('registers a normal user with a correct MAC, logged in', async () => {
    const r = await adminRegister(hs.url, 'plain', 'a long password');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ user_id: '@plain:localhost', home_server: 'localhost' });
    expect(typeof r.body.access_token).toBe('string');
    expect(typeof r.body.device_id).toBe('string');
    const who = await anon.get('/_matrix/client/v3/account/whoami', { token: r.body.access_token });
    expect(who.body.user_id).toBe('@plain:localhost');
    expect((await userRow('@plain:localhost'))?.is_admin).toBe(false);
  });

  it('admin: true makes a server admin', async () => {
    const r = await adminRegister(hs.url, 'root', 'a long password', true);
    expect(r.status).toBe(200);
    expect((await userRow('@root:localhost'))?.is_admin).toBe(true);
  });

  it('user_type and displayname are applied (user_type is covered by the MAC)', async () => {
    const n = await nonce();
    const r = await anon.post(ADMIN_REGISTER, {
      nonce: n,
      username: 'helpdesk',
      password: 'a long password',
      admin: false,
      user_type: 'support',
      displayname: 'Help Desk',
      mac: mac(n, 'helpdesk', 'a long password', false, 'support'),
    });
    expect(r.status).toBe(200);
    expect(await userRow('@helpdesk:localhost')).toEqual({ is_admin: false, user_type: 'support', display_name: 'Help Desk' });
  });

  it('a wrong MAC is 403 M_FORBIDDEN and creates nobody; the nonce stays usable', async () => {
    const n = await nonce();
    const before = await rowCounts(hs.hs.db.sql);
    const body = { nonce: n, username: 'mallory', password: 'a long password', admin: true };
    for (const bad of [
      mac(n, 'mallory', 'a long password', true, undefined, 'wrong secret'),
      mac(n, 'mallory', 'a long password', false),
      'zz',
    ]) {
      expectMatrixError(await anon.post(ADMIN_REGISTER, { ...body, mac: bad }), 403, 'M_FORBIDDEN');
    }
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
    // Escalating to admin with a MAC made for notadmin fails: the flag is signed.
    expect(await userRow('@mallory:localhost')).toBeUndefined();
    const ok = await anon.post(ADMIN_REGISTER, { ...body, mac: mac(n, 'mallory', 'a long password', true) });
    expect(ok.status).toBe(200);
  });

  it('a reused nonce is 400', async () => {
    const n = await nonce();
    const first = await anon.post(ADMIN_REGISTER, {
      nonce: n,
      username: 'once',
      password: 'a long password',
      mac: mac(n, 'once', 'a long password', false),
    });
    expect(first.status).toBe(200);
    const before = await rowCounts(hs.hs.db.sql);
    const again = await anon.post(ADMIN_REGISTER, {
      nonce: n,
      username: 'twice',
      password: 'a long password',
      mac: mac(n, 'twice', 'a long password', false),
    });
    expect(again.status).toBe(400);
    expect(typeof again.body.errcode).toBe('string');
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });

  it('a nonce the server never issued is 400', async () => {
    const r = await anon.post(ADMIN_REGISTER, {
      nonce: 'made-up',
      username: 'faker',
      password: 'a long password',
      mac: mac('made-up', 'faker', 'a long password', false),
    });
    expect(r.status).toBe(400);
    expect(await userRow('@faker:localhost')).toBeUndefined();
  });

  it('refuses invalid and taken names', async () => {
    let n = await nonce();
    expectMatrixError(
      await anon.post(ADMIN_REGISTER, {
        nonce: n,
        username: 'Bad Name',
        password: 'a long password',
        mac: mac(n, 'Bad Name', 'a long password', false),
      }),
      400,
      'M_INVALID_USERNAME',
    );
    n = await nonce();
    expectMatrixError(
      await anon.post(ADMIN_REGISTER, {
        nonce: n,
        username: 'plain',
        password: 'a long password',
        mac: mac(n, 'plain', 'a long password', false),
      }),
      400,
      'M_USER_IN_USE',
    );
  });

  it('bad bodies: M_MISSING_PARAM, M_BAD_JSON, M_NOT_JSON', async () => {
    const n = await nonce();
    const before = await rowCounts(hs.hs.db.sql);
    expectMatrixError(await anon.post(ADMIN_REGISTER, { nonce: n, username: 'x', password: 'a long password' }), 400, 'M_MISSING_PARAM');
    expectMatrixError(
      await anon.post(ADMIN_REGISTER, { nonce: n, username: 'x', password: 'a long password', mac: 'ab', admin: 'yes' }),
      400,
      'M_BAD_JSON',
    );
    expectMatrixError(await anon.request('POST', ADMIN_REGISTER, undefined, { raw: '{nonce' }), 400, 'M_NOT_JSON');
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });
});
