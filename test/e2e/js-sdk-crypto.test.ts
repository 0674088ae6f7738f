import { createClient as sdkClient, MsgType, type ICreateClientOpts, type MatrixClient, type MatrixEvent } from 'matrix-js-sdk';
import {
  CrossSigningKey,
  CryptoEvent,
  VerificationPhase,
  VerifierEvent,
  type CryptoApi,
  type GeneratedSas,
  type VerificationRequest,
  type Verifier,
} from 'matrix-js-sdk/lib/crypto-api/index.js';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest';
import { ApiClient, registerUser, type TestUser } from '../support/client.ts';
import { spawnServer, type SpawnedServer } from '../support/spawn-server.ts';
import { matrixError, quietLogger, startPrepared } from '../support/js-sdk.ts';

/**
 * End-to-end encryption driven by matrix-js-sdk with its Rust crypto (the stack under
 * Element Web): device keys, one-time keys, to-device room keys, device-list updates,
 * cross-signing, server-side key backup and interactive (SAS) verification between
 * users, each client learning of the others only through the homeserver.
 *
 * Every client's HTTP traffic on the E2EE endpoints (/keys/*, /sendToDevice, /room_keys/*,
 * and the E2EE parts of /sync) is recorded; a failing test prints the tail of that record, and
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
const E2EE_PATH = /\/_matrix\/client\/[^/]+\/(keys\/|sendToDevice\/|room_keys\/)/;
/** Key backup answers 404 M_NOT_FOUND when there is no backup (or no key for a session): an answer, not a refusal. */
const ROOM_KEYS_PATH = /\/room_keys\//;

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
      (E2EE_PATH.test(e.path) &&
        e.status >= 400 &&
        e.status !== 401 &&
        e.status !== 429 &&
        !(ROOM_KEYS_PATH.test(e.path) && e.status === 404)) ||
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

/** A new room with the `m.room.encryption` state that `host` makes and `guest` joins, once both clients know it is encrypted. */
async function sharedEncryptedRoom(host: MatrixClient, guest: MatrixClient, name: string, isDirect = false): Promise<string> {
  const guestId = guest.getUserId()!;
  const { room_id } = await host.createRoom({
    name,
    preset: 'private_chat' as never,
    ...(isDirect ? { is_direct: true } : {}),
    initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
  });
  await roomOf(host, room_id);
  await host.invite(room_id, guestId);
  await roomOf(guest, room_id, `${guestId} sees the invite to "${name}"`);
  await guest.joinRoom(room_id);
  const hostRoom = await roomOf(host, room_id);
  await until(`${host.getUserId()} sees ${guestId} joined "${name}"`, () => hostRoom.getMember(guestId)?.membership === 'join');
  for (const c of [host, guest])
    await until(`${c.getUserId()} knows "${name}" is encrypted`, () => cryptoOf(c).isEncryptionEnabledInRoom(room_id));
  return room_id;
}

/** Logs `user` in on a new device (as a person would on a new machine) and starts a crypto client for it. */
async function newDevice(who: string, user: TestUser, displayName: string): Promise<MatrixClient> {
  const anon = createClient('anon', { baseUrl: server.url });
  const login = await anon.loginRequest({
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: user.userId },
    password: PASSWORD,
    initial_device_display_name: displayName,
  });
  expect(login.device_id).not.toBe(user.deviceId);
  return startedCryptoClient(who, { userId: login.user_id, deviceId: login.device_id, accessToken: login.access_token });
}

/** UIA with the user's password, for bootstrapCrossSigning's upload of the keys. */
const passwordAuth =
  (user: TestUser) =>
  async (makeRequest: (auth: Record<string, unknown>) => Promise<unknown>): Promise<void> => {
    await makeRequest({ type: 'm.login.password', identifier: { type: 'm.id.user', user: user.userId }, password: PASSWORD });
  };

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
  it("alice's second device, logged in later, decrypts history through key backup", { timeout: 240_000 }, async () => {
    dumpOnFailure();
    expect(bob2, 'the second test started bob2').toBeDefined();
    const VERSION = '/_matrix/client/v3/room_keys/version';
    const backupInfo = async () => {
      const res = await aliceUser.client.get(VERSION);
      expect(res.status, clip(res.body, 500)).toBe(200);
      return res.body as {
        version: string;
        algorithm: string;
        auth_data: { public_key?: string; signatures?: Record<string, Record<string, string>> };
        count: number;
        etag: string;
      };
    };
    /** Once the server holds a key for every megolm session alice's first device has (its backup loop runs in the background). */
    const backedUp = (what: string) =>
      until(
        what,
        async () => {
          const [info, sessions] = await Promise.all([backupInfo(), cryptoOf(alice).exportRoomKeys()]);
          return info.count === sessions.length && info;
        },
        {
          detail: async () =>
            `server: ${clip(await backupInfo(), 300)}; alice has ${(await cryptoOf(alice).exportRoomKeys()).length} sessions\n${trafficTail()}`,
        },
      );

    const none = await aliceUser.client.get(VERSION);
    expect(none.status, 'no backup yet').toBe(404);
    expect(none.body.errcode).toBe('M_NOT_FOUND');

    // Alice's first device creates a backup; the server keeps its public key, signed by her device and master key.
    await cryptoOf(alice).resetKeyBackup();
    const version = await until('alice backs up to a new version', () => cryptoOf(alice).getActiveSessionBackupVersion());
    const created = await backupInfo();
    expect(created).toMatchObject({
      version,
      algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2',
      auth_data: { public_key: expect.any(String) },
      count: expect.any(Number),
      etag: expect.any(String),
    });
    const masterId = await cryptoOf(alice).getCrossSigningKeyId(CrossSigningKey.Master);
    expect(Object.keys(created.auth_data.signatures?.[aliceUser.userId] ?? {})).toEqual(
      expect.arrayContaining([`ed25519:${aliceUser.deviceId}`, `ed25519:${masterId}`]),
    );
    // The sessions alice already had (the first tests' room) go up first.
    const before = await backedUp('the sessions alice already had are in the backup');
    expect(before.count).toBeGreaterThan(0);

    // History: messages in a new room, from alice and from bob, before alice's second device exists.
    const historyRoom = await sharedEncryptedRoom(alice, bob2!, 'History');
    const history: { eventId: string; body: string; sessionId: string }[] = [];
    for (const [sender, body] of [
      [alice, 'history one, from alice'],
      [bob2!, 'history two, from bob'],
      [alice, 'history three, from alice'],
    ] as const) {
      const { event_id } = await sender.sendMessage(historyRoom, { msgtype: MsgType.Text, body });
      // Alice's first device decrypts each (so it holds bob's session too, and backs it up).
      const event = await decrypted(alice, historyRoom, event_id, body);
      history.push({ eventId: event_id, body, sessionId: (event.getWireContent() as { session_id: string }).session_id });
    }
    const sessionIds = [...new Set(history.map((h) => h.sessionId))].sort();
    expect(sessionIds.length, 'alice and bob each encrypted with a session of their own').toBe(2);

    // The count grows by those sessions, and the etag moves.
    const after = await backedUp('the history sessions are in the backup');
    expect(after.version).toBe(version);
    expect(after.count).toBe(before.count + sessionIds.length);
    expect(after.etag).not.toBe(before.etag);
    // The server holds a key for each history session: opaque to it, encrypted to the backup key.
    const keys = await aliceUser.client.get(`/_matrix/client/v3/room_keys/keys/${encodeURIComponent(historyRoom)}?version=${version}`);
    expect(keys.status, clip(keys.body, 500)).toBe(200);
    expect(Object.keys(keys.body.sessions ?? {}).sort()).toEqual(sessionIds);
    for (const id of sessionIds)
      expect(keys.body.sessions[id]).toMatchObject({
        first_message_index: 0,
        forwarded_count: expect.any(Number),
        is_verified: expect.any(Boolean),
        session_data: { ciphertext: expect.any(String), ephemeral: expect.any(String), mac: expect.any(String) },
      });
    // Uploading again what is stored changes nothing.
    const again = await aliceUser.client.put(`/_matrix/client/v3/room_keys/keys/${encodeURIComponent(historyRoom)}?version=${version}`, {
      sessions: keys.body.sessions,
    });
    expect(again.status, clip(again.body, 500)).toBe(200);
    expect(again.body).toEqual({ etag: after.etag, count: after.count });

    // Alice logs in on a new device: it was sent none of these keys, so the history does not decrypt there.
    const beforeAlice2 = seq;
    const alice2 = await newDevice('alice2', aliceUser, 'alice second device');
    await roomOf(alice2, historyRoom, "alice's second device has the history room");
    for (const h of history) {
      const event = await eventIn(alice2, historyRoom, h.eventId);
      await until(`alice2 fails to decrypt "${h.body}" for now`, () => !event.isBeingDecrypted() && event.isDecryptionFailure());
    }
    expect(toDeviceRecipients('alice', 0)[aliceUser.userId] ?? [], 'no room key went to alice2').not.toContain(alice2.getDeviceId());

    // She gives it the backup key (as she would type her recovery key) and restores the backup.
    const backupKey = await cryptoOf(alice).getSessionBackupPrivateKey();
    expect(backupKey, "alice's first device has the backup key").toBeInstanceOf(Uint8Array);
    await cryptoOf(alice2).storeSessionBackupPrivateKey(backupKey!, version);
    const restored = await cryptoOf(alice2).restoreKeyBackup();
    expect(restored.total, `restored ${clip(restored, 200)}`).toBe(after.count);
    for (const h of history) await decrypted(alice2, historyRoom, h.eventId, h.body);
    // The keys came from the server's backup.
    const downloads = traffic.filter(
      (e) => e.seq > beforeAlice2 && e.who === 'alice2' && e.method === 'GET' && /\/room_keys\/keys/.test(e.path) && e.status === 200,
    );
    expect(downloads.length, 'alice2 downloaded keys from the backup').toBeGreaterThan(0);
    // Restoring read the backup and wrote nothing to it.
    expect(await backupInfo()).toMatchObject({ version, count: after.count, etag: after.etag });
    alice2.stopClient();
  });

  it('alice verifies bob with SAS, and each then sees the other as verified', { timeout: 240_000 }, async () => {
    dumpOnFailure();
    expect(bob2, 'the second test started bob2').toBeDefined();
    const bobNow = bob2!;
    const bobApi = new ApiClient(server.url, bobNow.getAccessToken()!);

    // Bob sets up cross-signing too (alice did in the third test); each client learns the other's identity.
    await cryptoOf(bobNow).bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordAuth(bobUser) });
    await until("bob's cross-signing is ready", () => cryptoOf(bobNow).isCrossSigningReady(), {
      detail: async () => `status ${clip(await cryptoOf(bobNow).getCrossSigningStatus(), 300)}\n${trafficTail()}`,
    });
    await until("alice's client sees bob's cross-signing keys", () => cryptoOf(alice).userHasCrossSigningKeys(bobUser.userId), {
      detail: () => trafficTail(),
    });
    await until("bob's client sees alice's cross-signing keys", () => cryptoOf(bobNow).userHasCrossSigningKeys(aliceUser.userId));
    expect((await cryptoOf(alice).getUserVerificationStatus(bobUser.userId)).isCrossSigningVerified()).toBe(false);
    expect((await cryptoOf(bobNow).getUserVerificationStatus(aliceUser.userId)).isCrossSigningVerified()).toBe(false);
    const aliceUserSigning = await cryptoOf(alice).getCrossSigningKeyId(CrossSigningKey.UserSigning);
    const bobUserSigning = await cryptoOf(bobNow).getCrossSigningKeyId(CrossSigningKey.UserSigning);
    const aliceMaster = await cryptoOf(alice).getCrossSigningKeyId(CrossSigningKey.Master);
    const bobMaster = await cryptoOf(bobNow).getCrossSigningKeyId(CrossSigningKey.Master);
    expect([aliceUserSigning, bobUserSigning, aliceMaster, bobMaster]).toEqual(Array(4).fill(expect.any(String)));

    // Alice asks, in a DM; bob's client hears of it and bob accepts.
    const dm = await sharedEncryptedRoom(alice, bobNow, 'alice and bob', true);
    const received: VerificationRequest[] = [];
    bobNow.on(CryptoEvent.VerificationRequestReceived, (request) => received.push(request));
    const beforeRequest = seq;
    const aliceRequest = await cryptoOf(alice).requestVerificationDM(bobUser.userId, dm);
    expect(aliceRequest).toMatchObject({ roomId: dm, initiatedByMe: true, otherUserId: bobUser.userId });
    const phases = () =>
      `alice's request: ${VerificationPhase[aliceRequest.phase]}, bob's: ${received.map((r) => VerificationPhase[r.phase]).join(', ') || 'none'}` +
      `\n${trafficTail()}`;
    const bobRequest = await until(
      "bob's client receives alice's request",
      () => received.find((r) => r.otherUserId === aliceUser.userId && r.roomId === dm),
      { detail: phases },
    );
    expect(bobRequest.initiatedByMe).toBe(false);
    expect(bobRequest.phase).toBe(VerificationPhase.Requested);
    await bobRequest.accept();
    await until('alice sees bob ready', () => aliceRequest.phase === VerificationPhase.Ready, { detail: phases });
    expect(aliceRequest.otherPartySupportsMethod('m.sas.v1')).toBe(true);

    // SAS: each confirms the short code it is shown (a person compares the emoji first: the test compares them below).
    const shown: Record<string, GeneratedSas> = {};
    const outcome: Record<string, 'done' | Error> = {};
    const run = (who: string, verifier: Verifier) => {
      verifier.on(VerifierEvent.ShowSas, (sas) => {
        shown[who] = sas.sas;
        sas.confirm().catch((err: unknown) => (outcome[who] = err instanceof Error ? err : new Error(String(err))));
      });
      verifier.verify().then(
        () => (outcome[who] ??= 'done'),
        (err: unknown) => (outcome[who] = err instanceof Error ? err : new Error(String(err))),
      );
    };
    run('alice', await aliceRequest.startVerification('m.sas.v1'));
    run('bob', await until("bob's side of the SAS starts", () => bobRequest.verifier, { detail: phases }));
    await until(
      'both sides complete the SAS',
      () => {
        for (const o of Object.values(outcome)) if (o instanceof Error) throw o;
        return outcome.alice === 'done' && outcome.bob === 'done';
      },
      { detail: () => `outcome ${clip(outcome, 300)}; ${phases()}` },
    );
    expect(shown.alice?.emoji, 'alice was shown emoji').toHaveLength(7);
    expect(shown.bob, 'both were shown the same code').toEqual(shown.alice);
    const bothDone = () => aliceRequest.phase === VerificationPhase.Done && bobRequest.phase === VerificationPhase.Done;
    await until('both requests reach Done', bothDone, { detail: phases });

    // Each client now counts the other as verified through cross-signing, and the other's device with them.
    await until("alice's client counts bob as verified", async () =>
      (await cryptoOf(alice).getUserVerificationStatus(bobUser.userId)).isCrossSigningVerified(),
    );
    await until("bob's client counts alice as verified", async () =>
      (await cryptoOf(bobNow).getUserVerificationStatus(aliceUser.userId)).isCrossSigningVerified(),
    );
    expect((await cryptoOf(alice).getDeviceVerificationStatus(bobUser.userId, bobNow.getDeviceId()!))?.crossSigningVerified).toBe(true);
    expect((await cryptoOf(bobNow).getDeviceVerificationStatus(aliceUser.userId, aliceUser.deviceId))?.crossSigningVerified).toBe(true);

    // Each uploaded a signature of the other's master key with their user-signing key, and the server took it.
    const signed = (who: string) =>
      traffic.filter((e) => e.seq > beforeRequest && e.who === who && e.path.endsWith('/keys/signatures/upload') && e.status === 200);
    await until(
      'both uploads were answered',
      () => signed('alice').length > 0 && signed('bob2').length > 0 && [...signed('alice'), ...signed('bob2')].every((e) => e.response),
    );
    for (const e of [...signed('alice'), ...signed('bob2')])
      expect(Object.keys((e.response as { failures?: object }).failures ?? {}), clip(e.response, 500)).toEqual([]);

    // The server shows such a signature to its signer, and to no one else (not even the user signed).
    const masterKeyIds: Record<string, string | null> = { [aliceUser.userId]: aliceMaster, [bobUser.userId]: bobMaster };
    /** The signatures on `of`'s master key, as the server shows them to the holder of `api`'s token. */
    const masterSignatures = async (api: ApiClient, of: string) => {
      const res = await api.post('/_matrix/client/v3/keys/query', { device_keys: { [of]: [] } });
      expect(res.status, clip(res.body, 500)).toBe(200);
      expect(Object.keys(res.body.master_keys?.[of]?.keys ?? {})).toEqual([`ed25519:${masterKeyIds[of]}`]);
      return (res.body.master_keys[of].signatures ?? {}) as Record<string, Record<string, string>>;
    };
    const aliceSeesOnBobs = await masterSignatures(aliceUser.client, bobUser.userId);
    expect(Object.keys(aliceSeesOnBobs[aliceUser.userId] ?? {}), clip(aliceSeesOnBobs, 500)).toEqual([`ed25519:${aliceUserSigning}`]);
    const bobSeesOnAlices = await masterSignatures(bobApi, aliceUser.userId);
    expect(Object.keys(bobSeesOnAlices[bobUser.userId] ?? {}), clip(bobSeesOnAlices, 500)).toEqual([`ed25519:${bobUserSigning}`]);
    const bobSeesOnHis = await masterSignatures(bobApi, bobUser.userId);
    expect(bobSeesOnHis[aliceUser.userId], clip(bobSeesOnHis, 500)).toBeUndefined();
    expect(Object.keys(bobSeesOnHis[bobUser.userId] ?? {})).toContain(`ed25519:${bobNow.getDeviceId()}`);
    const aliceSeesOnHers = await masterSignatures(aliceUser.client, aliceUser.userId);
    expect(aliceSeesOnHers[bobUser.userId], clip(aliceSeesOnHers, 500)).toBeUndefined();
  });
});
