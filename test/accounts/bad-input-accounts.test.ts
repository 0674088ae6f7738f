import { beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../server/db/database.ts';
import { enc, expectMatrixError, passwordAuth, passwordLogin, rowCounts } from '../support/accounts.ts';
import { adminRegister, ApiClient, registerUser, type Reply, type TestUser } from '../support/client.ts';
import { startTestHomeserver } from '../support/homeserver.ts';
import { expectMatchesSchemaFile } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * Account and filter input that used to be stored as given, or refused in the
 * wrong way: user names in capitals, bodies that are not UTF-8, another user's
 * device id, filters naming things that are not ids, a short shared secret.
 */
const { hs } = withHomeserver();
let anon: ApiClient;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  anon = new ApiClient(hs.url);
  alice = await registerUser(hs.url, 'ba_alice');
  bob = await registerUser(hs.url, 'ba_bob');
});

const v3 = '/_matrix/client/v3';
const bad = (r: Reply, status: number, errcode: string) => {
  expectMatrixError(r, status, errcode);
  expectMatchesSchemaFile('definitions/errors/error.yaml', r.body);
};
const filterCount = async (sql: Sql) => (await sql<{ n: number }[]>`select count(*)::int as n from user_filters`)[0]!.n;

describe('user names are lower-cased, at registration and at login', () => {
  it('registering BA_Carol creates @ba_carol, and every spelling logs in', async () => {
    const carol = await registerUser(hs.url, 'BA_Carol');
    expect(carol.userId).toBe('@ba_carol:localhost');
    for (const user of ['BA_CAROL', 'ba_carol', '@BA_Carol:localhost']) {
      const login = await passwordLogin(hs.url, user, carol.password);
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      expect(login.body.user_id).toBe('@ba_carol:localhost');
    }
  });

  it('a name that differs only in case is taken', async () => {
    const before = await rowCounts(hs.hs.db.sql);
    bad(await anon.post(`${v3}/register`, { username: 'BA_ALICE', password: 'a long password' }), 400, 'M_USER_IN_USE');
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });

  it('shared-secret registration lower-cases too (the MAC covers the name as sent)', async () => {
    const r = await adminRegister(hs.url, 'BA_Dave', 'a long password');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.user_id).toBe('@ba_dave:localhost');
    expect((await passwordLogin(hs.url, 'ba_dave', 'a long password')).status).toBe(200);
  });
});

describe('a /register body that is not UTF-8 is 400 M_NOT_JSON', () => {
  it('and creates nothing', async () => {
    const before = await rowCounts(hs.hs.db.sql);
    const bytes = new Uint8Array([
      ...Buffer.from('{"username": "ba_'),
      0xc3, // a UTF-8 lead byte with no continuation
      ...Buffer.from('x", "password": "a long password", "auth": {"type": "m.login.dummy"}}'),
    ]);
    const res = await fetch(`${hs.url}${v3}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
    bad({ status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers }, 400, 'M_NOT_JSON');
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
  });
});

describe('DELETE /devices/{deviceId} acts on the requester’s devices only', () => {
  it('a device id that alice and bob both have: alice deletes hers, bob keeps his', async () => {
    const bobLogin = await passwordLogin(hs.url, 'ba_bob', bob.password, { device_id: 'BA_SHARED' });
    expect(bobLogin.status).toBe(200);
    const aliceLogin = await passwordLogin(hs.url, 'ba_alice', alice.password, { device_id: 'BA_SHARED' });
    expect(aliceLogin.status).toBe(200);

    const challenge = await alice.client.delete(`${v3}/devices/BA_SHARED`);
    expect(challenge.status).toBe(401);
    const r = await alice.client.delete(`${v3}/devices/BA_SHARED`, {
      auth: passwordAuth(alice.userId, alice.password, challenge.body.session),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);

    expectMatrixError(await alice.client.get(`${v3}/devices/BA_SHARED`), 404, 'M_NOT_FOUND');
    expect((await bob.client.get(`${v3}/devices/BA_SHARED`)).status).toBe(200);
    const bobOnShared = new ApiClient(hs.url, bobLogin.body.access_token as string);
    expect((await bobOnShared.get(`${v3}/account/whoami`)).body.device_id).toBe('BA_SHARED');
  });

  it('a device only bob has is 404 for alice, even with her password, and survives', async () => {
    const before = await rowCounts(hs.hs.db.sql);
    const challenge = await alice.client.delete(`${v3}/devices/${enc(bob.deviceId)}`);
    bad(challenge, 404, 'M_NOT_FOUND');
    bad(
      await alice.client.delete(`${v3}/devices/${enc(bob.deviceId)}`, { auth: passwordAuth(alice.userId, alice.password) }),
      404,
      'M_NOT_FOUND',
    );
    expect(await rowCounts(hs.hs.db.sql)).toEqual(before);
    expect((await bob.client.get(`${v3}/account/whoami`)).status).toBe(200);
  });
});

describe('POST /user/{userId}/filter refuses ids that are not ids', () => {
  const path = () => `${v3}/user/${enc(alice.userId)}/filter`;
  const longRoom = `!${'r'.repeat(260)}:localhost`;

  it.each([
    ['room.rooms', { room: { rooms: ['not-a-room'] } }],
    ['room.not_rooms', { room: { not_rooms: ['#alias:localhost'] } }],
    ['room.timeline.rooms', { room: { timeline: { rooms: ['!has space:localhost'] } } }],
    ['room.state.not_rooms', { room: { state: { not_rooms: [longRoom] } } }],
    ['room.timeline.senders', { room: { timeline: { senders: ['alice'] } } }],
    ['room.ephemeral.not_senders', { room: { ephemeral: { not_senders: ['@nocolon'] } } }],
    ['presence.senders', { presence: { senders: ['!room:localhost'] } }],
    ['account_data.not_senders', { account_data: { not_senders: [`@${'u'.repeat(260)}:localhost`] } }],
  ])('%s', async (_where, filter) => {
    const before = await filterCount(hs.hs.db.sql);
    bad(await alice.client.post(path(), filter), 400, 'M_BAD_JSON');
    expect(await filterCount(hs.hs.db.sql)).toBe(before);
  });

  it('room and user ids, v12 room ids included, are fine', async () => {
    const filter = {
      room: {
        rooms: ['!abc:localhost', '!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM'],
        timeline: { senders: ['@ba_bob:localhost'], not_senders: ['@x:other.example:8448'] },
      },
    };
    const r = await alice.client.post(path(), filter);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await alice.client.get(`${path()}/${r.body.filter_id}`)).body).toEqual(filter);
  });
});

describe("a short shared secret (Complement's `complement`) starts the server", () => {
  it('and shared-secret registration works with it', async () => {
    const short = await startTestHomeserver({ registration: { shared_secret: 'complement' } });
    try {
      const r = await adminRegister(short.url, 'ba_admin', 'a long password', true, 'complement');
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.user_id).toBe('@ba_admin:localhost');
    } finally {
      await short.close();
    }
  });
});
