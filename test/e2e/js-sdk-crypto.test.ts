import { createClient as sdkClient, MsgType, type ICreateClientOpts, type MatrixClient, type MatrixEvent } from 'matrix-js-sdk';
import { CrossSigningKey, type CryptoApi } from 'matrix-js-sdk/lib/crypto-api/index.js';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest';
import { ApiClient, registerUser, type TestUser } from '../support/client.ts';
import { spawnServer, type SpawnedServer } from '../support/spawn-server.ts';
import { matrixError, quietLogger, startPrepared } from '../support/js-sdk.ts';

/**
 * End-to-end encryption driven by matrix-js-sdk with its Rust crypto (the stack under
 * Element Web): device keys, one-time keys, to-device room keys, device-list updates
 * and cross-signing, each client learning of the others only through the homeserver.
 *
 * Every client's HTTP traffic on the E2EE endpoints (/keys/*, /sendToDevice, and the
 * E2EE parts of /sync) is recorded; a failing test prints the tail of that record, and
 * a waiting step gives up at once when the server answers an E2EE request with an error.
 */

const LOG = !!process.env.COMMCOMMS_TEST_LOG;
// The SDK's client logger is quietLogger, but parts of it (room encryption, MatrixRTC) log through
// loggers of their own at DEBUG, and initRustCrypto turns the Rust crate's tracing on at DEBUG:
// all of it goes to the console, so the console is quietLogger unless COMMCOMMS_TEST_LOG asks for logs.
// (This file reports through process.stderr.)
if (!LOG)
  for (const method of ['log', 'debug', 'info', 'warn', 'error', 'trace'] as const) vi.spyOn(console, method).mockImplementation(() => {});

// ---------------------------------------------------------------------------------------
// Recording the E2EE traffic

interface Exchange {
  seq: number;
  who: string;
  method: string;
  path: string;
  status: number;
  request?: unknown;
  response?: unknown;
}

const traffic: Exchange[] = [];
let seq = 0;
const E2EE_PATH = /\/_matrix\/client\/[^/]+\/(keys\/|sendToDevice\/)/;

const parse = (text: string | undefined): unknown => {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text.slice(0, 500);
  }
};

/** The parts of a /sync response that concern E2EE. */
function syncE2ee(body: Record<string, any>): Record<string, unknown> {
  const toDevice = (body.to_device?.events ?? []) as Array<Record<string, any>>;
  return {
    next_batch: body.next_batch,
    to_device: toDevice.map((e) => ({ type: e.type, sender: e.sender, algorithm: e.content?.algorithm })),
    device_lists: body.device_lists,
    device_one_time_keys_count: body.device_one_time_keys_count,
    device_unused_fallback_key_types: body.device_unused_fallback_key_types,
  };
}

/** A fetch for one client that records its E2EE requests and answers. */
function recordingFetch(who: string): typeof globalThis.fetch {
  return async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? 'GET').toUpperCase();
    const res = await fetch(input, init);
    const e2ee = E2EE_PATH.test(url.pathname);
    const isSync = url.pathname.endsWith('/sync');
    if (e2ee || isSync || res.status >= 500) {
      const entry: Exchange = { seq: ++seq, who, method, path: url.pathname, status: res.status };
      if (isSync) entry.path += url.searchParams.has('since') ? `?since=${url.searchParams.get('since')}` : '';
      if (typeof init?.body === 'string') entry.request = parse(init.body);
      traffic.push(entry);
      // Read a copy of the body without holding up the SDK.
      void res
        .clone()
        .text()
        .then((text) => {
          const body = parse(text);
          entry.response = isSync && res.status === 200 && body && typeof body === 'object' ? syncE2ee(body as Record<string, any>) : body;
        })
        .catch(() => {});
    }
    return res;
  };
}

const clip = (v: unknown, n: number) => {
  const s = JSON.stringify(v);
  return s === undefined ? '' : s.length > n ? `${s.slice(0, n)}…` : s;
};
const show = (e: Exchange, n = 600) =>
  `#${e.seq} ${e.who} ${e.method} ${e.path} → ${e.status}` +
  (e.request !== undefined ? `\n    req: ${clip(e.request, n)}` : '') +
  (e.response !== undefined ? `\n    res: ${clip(e.response, n)}` : '');

/** The recorded exchanges worth printing: all but /sync answers that carry nothing E2EE. */
function interesting(e: Exchange): boolean {
  if (!e.path.includes('/sync')) return true;
  const r = e.response as Record<string, any> | undefined;
  if (!r || e.status !== 200) return true;
  const dl = r.device_lists as Record<string, unknown[]> | undefined;
  return (r.to_device as unknown[]).length > 0 || !!dl?.changed?.length || !!dl?.left?.length;
}
const trafficTail = (n = 40) =>
  traffic
    .filter(interesting)
    .slice(-n)
    .map((e) => show(e, LOG ? 100_000 : 600))
    .join('\n');

/** An E2EE request the server refused (not UIA's 401, not a rate limit), or any 5xx. */
function serverRefusal(): Exchange | undefined {
  return traffic.find(
    (e) =>
      e.status >= 500 ||
      (E2EE_PATH.test(e.path) && e.status >= 400 && e.status !== 401 && e.status !== 429) ||
      (e.response as { errcode?: string } | undefined)?.errcode === 'M_UNRECOGNIZED',
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `probe` returns something truthy (a guard against hanging, not a timing check).
 * Gives up at once if the server has refused an E2EE request, since nothing will come then.
 */
async function until<T>(
  what: string,
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  opts: { timeoutMs?: number; detail?: () => string | Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 45_000);
  for (;;) {
    const value = await probe();
    if (value) return value;
    const refused = serverRefusal();
    if (refused) throw new Error(`while waiting for: ${what}\nthe server refused an E2EE request:\n${show(refused, 2000)}`);
    if (Date.now() > deadline) {
      const detail = opts.detail ? `\n${await opts.detail()}` : '';
      throw new Error(`gave up waiting for: ${what}${detail}`);
    }
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------
// Clients

let server: SpawnedServer;
const clients: MatrixClient[] = [];

const createClient = (who: string, opts: ICreateClientOpts): MatrixClient =>
  sdkClient({ ...(LOG ? {} : { logger: quietLogger }), fetchFn: recordingFetch(who), ...opts });

const cryptoOf = (client: MatrixClient): CryptoApi => client.getCrypto() ?? failWith(`${client.getUserId()} has no crypto`);
function failWith(msg: string): never {
  throw new Error(msg);
}

/** A client for a logged-in device, with Rust crypto, once its first sync is PREPARED and its device keys are on the server. */
async function startedCryptoClient(who: string, login: { userId: string; deviceId: string; accessToken: string }): Promise<MatrixClient> {
  const client = createClient(who, { baseUrl: server.url, userId: login.userId, deviceId: login.deviceId, accessToken: login.accessToken });
  clients.push(client);
  await client.initRustCrypto({ useIndexedDB: false });
  await startPrepared(client);
  // The device's keys reach the server through the SDK's outgoing-request loop.
  const raw = new ApiClient(server.url, login.accessToken);
  await until(`${who}'s device keys are on the server`, async () => {
    const res = await raw.post('/_matrix/client/v3/keys/query', { device_keys: { [login.userId]: [login.deviceId] } });
    return res.status === 200 && res.body.device_keys?.[login.userId]?.[login.deviceId];
  });
  return client;
}

const roomOf = (client: MatrixClient, roomId: string, what = `${client.getUserId()} has room ${roomId}`) =>
  until(what, () => client.getRoom(roomId));
const eventIn = (client: MatrixClient, roomId: string, eventId: string) =>
  until(`${client.getUserId()}/${client.getDeviceId()} sees ${eventId}`, () => client.getRoom(roomId)?.findEventById(eventId));

/** The event as `client` sees it, once it decrypts to `body`; it must have come over the wire encrypted. */
async function decrypted(client: MatrixClient, roomId: string, eventId: string, body: string): Promise<MatrixEvent> {
  const event = await eventIn(client, roomId, eventId);
  expect(event.getWireType()).toBe('m.room.encrypted');
  expect(event.getWireContent()).toMatchObject({ algorithm: 'm.megolm.v1.aes-sha2', ciphertext: expect.any(String) });
  await until(
    `${client.getUserId()}/${client.getDeviceId()} decrypts "${body}"`,
    () => !event.isBeingDecrypted() && !event.isDecryptionFailure() && event.getClearContent()?.body === body,
    {
      detail: () =>
        `decryption failure: ${event.decryptionFailureReason}; content now ${clip(event.getContent(), 300)}\n` +
        `recent E2EE traffic:\n${trafficTail()}`,
    },
  );
  expect(event.getType()).toBe('m.room.message');
  expect(event.getContent()).toMatchObject({ msgtype: 'm.text', body });
  return event;
}

/** The device ids `viewer`'s crypto knows for `userId` (from its store; no download). */
async function knownDevices(viewer: MatrixClient, userId: string): Promise<string[]> {
  const map = await cryptoOf(viewer).getUserDeviceInfo([userId]);
  return [...(map.get(userId)?.keys() ?? [])].sort();
}

/** The recipients (user → device ids) of the olm-encrypted to-device messages `who` sent after exchange `afterSeq`. */
function toDeviceRecipients(who: string, afterSeq: number): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const e of traffic) {
    if (e.seq <= afterSeq || e.who !== who || !/\/sendToDevice\/m\.room\.encrypted\//.test(e.path)) continue;
    const messages = (e.request as { messages?: Record<string, Record<string, unknown>> } | undefined)?.messages ?? {};
    for (const [user, devices] of Object.entries(messages)) for (const d of Object.keys(devices)) (out[user] ??= new Set()).add(d);
  }
  return Object.fromEntries(Object.entries(out).map(([u, s]) => [u, [...s].sort()]));
}

/** Whether a /sync answer `who` had after exchange `afterSeq` listed `userId` in device_lists.changed. */
function listedAsChanged(who: string, userId: string, afterSeq: number): boolean {
  return traffic.some(
    (e) =>
      e.seq > afterSeq &&
      e.who === who &&
      e.path.includes('/sync') &&
      ((e.response as { device_lists?: { changed?: string[] } } | undefined)?.device_lists?.changed ?? []).includes(userId),
  );
}

const PASSWORD = 'correct horse battery';
let aliceUser: TestUser;
let bobUser: TestUser;
let alice: MatrixClient;
let bob: MatrixClient;
let bob2: MatrixClient | undefined;

beforeAll(async () => {
  server = await spawnServer();
  aliceUser = await registerUser(server.url, 'crypto_alice', PASSWORD);
  bobUser = await registerUser(server.url, 'crypto_bob', PASSWORD);
}, 240_000);
afterAll(async () => {
  for (const c of clients) c.stopClient();
  await server?.dispose();
});

describe('matrix-js-sdk with Rust crypto through the homeserver', () => {
  let roomId: string;

  // Whatever fails, show what went over the wire.
  const dumpOnFailure = () =>
    onTestFailed(() => {
      process.stderr.write(`--- E2EE traffic (last exchanges; COMMCOMMS_TEST_LOG=1 for whole bodies) ---\n${trafficTail(60)}\n`);
      if (LOG) process.stderr.write(`--- server output ---\n${server.output()}\n`);
    });

  it('exchanges megolm-encrypted messages in an encrypted room', { timeout: 180_000 }, async () => {
    dumpOnFailure();
    alice = await startedCryptoClient('alice', aliceUser);
    bob = await startedCryptoClient('bob', bobUser);
    const beforeRoom = seq;

    ({ room_id: roomId } = await alice.createRoom({
      name: 'Encrypted',
      preset: 'private_chat' as never,
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    }));
    await roomOf(alice, roomId);
    await until('alice knows the room is encrypted', () => cryptoOf(alice).isEncryptionEnabledInRoom(roomId));
    await alice.invite(roomId, bobUser.userId);
    await roomOf(bob, roomId, 'bob sees the invite');
    await bob.joinRoom(roomId);
    const aliceRoom = await roomOf(alice, roomId);
    await until('alice sees bob joined', () => aliceRoom.getMember(bobUser.userId)?.membership === 'join');
    await until('bob knows the room is encrypted', () => cryptoOf(bob).isEncryptionEnabledInRoom(roomId));
    // Sharing a room, each is told the other's device list may have changed.
    await until("bob's /sync lists alice in device_lists.changed", () => listedAsChanged('bob', aliceUser.userId, beforeRoom));
    await until("alice's /sync lists bob in device_lists.changed", () => listedAsChanged('alice', bobUser.userId, beforeRoom));

    const hello = 'hello bob, this is secret';
    const sent = await alice.sendMessage(roomId, { msgtype: MsgType.Text, body: hello });
    // The server holds only ciphertext.
    const stored = await bobUser.client.get(
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(sent.event_id)}`,
    );
    expect(stored.status).toBe(200);
    expect(stored.body.type).toBe('m.room.encrypted');
    expect(stored.body.content).toMatchObject({
      algorithm: 'm.megolm.v1.aes-sha2',
      ciphertext: expect.any(String),
      session_id: expect.any(String),
    });
    expect(JSON.stringify(stored.body)).not.toContain(hello);
    const atBob = await decrypted(bob, roomId, sent.event_id, hello);
    expect(atBob.getSender()).toBe(aliceUser.userId);

    // The room key went to bob's device as an olm to-device message, after a claim of one of its one-time keys.
    expect(toDeviceRecipients('alice', 0)[bobUser.userId]).toContain(bobUser.deviceId);
    const claim = traffic.find((e) => e.who === 'alice' && e.path.endsWith('/keys/claim'));
    expect(claim, 'alice claimed a one-time key').toBeDefined();
    expect(claim!.request).toMatchObject({ one_time_keys: { [bobUser.userId]: { [bobUser.deviceId]: 'signed_curve25519' } } });
    // (Recorded answers are read in the background: wait for the one that carried it.)
    await until("bob's /sync delivered alice's m.room.encrypted to-device message", () =>
      traffic.some(
        (e) =>
          e.who === 'bob' &&
          ((e.response as { to_device?: Array<{ type: string; sender: string }> } | undefined)?.to_device ?? []).some(
            (t) => t.type === 'm.room.encrypted' && t.sender === aliceUser.userId,
          ),
      ),
    );

    const reply = 'hello alice, secret received';
    const replied = await bob.sendMessage(roomId, { msgtype: MsgType.Text, body: reply });
    const atAlice = await decrypted(alice, roomId, replied.event_id, reply);
    expect(atAlice.getSender()).toBe(bobUser.userId);

    // Each sync told the client how many one-time keys the server still holds, and that its fallback key is unused.
    const bobSyncs = traffic.filter((e) => e.who === 'bob' && e.path.includes('/sync') && e.status === 200 && e.response);
    const counts = bobSyncs.map((e) => (e.response as Record<string, any>).device_one_time_keys_count?.signed_curve25519);
    expect(
      counts.some((c) => typeof c === 'number' && c > 0),
      `device_one_time_keys_count in bob's syncs: ${clip(counts, 300)}`,
    ).toBe(true);
    const fallback = bobSyncs.map((e) => (e.response as Record<string, any>).device_unused_fallback_key_types);
    expect(
      fallback.some((f) => Array.isArray(f) && f.includes('signed_curve25519')),
      `device_unused_fallback_key_types in bob's syncs: ${clip(fallback, 300)}`,
    ).toBe(true);
  });

  it("after bob's first device is deleted, alice encrypts only to his new device", { timeout: 180_000 }, async () => {
    dumpOnFailure();
    expect(roomId, 'the first test made the room').toBeDefined();
    const aliceSyncBefore = alice.store.getSyncToken();
    const beforeLogin = seq;

    // Bob logs in on a second device.
    const anon = createClient('anon', { baseUrl: server.url });
    const login = await anon.loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: bobUser.userId },
      password: PASSWORD,
      initial_device_display_name: 'bob second device',
    });
    expect(login.device_id).not.toBe(bobUser.deviceId);
    const bob2Id = login.device_id;
    bob2 = await startedCryptoClient('bob2', { userId: login.user_id, deviceId: bob2Id, accessToken: login.access_token });
    await roomOf(bob2, roomId, "bob's second device has the room");

    // Alice hears of the new device through device_lists.changed in her /sync, and fetches its keys.
    await until("alice's crypto lists bob's second device", async () => (await knownDevices(alice, bobUser.userId)).includes(bob2Id), {
      detail: async () => `alice knows bob's devices ${clip(await knownDevices(alice, bobUser.userId), 300)}\n${trafficTail()}`,
    });
    await until("alice's /sync listed bob in device_lists.changed", () => listedAsChanged('alice', bobUser.userId, beforeLogin));
    // /keys/changes between alice's sync tokens from before and after says the same.
    const aliceSyncAfter = alice.store.getSyncToken();
    expect(aliceSyncBefore && aliceSyncAfter, 'alice has sync tokens').toBeTruthy();
    const changes = await aliceUser.client.get(
      `/_matrix/client/v3/keys/changes?from=${encodeURIComponent(aliceSyncBefore!)}&to=${encodeURIComponent(aliceSyncAfter!)}`,
    );
    expect(changes.status, clip(changes.body, 500)).toBe(200);
    expect(changes.body.changed).toContain(bobUser.userId);

    // Bob's first device goes away: stop its client, then delete it from the second with UIA.
    bob.stopClient();
    const uia = await matrixError(() => bob2!.deleteDevice(bobUser.deviceId));
    expect(uia.httpStatus).toBe(401);
    await bob2.deleteDevice(bobUser.deviceId, {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: bobUser.userId },
      password: PASSWORD,
      session: uia.data.session as string,
    });
    const afterDeletion = seq;

    // The server no longer has keys for the deleted device...
    const query = await aliceUser.client.post('/_matrix/client/v3/keys/query', { device_keys: { [bobUser.userId]: [] } });
    expect(query.status).toBe(200);
    expect(Object.keys(query.body.device_keys?.[bobUser.userId] ?? {}).sort()).toEqual([bob2Id]);
    // ... and alice's client learns that through her sync.
    await until(
      "alice's crypto no longer lists bob's deleted device",
      async () => {
        const devices = await knownDevices(alice, bobUser.userId);
        return devices.length === 1 && devices[0] === bob2Id;
      },
      { detail: async () => `alice knows bob's devices ${clip(await knownDevices(alice, bobUser.userId), 300)}\n${trafficTail()}` },
    );
    await until("alice's /sync listed bob in device_lists.changed after the deletion", () =>
      listedAsChanged('alice', bobUser.userId, afterDeletion),
    );

    const text = 'only for your new device';
    const sent = await alice.sendMessage(roomId, { msgtype: MsgType.Text, body: text });
    await decrypted(bob2, roomId, sent.event_id, text);
    // The room key for it went to bob's second device and not to the deleted one.
    const recipients = toDeviceRecipients('alice', afterDeletion);
    expect(recipients[bobUser.userId], `alice's to-device recipients after the deletion: ${clip(recipients, 300)}`).toEqual([bob2Id]);
    const claims = traffic.filter((e) => e.seq > afterDeletion && e.who === 'alice' && e.path.endsWith('/keys/claim'));
    for (const c of claims)
      expect(Object.keys((c.request as Record<string, any>).one_time_keys?.[bobUser.userId] ?? {})).not.toContain(bobUser.deviceId);

    // And bob's new device writes back, which alice decrypts.
    const back = 'new device here';
    const reply = await bob2.sendMessage(roomId, { msgtype: MsgType.Text, body: back });
    await decrypted(alice, roomId, reply.event_id, back);
  });

  it("alice bootstraps cross-signing and bob's client sees her identity", { timeout: 180_000 }, async () => {
    dumpOnFailure();
    expect(bob2, 'the second test started bob2').toBeDefined();
    const viewer = bob2!;
    const beforeBootstrap = seq;
    await cryptoOf(alice).bootstrapCrossSigning({
      authUploadDeviceSigningKeys: async (makeRequest) => {
        await makeRequest({
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: aliceUser.userId },
          password: PASSWORD,
        });
      },
    });
    await until("alice's cross-signing is ready", () => cryptoOf(alice).isCrossSigningReady(), {
      detail: async () => `status ${clip(await cryptoOf(alice).getCrossSigningStatus(), 300)}\n${trafficTail()}`,
    });
    const status = await cryptoOf(alice).getCrossSigningStatus();
    expect(status.publicKeysOnDevice, "alice's device has her public cross-signing keys").toBe(true);
    expect(status.privateKeysCachedLocally).toEqual({ masterKey: true, selfSigningKey: true, userSigningKey: true });
    const masterId = await cryptoOf(alice).getCrossSigningKeyId(CrossSigningKey.Master);
    const selfSigningId = await cryptoOf(alice).getCrossSigningKeyId(CrossSigningKey.SelfSigning);
    expect(masterId).toEqual(expect.any(String));
    expect(selfSigningId).toEqual(expect.any(String));

    // The signature of alice's device by her self-signing key was accepted.
    const sigUploads = traffic.filter((e) => e.who === 'alice' && e.path.endsWith('/keys/signatures/upload'));
    expect(sigUploads.length, 'alice uploaded signatures').toBeGreaterThan(0);
    for (const s of sigUploads) {
      expect(s.status).toBe(200);
      expect(Object.keys((s.response as { failures?: object } | undefined)?.failures ?? {}), clip(s.response, 500)).toEqual([]);
    }

    // What the server now tells bob about alice: her master and self-signing keys (not her
    // user-signing key, which only she is told of) and her device signed by the latter.
    // (bob's registration token died with his first device: ask with the second one's.)
    const asBob = await new ApiClient(server.url, viewer.getAccessToken()!).post('/_matrix/client/v3/keys/query', {
      device_keys: { [aliceUser.userId]: [] },
    });
    expect(asBob.status, clip(asBob.body, 500)).toBe(200);
    expect(Object.keys(asBob.body.master_keys?.[aliceUser.userId]?.keys ?? {})).toEqual([`ed25519:${masterId}`]);
    expect(Object.keys(asBob.body.self_signing_keys?.[aliceUser.userId]?.keys ?? {})).toEqual([`ed25519:${selfSigningId}`]);
    expect(asBob.body.user_signing_keys?.[aliceUser.userId]).toBeUndefined();
    const aliceDevice = asBob.body.device_keys?.[aliceUser.userId]?.[aliceUser.deviceId];
    expect(Object.keys(aliceDevice?.signatures?.[aliceUser.userId] ?? {})).toContain(`ed25519:${selfSigningId}`);
    const asAlice = await aliceUser.client.post('/_matrix/client/v3/keys/query', { device_keys: { [aliceUser.userId]: [] } });
    expect(asAlice.body.user_signing_keys?.[aliceUser.userId]).toBeDefined();

    // Bob's client hears of the new keys through device_lists.changed and sees alice's identity.
    await until("bob's client sees alice's cross-signing keys", () => cryptoOf(viewer).userHasCrossSigningKeys(aliceUser.userId), {
      detail: () => trafficTail(),
    });
    await until("bob's /sync listed alice in device_lists.changed", () => listedAsChanged('bob2', aliceUser.userId, beforeBootstrap));
    const deviceStatus = await until(
      "bob's client sees alice's device signed by her",
      async () => {
        const s = await cryptoOf(viewer).getDeviceVerificationStatus(aliceUser.userId, aliceUser.deviceId);
        return s?.signedByOwner ? s : undefined;
      },
      { detail: () => trafficTail() },
    );
    // Signed by its owner, but bob has verified neither alice nor the device.
    expect(deviceStatus.crossSigningVerified, "bob's client does not count alice's device as verified").toBe(false);
    const identity = await cryptoOf(viewer).getUserVerificationStatus(aliceUser.userId);
    expect(identity.isCrossSigningVerified(), "bob's client does not count alice as verified").toBe(false);
    // And alice's own client trusts her own device through cross-signing.
    await until("alice's client trusts her device through cross-signing", async () => {
      const own = await cryptoOf(alice).getDeviceVerificationStatus(aliceUser.userId, aliceUser.deviceId);
      return own?.crossSigningVerified;
    });
  });
});
