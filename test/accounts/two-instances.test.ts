import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enc, expectMatrixError, passwordLogin } from '../support/accounts.ts';
import { ApiClient, registerUser } from '../support/client.ts';
import { startTestHomeserver, TEST_DB, type TestHomeserver } from '../support/homeserver.ts';

// Two homeservers in one process, each with its own port, data directory and database.
let one: TestHomeserver;
let two: TestHomeserver;
beforeAll(async () => {
  [one, two] = await Promise.all([startTestHomeserver({ server_name: 'one.test' }), startTestHomeserver({ server_name: 'two.test' })]);
});
afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
});

describe('two instances side by side', () => {
  it('listen on different ports and keep different data directories', () => {
    expect(new URL(one.url).port).not.toBe(new URL(two.url).port);
    expect(one.dataDir).not.toBe(two.dataDir);
    expect(one.config.signing_key_path.startsWith(one.dataDir)).toBe(true);
    expect(two.config.signing_key_path.startsWith(two.dataDir)).toBe(true);
    if (TEST_DB === 'pglite') {
      expect(existsSync(join(one.dataDir, 'pglite'))).toBe(true);
      expect(existsSync(join(two.dataDir, 'pglite'))).toBe(true);
    }
    expect(one.hs.signingKey).not.toEqual(two.hs.signingKey);
  });

  it('each serves its own users: the same name registers on both, as different accounts', async () => {
    const [a1, a2] = await Promise.all([
      registerUser(one.url, 'alice', 'password on one'),
      registerUser(two.url, 'alice', 'password on two'),
    ]);
    expect(a1.userId).toBe('@alice:one.test');
    expect(a2.userId).toBe('@alice:two.test');
    expect((await a1.client.get('/_matrix/client/v3/account/whoami')).body.user_id).toBe('@alice:one.test');
    expect((await a2.client.get('/_matrix/client/v3/account/whoami')).body.user_id).toBe('@alice:two.test');

    // A token of one server means nothing to the other.
    expectMatrixError(await new ApiClient(two.url, a1.accessToken).get('/_matrix/client/v3/account/whoami'), 401, 'M_UNKNOWN_TOKEN');
    expectMatrixError(await new ApiClient(one.url, a2.accessToken).get('/_matrix/client/v3/account/whoami'), 401, 'M_UNKNOWN_TOKEN');

    // Each password belongs to its own server.
    expect((await passwordLogin(one.url, 'alice', 'password on one')).status).toBe(200);
    expectMatrixError(await passwordLogin(one.url, 'alice', 'password on two'), 403, 'M_FORBIDDEN');
    expect((await passwordLogin(two.url, 'alice', 'password on two')).status).toBe(200);
    expectMatrixError(await passwordLogin(two.url, '@alice:one.test', 'password on one'), 403, 'M_FORBIDDEN');
  });

  it('a user of one is unknown on the other', async () => {
    const bob = await registerUser(one.url, 'bob');
    await bob.client.put(`/_matrix/client/v3/profile/${enc(bob.userId)}/displayname`, { displayname: 'Bob One' });
    expect((await new ApiClient(one.url).get(`/_matrix/client/v3/profile/${enc(bob.userId)}`)).body).toEqual({ displayname: 'Bob One' });
    expectMatrixError(await new ApiClient(two.url).get(`/_matrix/client/v3/profile/${enc(bob.userId)}`), 404, 'M_NOT_FOUND');
    expect((await new ApiClient(two.url).get('/_matrix/client/v3/register/available?username=bob')).body).toEqual({ available: true });
    const [n1] = await one.hs.db.sql<{ n: number }[]>`select count(*)::int as n from users`;
    const [n2] = await two.hs.db.sql<{ n: number }[]>`select count(*)::int as n from users`;
    expect([n1!.n, n2!.n]).toEqual([2, 1]);
  });

  it('restarting one leaves the other serving', async () => {
    const carol = await registerUser(two.url, 'carol');
    await one.restart();
    expect((await carol.client.get('/_matrix/client/v3/account/whoami')).status).toBe(200);
    expect((await new ApiClient(one.url).get('/_matrix/client/versions')).status).toBe(200);
  });
});
