import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError, rowCounts } from '../support/accounts.ts';
import { ApiClient } from '../support/client.ts';
import { startTestHomeserver, type TestHomeserver } from '../support/homeserver.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';

const REGISTER = '/_matrix/client/v3/register';
const VALIDITY = '/_matrix/client/v1/register/m.login.registration_token/validity';
const TOKEN = 'm.login.registration_token';

// A closed server: registration needs a token; shared-secret registration is off.
let hs: TestHomeserver;
let anon: ApiClient;
beforeAll(async () => {
  hs = await startTestHomeserver({
    registration: {
      open: false,
      shared_secret: null,
      tokens: [
        { token: 'abc', uses_allowed: 1 },
        { token: 'race', uses_allowed: 1 },
        { token: 'many', uses_allowed: null },
        { token: 'old', uses_allowed: null, expiry_time: 1_000 },
      ],
    },
  });
  anon = new ApiClient(hs.url);
});
afterAll(async () => {
  await hs?.close();
});

const spec = (status: number, body: unknown) => expectMatchesSpec('registration.yaml', '/register', 'POST', status, body);
const validity = async (token: string) => {
  const r = await anon.get(`${VALIDITY}?token=${encodeURIComponent(token)}`);
  expect(r.status).toBe(200);
  expectMatchesSpec('registration_tokens.yaml', '/register/m.login.registration_token/validity', 'GET', 200, r.body);
  return r.body.valid as boolean;
};
const registerWithToken = (username: string, token: string) =>
  anon.post(REGISTER, { username, password: 'a long password', auth: { type: TOKEN, token } });
const userCount = async (handle: string) =>
  (await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from users where handle = ${handle}`)[0]!.n;

describe('registration with a token', () => {
  it('a closed server offers only the token flow', async () => {
    const r = await anon.post(REGISTER, { username: 'carol', password: 'a long password' });
    expect(r.status).toBe(401);
    spec(401, r.body);
    expect(r.body.flows).toEqual([{ stages: [TOKEN] }]);
  });

  it('m.login.dummy does not get around the token', async () => {
    const before = await rowCounts(hs.hs.db.sql);
    const first = await anon.post(REGISTER, { username: 'sneaky', password: 'a long password' });
    const r = await anon.post(REGISTER, {
      username: 'sneaky',
      password: 'a long password',
      auth: { type: 'm.login.dummy', session: first.body.session },
    });
    expect(r.status).toBe(401);
    spec(401, r.body);
    expect(typeof r.body.errcode).toBe('string');
    expect(r.body.completed ?? []).toEqual([]);
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });

  it('a wrong token is refused with M_FORBIDDEN inside the UIA body', async () => {
    const before = await rowCounts(hs.hs.db.sql);
    const r = await registerWithToken('wrongtok', 'not-a-token');
    expect(r.status).toBe(401);
    spec(401, r.body);
    expect(r.body.errcode).toBe('M_FORBIDDEN');
    expect(r.body.flows).toEqual([{ stages: [TOKEN] }]);
    expect(typeof r.body.session).toBe('string');
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });

  it('an expired token is neither valid nor usable', async () => {
    expect(await validity('old')).toBe(false);
    const r = await registerWithToken('latecomer', 'old');
    expect(r.status).toBe(401);
    expect(r.body.errcode).toBe('M_FORBIDDEN');
    expect(await userCount('latecomer')).toBe(0);
  });

  it('a single-use token registers once, and only once', async () => {
    expect(await validity('abc')).toBe(true);
    const first = await anon.post(REGISTER, { username: 'dave', password: 'a long password' });
    const ok = await anon.post(REGISTER, {
      username: 'dave',
      password: 'a long password',
      auth: { type: TOKEN, token: 'abc', session: first.body.session },
    });
    expect(ok.status).toBe(200);
    spec(200, ok.body);
    expect(ok.body.user_id).toBe('@dave:localhost');
    expect((await new ApiClient(hs.url, ok.body.access_token).get('/_matrix/client/v3/account/whoami')).status).toBe(200);

    expect(await validity('abc')).toBe(false);
    const again = await registerWithToken('erin', 'abc');
    expect(again.status).toBe(401);
    spec(401, again.body);
    expect(again.body.errcode).toBe('M_FORBIDDEN');
    expect(await userCount('erin')).toBe(0);
    const [row] = await hs.hs.db.sql<{ completed: number }[]>`select completed from registration_tokens where token = 'abc'`;
    expect(row!.completed).toBe(1);
  });

  it('the use count survives a restart (config tokens are re-synced, not reset)', async () => {
    await hs.restart();
    anon = new ApiClient(hs.url);
    expect(await validity('abc')).toBe(false);
    expect((await registerWithToken('frank', 'abc')).status).toBe(401);
  });

  it('two registrations racing for the last use: exactly one wins', async () => {
    const results = await Promise.all([registerWithToken('racer1', 'race'), registerWithToken('racer2', 'race')]);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    // The loser is refused at the stage (401) or, if it passed the stage first, when the use is spent (403).
    const loser = results.find((r) => r.status !== 200)!;
    expect([401, 403]).toContain(loser.status);
    expect(loser.body.errcode).toBe('M_FORBIDDEN');
    expect((await userCount('racer1')) + (await userCount('racer2'))).toBe(1);
  });

  it('an unlimited token keeps working', async () => {
    for (const name of ['gina', 'hank']) {
      const r = await registerWithToken(name, 'many');
      expect(r.status).toBe(200);
      spec(200, r.body);
    }
    expect(await validity('many')).toBe(true);
  });
});

describe('GET /register/m.login.registration_token/validity', () => {
  it('unknown tokens are invalid', async () => {
    expect(await validity('never-issued')).toBe(false);
  });

  it('without a token is M_MISSING_PARAM', async () => {
    expectMatrixError(await anon.get(VALIDITY), 400, 'M_MISSING_PARAM');
  });
});

describe('shared-secret registration when no secret is configured', () => {
  it('hands out no nonce and registers nobody', async () => {
    const before = await rowCounts(hs.hs.db.sql);
    const nonce = await anon.get('/_synapse/admin/v1/register');
    expect(nonce.status).toBe(400);
    expect(nonce.body.nonce).toBeUndefined();
    const post = await anon.post('/_synapse/admin/v1/register', { nonce: 'x', username: 'root', password: 'a long password', mac: '00' });
    expect(post.status).toBe(400);
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });
});
