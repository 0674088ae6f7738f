import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError, passwordLogin, rowCounts } from '../support/accounts.ts';
import { ApiClient, registerUser, type TestUser } from '../support/client.ts';
import { startTestHomeserver, type TestHomeserver } from '../support/homeserver.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';

// Slow refill (one token per 10 s) so that nothing refills while the test runs.
let hs: TestHomeserver;
let alice: TestUser;
beforeAll(async () => {
  hs = await startTestHomeserver({
    rate_limits: { login: { per_second: 0.1, burst_count: 2 }, register: { per_second: 0.1, burst_count: 2 } },
  });
  alice = await registerUser(hs.url, 'alice');
});
afterAll(async () => {
  await hs?.close();
});

describe('rate limiting', () => {
  it('the third quick login is 429 M_LIMIT_EXCEEDED with retry_after_ms and Retry-After, and creates no session', async () => {
    expect((await passwordLogin(hs.url, 'alice', alice.password)).status).toBe(200);
    // A failed attempt spends from the same budget.
    expect((await passwordLogin(hs.url, 'alice', 'wrong password')).status).toBe(403);
    const before = await rowCounts(hs.hs.db.sql);
    const r = await passwordLogin(hs.url, 'alice', alice.password);
    expectMatrixError(r, 429, 'M_LIMIT_EXCEEDED');
    expectMatchesSpec('login.yaml', '/login', 'POST', 429, r.body);
    expect(Number.isInteger(r.body.retry_after_ms)).toBe(true);
    expect(r.body.retry_after_ms).toBeGreaterThan(0);
    // And in the standard header (v1.10), in whole seconds rounded up.
    expect(r.headers.get('retry-after')).toBe(String(Math.ceil(r.body.retry_after_ms / 1000)));
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });

  it('the limit is per client, across accounts', async () => {
    const r = await passwordLogin(hs.url, 'someone-else', 'any password at all');
    expectMatrixError(r, 429, 'M_LIMIT_EXCEEDED');
  });

  it('other endpoints are not limited by it', async () => {
    expect((await alice.client.get('/_matrix/client/v3/account/whoami')).status).toBe(200);
    expect((await new ApiClient(hs.url).get('/_matrix/client/v3/login')).status).toBe(200);
  });

  it('registration has its own budget, spent only by completed registrations', async () => {
    const anon = new ApiClient(hs.url);
    // alice spent one; UIA challenges spend nothing.
    for (let i = 0; i < 3; i++) expect((await anon.post('/_matrix/client/v3/register', { username: 'bob' })).status).toBe(401);
    const ok = await anon.post('/_matrix/client/v3/register', {
      username: 'bob',
      password: 'a long password',
      auth: { type: 'm.login.dummy' },
    });
    expect(ok.status).toBe(200);
    const before = await rowCounts(hs.hs.db.sql);
    const r = await anon.post('/_matrix/client/v3/register', {
      username: 'carol',
      password: 'a long password',
      auth: { type: 'm.login.dummy' },
    });
    expectMatrixError(r, 429, 'M_LIMIT_EXCEEDED');
    expectMatchesSpec('registration.yaml', '/register', 'POST', 429, r.body);
    expect(r.body.retry_after_ms).toBeGreaterThan(0);
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });
});
