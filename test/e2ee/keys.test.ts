import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError, passwordAuth } from '../support/accounts.ts';
import { ApiClient, registerUser, type TestUser } from '../support/client.ts';
import { crossSigningKey, deviceKeys, newKey, oneTimeKeys, signAs, type ClientKey } from '../support/e2ee-keys.ts';
import { CS, createRoom, joinRoom, ok, roomPath, syncOk } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { syncToken, syncUntil } from '../support/sync.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const {
  hs,
  users: [alice, bob, charlie],
} = withHomeserver({ users: ['k_alice', 'k_bob', 'k_charlie'] });

let roomId: string;
const aliceEd = new Map<string, ClientKey>();

async function upload(user: TestUser, body: Record<string, unknown>) {
  return user.client.post(`${CS}/keys/upload`, body);
}

async function count(table: string): Promise<number> {
  const [row] = await hs.hs.db.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`);
  return row!.n;
}

/** Logs in a further device of a user (a second client). */
async function newDevice(user: TestUser): Promise<TestUser> {
  const res = ok(
    await user.client.post(`${CS}/login`, {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: user.userId },
      password: user.password,
    }),
  );
  const client = new ApiClient(hs.url);
  client.accessToken = res.access_token as string;
  return { ...user, deviceId: res.device_id as string, accessToken: res.access_token as string, client };
}

beforeAll(async () => {
  roomId = await createRoom(alice, { preset: 'public_chat' });
  await joinRoom(bob, roomId);
  const ed = newKey();
  aliceEd.set(alice.deviceId, ed);
  ok(await upload(alice, { device_keys: deviceKeys(alice.userId, alice.deviceId, ed) }));
});

describe('keys/upload', () => {
  it('stores one-time and fallback keys and answers with the counts', async () => {
    const ed = aliceEd.get(alice.deviceId)!;
    const body = ok(
      await upload(alice, {
        one_time_keys: oneTimeKeys(alice.userId, alice.deviceId, ed, ['A1', 'A2', 'A3']),
        fallback_keys: {
          'signed_curve25519:F1': signAs({ key: newKey().publicKey, fallback: true }, alice.userId, `ed25519:${alice.deviceId}`, ed),
        },
      }),
    );
    expectMatchesSpec('keys.yaml', '/keys/upload', 'POST', 200, body);
    expect(body.one_time_key_counts).toEqual({ signed_curve25519: 3 });
    const synced = await syncOk(alice, { set_presence: 'offline' });
    expectMatchesSpec('sync.yaml', '/sync', 'GET', 200, synced);
    expect(synced.device_one_time_keys_count).toEqual({ signed_curve25519: 3 });
    expect(synced.device_unused_fallback_key_types).toEqual(['signed_curve25519']);
  });

  it('says signed_curve25519: 0 for a device with no keys', async () => {
    const body = ok(await upload(charlie, {}));
    expect(body.one_time_key_counts).toEqual({ signed_curve25519: 0 });
    expect((await syncOk(charlie, { set_presence: 'offline' })).device_one_time_keys_count).toEqual({ signed_curve25519: 0 });
  });

  it('refuses a one-time key id re-uploaded with other content, and keeps nothing of that request', async () => {
    const ed = aliceEd.get(alice.deviceId)!;
    const before = await count('e2e_one_time_keys');
    const again = oneTimeKeys(alice.userId, alice.deviceId, ed, ['A1', 'A9']);
    expectMatrixError(await upload(alice, { one_time_keys: again }), 400, 'M_INVALID_PARAM');
    expect(await count('e2e_one_time_keys')).toBe(before);
  });

  it('accepts the very same one-time key again without counting it twice', async () => {
    const ed = newKey();
    const dev = await newDevice(alice);
    const keys = oneTimeKeys(alice.userId, dev.deviceId, ed, ['B1']);
    expect(ok(await upload(dev, { one_time_keys: keys })).one_time_key_counts).toEqual({ signed_curve25519: 1 });
    expect(ok(await upload(dev, { one_time_keys: keys })).one_time_key_counts).toEqual({ signed_curve25519: 1 });
  });

  it('refuses device keys of another user or device, and bad JSON, changing nothing', async () => {
    const before = await count('e2e_device_keys');
    expectMatrixError(await upload(bob, { device_keys: deviceKeys(alice.userId, bob.deviceId) }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await upload(bob, { device_keys: deviceKeys(bob.userId, 'OTHERDEVICE') }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await upload(bob, { device_keys: { ...deviceKeys(bob.userId, bob.deviceId), extra: 1.5 } }), 400, 'M_BAD_JSON');
    expectMatrixError(await upload(bob, { device_keys: { user_id: bob.userId } }), 400, 'M_MISSING_PARAM');
    expectMatrixError(await upload(bob, { one_time_keys: { nocolon: 'abc' } }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await upload(bob, { one_time_keys: { 'signed_curve25519:X': 5 } }), 400, 'M_BAD_JSON');
    expect(await count('e2e_device_keys')).toBe(before);
  });
});

describe('keys/query', () => {
  it('returns the device keys of users, with the device name, and failures for other servers', async () => {
    ok(await alice.client.put(`${CS}/devices/${encodeURIComponent(alice.deviceId)}`, { display_name: 'Alice laptop' }));
    const body = ok(await bob.client.post(`${CS}/keys/query`, { device_keys: { [alice.userId]: [], '@someone:elsewhere.example': [] } }));
    expectMatchesSpec('keys.yaml', '/keys/query', 'POST', 200, body);
    const dev = body.device_keys[alice.userId][alice.deviceId];
    expect(dev.keys[`ed25519:${alice.deviceId}`]).toBe(aliceEd.get(alice.deviceId)!.publicKey);
    expect(dev.unsigned.device_display_name).toBe('Alice laptop');
    expect(Object.keys(body.failures)).toEqual(['elsewhere.example']);
  });

  it('limits to the devices asked for, and answers an empty map for a user with none', async () => {
    const body = ok(await bob.client.post(`${CS}/keys/query`, { device_keys: { [alice.userId]: ['NOSUCHDEVICE'], [charlie.userId]: [] } }));
    expect(body.device_keys).toEqual({ [alice.userId]: {}, [charlie.userId]: {} });
  });

  it('refuses a malformed request', async () => {
    expectMatrixError(await bob.client.post(`${CS}/keys/query`, { device_keys: { [alice.userId]: 'all' } }), 400, 'M_BAD_JSON');
    expectMatrixError(await bob.client.post(`${CS}/keys/query`, {}), 400, 'M_MISSING_PARAM');
  });
});

describe('keys/claim', () => {
  it('hands out each one-time key exactly once under concurrent claims, then the fallback key', async () => {
    const dev = await newDevice(bob);
    const ed = newKey();
    ok(await upload(dev, { device_keys: deviceKeys(bob.userId, dev.deviceId, ed) }));
    const ids = Array.from({ length: 10 }, (_, i) => `C${i}`);
    ok(
      await upload(dev, {
        one_time_keys: oneTimeKeys(bob.userId, dev.deviceId, ed, ids),
        fallback_keys: {
          'signed_curve25519:FB': signAs({ key: 'fallbackkey', fallback: true }, bob.userId, `ed25519:${dev.deviceId}`, ed),
        },
      }),
    );
    const claims = await Promise.all(
      Array.from({ length: 30 }, () =>
        alice.client.post(`${CS}/keys/claim`, { one_time_keys: { [bob.userId]: { [dev.deviceId]: 'signed_curve25519' } } }),
      ),
    );
    const got = claims.map((c) => Object.keys(ok(c).one_time_keys[bob.userId][dev.deviceId])[0]);
    expectMatchesSpec('keys.yaml', '/keys/claim', 'POST', 200, claims[0]!.body);
    const oneTime = got.filter((k) => k !== 'signed_curve25519:FB');
    expect(new Set(oneTime).size).toBe(10);
    expect(oneTime.length).toBe(10);
    expect(got.filter((k) => k === 'signed_curve25519:FB').length).toBe(20);
    const synced = await syncOk(dev, { set_presence: 'offline' });
    expect(synced.device_one_time_keys_count).toEqual({ signed_curve25519: 0 });
    expect(synced.device_unused_fallback_key_types).toEqual([]);
  });

  it('gives nothing for a device without keys', async () => {
    const body = ok(
      await alice.client.post(`${CS}/keys/claim`, { one_time_keys: { [charlie.userId]: { [charlie.deviceId]: 'signed_curve25519' } } }),
    );
    expect(body.one_time_keys).toEqual({});
  });
});

describe('device lists', () => {
  it('tells users sharing a room, and the user, of a new device’s keys; not others', async () => {
    const bobSince = await syncToken(bob);
    const charlieSince = await syncToken(charlie);
    const dev = await newDevice(alice);
    ok(await upload(dev, { device_keys: deviceKeys(alice.userId, dev.deviceId) }));
    const { body } = await syncUntil(bob, bobSince, (b) => (b.device_lists.changed.includes(alice.userId) ? true : undefined));
    expectMatchesSpec('sync.yaml', '/sync', 'GET', 200, body);
    const changes = ok(await bob.client.get(`${CS}/keys/changes?from=${bobSince}&to=${body.next_batch}`));
    expectMatchesSpec('keys.yaml', '/keys/changes', 'GET', 200, changes);
    expect(changes.changed).toContain(alice.userId);
    const forCharlie = await syncOk(charlie, { since: charlieSince, timeout: 0, set_presence: 'offline' });
    expect(forCharlie.device_lists.changed).not.toContain(alice.userId);
  });

  it('tells of a deleted device, whose keys and messages go with it', async () => {
    const dev = await newDevice(alice);
    ok(await upload(dev, { device_keys: deviceKeys(alice.userId, dev.deviceId) }));
    ok(await bob.client.put(`${CS}/sendToDevice/m.test/${Date.now()}`, { messages: { [alice.userId]: { [dev.deviceId]: { n: 1 } } } }));
    const bobSince = await syncToken(bob);
    const del = await alice.client.post(`${CS}/delete_devices`, {
      devices: [dev.deviceId],
      auth: passwordAuth(alice.userId, alice.password),
    });
    ok(del);
    await syncUntil(bob, bobSince, (b) => (b.device_lists.changed.includes(alice.userId) ? true : undefined));
    const body = ok(await bob.client.post(`${CS}/keys/query`, { device_keys: { [alice.userId]: [] } }));
    expect(Object.keys(body.device_keys[alice.userId])).not.toContain(dev.deviceId);
    const [left] = await hs.hs.db.sql<{ n: number }[]>`
      select count(*)::int as n from to_device_messages where user_id = ${alice.userId} and device_id = ${dev.deviceId}`;
    expect(left!.n).toBe(0);
  });

  it('tells when someone stops sharing any room (left), and when someone comes to share one (changed)', async () => {
    const dave = await registerUser(hs.url, `k_dave_${Date.now().toString(36)}`);
    ok(await upload(dave, { device_keys: deviceKeys(dave.userId, dave.deviceId) }));
    const since = await syncToken(bob);
    await joinRoom(dave, roomId);
    const joined = await syncUntil(bob, since, (b) => (b.device_lists.changed.includes(dave.userId) ? true : undefined));
    ok(await dave.client.post(roomPath(roomId, '/leave'), {}));
    await syncUntil(bob, joined.body.next_batch, (b) => (b.device_lists.left.includes(dave.userId) ? true : undefined));
  });
});

describe('sendToDevice', () => {
  it('delivers to the device until the next sync acknowledges it, once per transaction id', async () => {
    const since = await syncToken(bob);
    const put = () =>
      alice.client.put(`${CS}/sendToDevice/m.room_key_request/txn-1`, { messages: { [bob.userId]: { [bob.deviceId]: { hello: 'bob' } } } });
    expect(ok(await put())).toEqual({});
    ok(await put());
    const { body } = await syncUntil(bob, since, (b) => (b.to_device.events.length > 0 ? b : undefined));
    expectMatchesSpec('sync.yaml', '/sync', 'GET', 200, body);
    expect(body.to_device.events).toEqual([{ sender: alice.userId, type: 'm.room_key_request', content: { hello: 'bob' } }]);
    // Asked again from the same token (the response was lost), it comes again.
    const again = await syncOk(bob, { since, timeout: 0, set_presence: 'offline' });
    expect(again.to_device.events).toHaveLength(1);
    // The next sync acknowledges it: it does not come again, and the next pass that reads the
    // stream (here, woken by a message in the room) deletes it.
    const next = await syncOk(bob, { since: body.next_batch, timeout: 0, set_presence: 'offline' });
    expect(next.to_device.events).toEqual([]);
    ok(await alice.client.put(roomPath(roomId, `/send/m.room.message/ack-${Date.now()}`), { msgtype: 'm.text', body: 'wake' }));
    const later = await syncOk(bob, { since: next.next_batch, timeout: 5000, set_presence: 'offline' });
    expect(later.to_device.events).toEqual([]);
    const [row] = await hs.hs.db.sql<
      { n: number }[]
    >`select count(*)::int as n from to_device_messages where user_id = ${bob.userId} and device_id = ${bob.deviceId}`;
    expect(row!.n).toBe(0);
  });

  it('sends to every device of a user for "*"', async () => {
    const second = await newDevice(charlie);
    const since1 = await syncToken(charlie);
    const since2 = await syncToken(second);
    ok(await alice.client.put(`${CS}/sendToDevice/m.test/star-1`, { messages: { [charlie.userId]: { '*': { all: true } } } }));
    await syncUntil(charlie, since1, (b) =>
      b.to_device.events.some((e: { content: { all?: boolean } }) => e.content.all) ? true : undefined,
    );
    await syncUntil(second, since2, (b) =>
      b.to_device.events.some((e: { content: { all?: boolean } }) => e.content.all) ? true : undefined,
    );
  });

  it('carries 100 messages per sync and the rest in the next, losing none', async () => {
    const dev = await newDevice(charlie);
    let since = await syncToken(dev);
    for (let i = 0; i < 130; i++)
      ok(await alice.client.put(`${CS}/sendToDevice/m.test/many-${i}`, { messages: { [charlie.userId]: { [dev.deviceId]: { i } } } }));
    const seen: number[] = [];
    for (let round = 0; round < 5 && seen.length < 130; round++) {
      const body = await syncOk(dev, { since, timeout: 0, set_presence: 'offline' });
      expect(body.to_device.events.length).toBeLessThanOrEqual(100);
      seen.push(...body.to_device.events.map((e: { content: { i: number } }) => e.content.i));
      since = body.next_batch;
    }
    expect(seen).toEqual(Array.from({ length: 130 }, (_, i) => i));
  });

  it('refuses a malformed body and changes nothing', async () => {
    const before = await count('to_device_messages');
    expectMatrixError(
      await alice.client.put(`${CS}/sendToDevice/m.test/bad-1`, { messages: { [bob.userId]: { [bob.deviceId]: 'text' } } }),
      400,
      'M_BAD_JSON',
    );
    expectMatrixError(await alice.client.put(`${CS}/sendToDevice/m.test/bad-2`, {}), 400, 'M_MISSING_PARAM');
    expect(await count('to_device_messages')).toBe(before);
  });
});

describe('cross-signing', () => {
  const master = newKey();
  const selfSigning = newKey();
  const userSigning = newKey();
  const signedByMaster = (key: Record<string, unknown>) => signAs(key, alice.userId, `ed25519:${master.publicKey}`, master);

  it('uploads the first keys without re-authentication and serves them; the user-signing key only to its owner', async () => {
    const body = {
      master_key: crossSigningKey(alice.userId, 'master', master),
      self_signing_key: signedByMaster(crossSigningKey(alice.userId, 'self_signing', selfSigning)),
      user_signing_key: signedByMaster(crossSigningKey(alice.userId, 'user_signing', userSigning)),
    };
    expect(ok(await alice.client.post(`${CS}/keys/device_signing/upload`, body))).toEqual({});
    const forBob = ok(await bob.client.post(`${CS}/keys/query`, { device_keys: { [alice.userId]: [] } }));
    expectMatchesSpec('keys.yaml', '/keys/query', 'POST', 200, forBob);
    expect(forBob.master_keys[alice.userId].keys).toEqual({ [`ed25519:${master.publicKey}`]: master.publicKey });
    expect(forBob.self_signing_keys[alice.userId].usage).toEqual(['self_signing']);
    expect(forBob.user_signing_keys[alice.userId]).toBeUndefined();
    const forAlice = ok(await alice.client.post(`${CS}/keys/query`, { device_keys: { [alice.userId]: [] } }));
    expect(forAlice.user_signing_keys[alice.userId].usage).toEqual(['user_signing']);
  });

  it('asks for re-authentication to replace them, and refuses a key the master did not sign', async () => {
    const other = newKey();
    const replace = { master_key: crossSigningKey(alice.userId, 'master', other) };
    const challenge = await alice.client.post(`${CS}/keys/device_signing/upload`, replace);
    // The spec's file documents no 401 here; the body is the usual UIA challenge.
    expect(challenge.status).toBe(401);
    expect(challenge.body.session).toBeTypeOf('string');
    expect(challenge.body.flows).toEqual([{ stages: ['m.login.password'] }]);
    // With the password, the new master key replaces the old.
    const replaced = await alice.client.post(`${CS}/keys/device_signing/upload`, {
      ...replace,
      auth: { ...passwordAuth(alice.userId, alice.password), session: challenge.body.session },
    });
    expect(ok(replaced)).toEqual({});
    const now = ok(await alice.client.post(`${CS}/keys/query`, { device_keys: { [alice.userId]: [] } }));
    expect(Object.values(now.master_keys[alice.userId].keys)).toEqual([other.publicKey]);
    // Put the first keys back for the tests below (re-authenticated again).
    const back = await alice.client.post(`${CS}/keys/device_signing/upload`, {
      master_key: crossSigningKey(alice.userId, 'master', master),
      auth: passwordAuth(alice.userId, alice.password),
    });
    expect(ok(back)).toEqual({});
    const unsigned = { self_signing_key: crossSigningKey(alice.userId, 'self_signing', newKey()) };
    expectMatrixError(await alice.client.post(`${CS}/keys/device_signing/upload`, unsigned), 400, 'M_INVALID_SIGNATURE');
    // Still the first master key.
    const q = ok(await alice.client.post(`${CS}/keys/query`, { device_keys: { [alice.userId]: [] } }));
    expect(Object.values(q.master_keys[alice.userId].keys)).toEqual([master.publicKey]);
  });

  it('keeps a valid signature of a device by the self-signing key and reports a bad one', async () => {
    const stored = ok(await alice.client.post(`${CS}/keys/query`, { device_keys: { [alice.userId]: [alice.deviceId] } })).device_keys[
      alice.userId
    ][alice.deviceId];
    const { unsigned: _u, ...device } = stored;
    const good = signAs(device, alice.userId, `ed25519:${selfSigning.publicKey}`, selfSigning);
    const bad = signAs({ ...device, keys: { forged: 'x' } }, alice.userId, `ed25519:${selfSigning.publicKey}`, selfSigning);
    const res = ok(await alice.client.post(`${CS}/keys/signatures/upload`, { [alice.userId]: { [alice.deviceId]: good } }));
    expectMatchesSpec('cross_signing.yaml', '/keys/signatures/upload', 'POST', 200, res);
    expect(res.failures).toEqual({});
    const q = ok(await bob.client.post(`${CS}/keys/query`, { device_keys: { [alice.userId]: [alice.deviceId] } }));
    expect(q.device_keys[alice.userId][alice.deviceId].signatures[alice.userId][`ed25519:${selfSigning.publicKey}`]).toBeTypeOf('string');
    const failed = ok(await alice.client.post(`${CS}/keys/signatures/upload`, { [alice.userId]: { [alice.deviceId]: bad } }));
    expect(failed.failures[alice.userId][alice.deviceId].errcode).toBe('M_INVALID_SIGNATURE');
  });

  it("shows a signature of another user's master key by the user-signing key to its signer alone", async () => {
    // Bob's identity: a master key, signed (as clients do) by his device as well.
    const bobMaster = newKey();
    const bobDevice = newKey();
    ok(await upload(bob, { device_keys: deviceKeys(bob.userId, bob.deviceId, bobDevice) }));
    ok(await bob.client.post(`${CS}/keys/device_signing/upload`, { master_key: crossSigningKey(bob.userId, 'master', bobMaster) }));
    const byDevice = signAs(crossSigningKey(bob.userId, 'master', bobMaster), bob.userId, `ed25519:${bob.deviceId}`, bobDevice);
    expect(
      ok(await bob.client.post(`${CS}/keys/signatures/upload`, { [bob.userId]: { [bobMaster.publicKey]: byDevice } })).failures,
    ).toEqual({});
    // Alice, having verified bob, signs his master key with her user-signing key.
    const sinceFor = new Map<TestUser, string>();
    for (const u of [alice, bob, charlie]) sinceFor.set(u, await syncToken(u));
    const stored = ok(await alice.client.post(`${CS}/keys/query`, { device_keys: { [bob.userId]: [] } })).master_keys[bob.userId];
    const { signatures: _s, ...bare } = stored;
    const signed = signAs(bare, alice.userId, `ed25519:${userSigning.publicKey}`, userSigning);
    const res = ok(await alice.client.post(`${CS}/keys/signatures/upload`, { [bob.userId]: { [bobMaster.publicKey]: signed } }));
    expect(res.failures).toEqual({});

    const masterSeenBy = async (viewer: TestUser) =>
      ok(await viewer.client.post(`${CS}/keys/query`, { device_keys: { [bob.userId]: [] } })).master_keys[bob.userId];
    const forAlice = await masterSeenBy(alice);
    expect(Object.keys(forAlice.signatures[alice.userId])).toEqual([`ed25519:${userSigning.publicKey}`]);
    expect(Object.keys(forAlice.signatures[bob.userId])).toEqual([`ed25519:${bob.deviceId}`]);
    // Bob (the user signed) and charlie see bob's own signatures, not alice's.
    for (const viewer of [bob, charlie]) {
      const seen = await masterSeenBy(viewer);
      expect(seen.signatures[alice.userId]).toBeUndefined();
      expect(Object.keys(seen.signatures[bob.userId])).toContain(`ed25519:${bob.deviceId}`);
    }

    // Only alice's devices are told to query bob again; bob and those sharing a room with him are not.
    const { body } = await syncUntil(alice, sinceFor.get(alice)!, (b) => (b.device_lists.changed.includes(bob.userId) ? true : undefined));
    const changes = ok(await alice.client.get(`${CS}/keys/changes?from=${sinceFor.get(alice)!}&to=${body.next_batch}`));
    expect(changes.changed).toContain(bob.userId);
    for (const viewer of [bob, charlie]) {
      const later = await syncOk(viewer, { since: sinceFor.get(viewer)!, timeout: 0, set_presence: 'offline' });
      expect(later.device_lists?.changed ?? []).not.toContain(bob.userId);
    }
  });
});
