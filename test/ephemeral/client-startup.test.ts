import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { registerUser, type TestUser } from '../support/client.ts';
import { startTestHomeserver, type TestHomeserver } from '../support/homeserver.ts';
import { CS, ok } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';

/** What clients ask for at start-up and then poll: TURN credentials, key backup, OIDC metadata. */

const URIS = ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp'];
let plain: TestHomeserver;
let withSecret: TestHomeserver;
let withStatic: TestHomeserver;
let alice: TestUser;

beforeAll(async () => {
  [plain, withSecret, withStatic] = await Promise.all([
    startTestHomeserver(),
    startTestHomeserver({ turn: { uris: URIS, shared_secret: 'turn-secret', user_lifetime_ms: 3_600_000 } }),
    startTestHomeserver({ turn: { uris: URIS, username: 'turnuser', password: 'turnpass' } }),
  ]);
  alice = await registerUser(plain.url, 'alice');
});
afterAll(async () => {
  await Promise.all([plain?.close(), withSecret?.close(), withStatic?.close()]);
});

describe('GET /voip/turnServer', () => {
  it('answers {} when no TURN server is configured', async () => {
    expect(ok(await alice.client.get(`${CS}/voip/turnServer`))).toEqual({});
  });

  it('hands out time-limited credentials derived from the shared secret', async () => {
    const bob = await registerUser(withSecret.url, 'bob');
    const body = ok(await bob.client.get(`${CS}/voip/turnServer`));
    expectMatchesSpec('voip.yaml', '/voip/turnServer', 'GET', 200, body);
    expect(body.uris).toEqual(URIS);
    expect(body.ttl).toBe(3600);
    const [expiry, user] = [body.username.slice(0, body.username.indexOf(':')), body.username.slice(body.username.indexOf(':') + 1)];
    expect(user).toBe(bob.userId);
    expect(Number(expiry)).toBeGreaterThan(Date.now() / 1000);
    expect(body.password).toBe(createHmac('sha1', 'turn-secret').update(body.username).digest('base64'));
  });

  it('hands out static credentials when configured', async () => {
    const carol = await registerUser(withStatic.url, 'carol');
    const body = ok(await carol.client.get(`${CS}/voip/turnServer`));
    expectMatchesSpec('voip.yaml', '/voip/turnServer', 'GET', 200, body);
    expect(body).toEqual({ username: 'turnuser', password: 'turnpass', uris: URIS, ttl: 86_400 });
  });

  it('needs an access token', async () => {
    expectMatrixError(await alice.client.get(`${CS}/voip/turnServer`, { token: null }), 401, 'M_MISSING_TOKEN');
  });
});

describe('key backup and OIDC probes', () => {
  it('answers M_NOT_FOUND for the key backup version: there is no backup', async () => {
    expectMatrixError(await alice.client.get(`${CS}/room_keys/version`), 404, 'M_NOT_FOUND');
    expectMatrixError(await alice.client.get(`${CS}/room_keys/version/1`), 404, 'M_NOT_FOUND');
    expectMatrixError(await alice.client.get(`${CS}/room_keys/version`, { token: null }), 401, 'M_MISSING_TOKEN');
  });

  it('answers M_UNRECOGNIZED for auth_metadata while there is no OIDC', async () => {
    expectMatrixError(await alice.client.get('/_matrix/client/v1/auth_metadata'), 404, 'M_UNRECOGNIZED');
    expectMatrixError(await alice.client.get('/_matrix/client/v1/auth_metadata', { token: null }), 404, 'M_UNRECOGNIZED');
  });
});
