import { beforeAll, describe, expect, it } from 'vitest';
import { enc, expectMatrixError } from '../support/accounts.ts';
import { ApiClient, registerUser, type TestUser } from '../support/client.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const { hs } = withHomeserver();
let anon: ApiClient;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  anon = new ApiClient(hs.url);
  [alice, bob] = await Promise.all([registerUser(hs.url, 'alice'), registerUser(hs.url, 'bob')]);
});

const profile = (userId: string) => `/_matrix/client/v3/profile/${enc(userId)}`;
const spec = (path: string, method: string, status: number, body: unknown) => expectMatchesSpec('profile.yaml', path, method, status, body);

describe('GET /profile/{userId}', () => {
  it('a new user’s display name is their localpart; no token needed', async () => {
    const r = await anon.get(profile(alice.userId));
    expect(r.status).toBe(200);
    spec('/profile/{userId}', 'GET', 200, r.body);
    expect(r.body).toEqual({ displayname: 'alice' });
  });

  it('accepts the user ID unencoded too', async () => {
    const r = await anon.get(`/_matrix/client/v3/profile/${bob.userId}`);
    expect(r.status).toBe(200);
    expect(r.body.displayname).toBe('bob');
  });

  it('an unknown user is 404 M_NOT_FOUND', async () => {
    const r = await anon.get(profile('@nobody:localhost'));
    expectMatrixError(r, 404, 'M_NOT_FOUND');
    spec('/profile/{userId}', 'GET', 404, r.body);
    expectMatrixError(await anon.get(`${profile('@nobody:localhost')}/displayname`), 404, 'M_NOT_FOUND');
  });
});

describe('PUT /profile/{userId}/displayname and avatar_url', () => {
  it('sets the display name', async () => {
    const r = await alice.client.put(`${profile(alice.userId)}/displayname`, { displayname: 'Alice Liddell' });
    expect(r.status).toBe(200);
    spec('/profile/{userId}/{keyName}', 'PUT', 200, r.body);
    const one = await anon.get(`${profile(alice.userId)}/displayname`);
    expect(one.status).toBe(200);
    spec('/profile/{userId}/{keyName}', 'GET', 200, one.body);
    expect(one.body).toEqual({ displayname: 'Alice Liddell' });
  });

  it('sets the avatar URL', async () => {
    const r = await alice.client.put(`${profile(alice.userId)}/avatar_url`, { avatar_url: 'mxc://localhost/abcdef' });
    expect(r.status).toBe(200);
    spec('/profile/{userId}/{keyName}', 'PUT', 200, r.body);
    const one = await anon.get(`${profile(alice.userId)}/avatar_url`);
    expect(one.body).toEqual({ avatar_url: 'mxc://localhost/abcdef' });
    const all = await anon.get(profile(alice.userId));
    spec('/profile/{userId}', 'GET', 200, all.body);
    expect(all.body).toEqual({ displayname: 'Alice Liddell', avatar_url: 'mxc://localhost/abcdef' });
  });

  it('an unset avatar is 404 M_NOT_FOUND', async () => {
    expectMatrixError(await anon.get(`${profile(bob.userId)}/avatar_url`), 404, 'M_NOT_FOUND');
  });

  it('null clears a field', async () => {
    const u = await registerUser(hs.url, 'clearer');
    expect((await u.client.put(`${profile(u.userId)}/displayname`, { displayname: null })).status).toBe(200);
    expect((await anon.get(profile(u.userId))).body).toEqual({});
  });

  it('another user’s profile is 403 M_FORBIDDEN and stays as it was', async () => {
    const r = await bob.client.put(`${profile(alice.userId)}/displayname`, { displayname: 'Mallory' });
    expectMatrixError(r, 403, 'M_FORBIDDEN');
    spec('/profile/{userId}/{keyName}', 'PUT', 403, r.body);
    expectMatrixError(await bob.client.put(`${profile(alice.userId)}/avatar_url`, { avatar_url: 'mxc://evil/x' }), 403, 'M_FORBIDDEN');
    expect((await anon.get(profile(alice.userId))).body).toEqual({ displayname: 'Alice Liddell', avatar_url: 'mxc://localhost/abcdef' });
  });

  it('needs a token', async () => {
    expectMatrixError(await anon.put(`${profile(alice.userId)}/displayname`, { displayname: 'Anon' }), 401, 'M_MISSING_TOKEN');
  });

  it('bad bodies are refused and change nothing', async () => {
    const path = `${profile(alice.userId)}/displayname`;
    expectMatrixError(await alice.client.put(path, { displayname: 42 }), 400, 'M_BAD_JSON');
    expectMatrixError(await alice.client.put(path, { displayname: 'x'.repeat(10_000) }), 400, 'M_BAD_JSON');
    expectMatrixError(await alice.client.request('PUT', path, undefined, { raw: '{"displayname": ' }), 400, 'M_NOT_JSON');
    expectMatrixError(await alice.client.put(path, ['Alice']), 400, 'M_BAD_JSON');
    expect((await anon.get(path)).body).toEqual({ displayname: 'Alice Liddell' });
  });
});
