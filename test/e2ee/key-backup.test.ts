import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import type { Reply, TestUser } from '../support/client.ts';
import { CS, enc, ok } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const {
  hs,
  users: [alice, bob, carol, mallory],
} = withHomeserver({ users: ['kb_alice', 'kb_bob', 'kb_carol', 'kb_mallory'] });

const SPEC = 'key_backup.yaml';
const ALGORITHM = 'm.megolm_backup.v1.curve25519-aes-sha2';
const VERSIONS = `${CS}/room_keys/version`;
const KEYS = `${CS}/room_keys/keys`;
const ROOM = '!backup:localhost';
const OTHER_ROOM = '!other:localhost';

const authData = (publicKey: string) => ({ public_key: publicKey, signatures: { '@kb_alice:localhost': { 'ed25519:DEV': 'sig' } } });
/** Key data whose session_data names it, so a test can tell which of two uploads the server kept. */
const keyData = (tag: string, first_message_index = 0, forwarded_count = 0, is_verified = false) => ({
  first_message_index,
  forwarded_count,
  is_verified,
  session_data: { ephemeral: `eph-${tag}`, ciphertext: `ct-${tag}`, mac: `mac-${tag}` },
});
const keysPath = (version: string, roomId?: string, sessionId?: string) =>
  `${KEYS}${roomId === undefined ? '' : `/${enc(roomId)}`}${sessionId === undefined ? '' : `/${enc(sessionId)}`}?version=${enc(version)}`;

/** A new backup for `user`, which becomes their current one. */
async function newBackup(user: TestUser, publicKey = 'pk'): Promise<string> {
  const body = ok(await user.client.post(VERSIONS, { algorithm: ALGORITHM, auth_data: authData(publicKey) }));
  expectMatchesSpec(SPEC, '/room_keys/version', 'POST', 200, body);
  return body.version as string;
}

async function putSession(user: TestUser, version: string, sessionId: string, data: object, roomId = ROOM): Promise<Reply> {
  return user.client.put(keysPath(version, roomId, sessionId), data);
}

async function versionInfo(user: TestUser, version: string) {
  const body = ok(await user.client.get(`${VERSIONS}/${version}`));
  expectMatchesSpec(SPEC, '/room_keys/version/{version}', 'GET', 200, body);
  return body;
}

/** The user's rows in the backup tables, read past the API. */
async function backupRows(user: TestUser) {
  const [row] = await hs.hs.db.sql<{ versions: number; sessions: number; auth_data: string }[]>`
    select (select count(*) from key_backup_versions where user_id = ${user.userId})::int as versions,
           (select count(*) from key_backup_sessions where user_id = ${user.userId})::int as sessions,
           (select coalesce(string_agg(auth_data::text, '|' order by version), '') from key_backup_versions
             where user_id = ${user.userId}) as auth_data`;
  return row!;
}

describe('backup versions', () => {
  it('answers 404 while a user has no backup', async () => {
    const reply = await carol.client.get(VERSIONS);
    expectMatrixError(reply, 404, 'M_NOT_FOUND');
    expectMatchesSpec(SPEC, '/room_keys/version', 'GET', 404, reply.body);
  });

  it('creates versions; the newest is current and older ones stay readable', async () => {
    const first = await newBackup(alice, 'pk-first');
    const second = await newBackup(alice, 'pk-second');
    expect(Number(second)).toBeGreaterThan(Number(first));

    const current = ok(await alice.client.get(VERSIONS));
    expectMatchesSpec(SPEC, '/room_keys/version', 'GET', 200, current);
    expect(current).toEqual({
      algorithm: ALGORITHM,
      auth_data: authData('pk-second'),
      count: 0,
      etag: expect.any(String),
      version: second,
    });
    expect(await versionInfo(alice, first)).toMatchObject({ auth_data: authData('pk-first'), count: 0, version: first });
  });

  it('updates auth_data only, with or without the version in the body', async () => {
    const version = await newBackup(alice, 'pk-old');
    ok(await putSession(alice, version, 's1', keyData('a')));
    const before = await versionInfo(alice, version);

    expect(ok(await alice.client.put(`${VERSIONS}/${version}`, { algorithm: ALGORITHM, auth_data: authData('pk-new') }))).toEqual({});
    ok(await alice.client.put(`${VERSIONS}/${version}`, { algorithm: ALGORITHM, auth_data: authData('pk-newer'), version }));
    expect(await versionInfo(alice, version)).toEqual({ ...before, auth_data: authData('pk-newer') });
  });

  it.each([
    ['another algorithm', (v: string) => ({ algorithm: 'm.megolm_backup.v2', auth_data: authData('x'), version: v }), 'M_INVALID_PARAM'],
    [
      'another version in the body',
      (v: string) => ({ algorithm: ALGORITHM, auth_data: authData('x'), version: `${v}0` }),
      'M_INVALID_PARAM',
    ],
    ['no auth_data', () => ({ algorithm: ALGORITHM }), 'M_MISSING_PARAM'],
    ['auth_data that is not an object', () => ({ algorithm: ALGORITHM, auth_data: 'x' }), 'M_BAD_JSON'],
    ['a version that is not a string', () => ({ algorithm: ALGORITHM, auth_data: authData('x'), version: 1 }), 'M_BAD_JSON'],
  ])('refuses an update with %s, changing nothing', async (_name, body, errcode) => {
    const version = await newBackup(alice, 'pk-kept');
    const rows = await backupRows(alice);
    const reply = await alice.client.put(`${VERSIONS}/${version}`, body(version));
    expectMatrixError(reply, 400, errcode);
    if (errcode === 'M_INVALID_PARAM') expectMatchesSpec(SPEC, '/room_keys/version/{version}', 'PUT', 400, reply.body);
    expect(await backupRows(alice)).toEqual(rows);
    expect((await versionInfo(alice, version)).auth_data).toEqual(authData('pk-kept'));
  });

  it('answers 404 for a version that does not exist', async () => {
    for (const version of ['999999', 'abc', '0', '01']) {
      const get = await alice.client.get(`${VERSIONS}/${version}`);
      expectMatrixError(get, 404, 'M_NOT_FOUND');
      expectMatchesSpec(SPEC, '/room_keys/version/{version}', 'GET', 404, get.body);
      expectMatrixError(await alice.client.put(`${VERSIONS}/${version}`, { algorithm: ALGORITHM, auth_data: {} }), 404, 'M_NOT_FOUND');
      expectMatrixError(await alice.client.delete(`${VERSIONS}/${version}`), 404, 'M_NOT_FOUND');
    }
  });

  it('deletes a version with its keys; deleting it again succeeds; its number is not reused', async () => {
    const older = await newBackup(bob);
    const version = await newBackup(bob);
    ok(await putSession(bob, version, 's1', keyData('a')));
    ok(await putSession(bob, version, 's2', keyData('b')));
    const before = await backupRows(bob);

    const reply = await bob.client.delete(`${VERSIONS}/${version}`);
    expectMatchesSpec(SPEC, '/room_keys/version/{version}', 'DELETE', 200, ok(reply));
    expect(await backupRows(bob)).toMatchObject({ versions: before.versions, sessions: before.sessions - 2 });
    expectMatrixError(await bob.client.get(`${VERSIONS}/${version}`), 404, 'M_NOT_FOUND');
    expectMatrixError(await bob.client.get(keysPath(version)), 404, 'M_NOT_FOUND');
    expectMatrixError(await bob.client.put(`${VERSIONS}/${version}`, { algorithm: ALGORITHM, auth_data: {} }), 404, 'M_NOT_FOUND');
    expectMatrixError(await putSession(bob, version, 's3', keyData('c')), 404, 'M_NOT_FOUND');
    expect(ok(await bob.client.delete(`${VERSIONS}/${version}`))).toEqual({});

    // The newest version left is current again; a new backup takes a number never used.
    expect(ok(await bob.client.get(VERSIONS)).version).toBe(older);
    expect(Number(await newBackup(bob))).toBe(Number(version) + 1);
  });

  it.each([
    ['no algorithm', { auth_data: {} }, 'M_MISSING_PARAM'],
    ['no auth_data', { algorithm: ALGORITHM }, 'M_MISSING_PARAM'],
    ['an algorithm that is not a string', { algorithm: 5, auth_data: {} }, 'M_BAD_JSON'],
    ['auth_data that is an array', { algorithm: ALGORITHM, auth_data: [] }, 'M_BAD_JSON'],
  ])('refuses to create a backup with %s', async (_name, body, errcode) => {
    const rows = await backupRows(alice);
    expectMatrixError(await alice.client.post(VERSIONS, body), 400, errcode);
    expect(await backupRows(alice)).toEqual(rows);
  });

  it('needs an access token', async () => {
    expectMatrixError(await alice.client.get(VERSIONS, { token: null }), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await alice.client.post(VERSIONS, { algorithm: ALGORITHM, auth_data: {} }, { token: null }), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await alice.client.get(keysPath('1'), { token: null }), 401, 'M_MISSING_TOKEN');
  });
});

describe('backed-up keys', () => {
  it('stores and returns keys at all three levels', async () => {
    const version = await newBackup(alice);
    // Megolm session ids are base64: '/' and '+' must survive the path.
    const odd = 'ab/cd+ef';
    const one = ok(await putSession(alice, version, odd, keyData('one', 3, 1, true)));
    expectMatchesSpec(SPEC, '/room_keys/keys/{roomId}/{sessionId}', 'PUT', 200, one);
    expect(one).toMatchObject({ count: 1, etag: expect.any(String) });

    const room = ok(await alice.client.put(keysPath(version, ROOM), { sessions: { s2: keyData('two'), s3: keyData('three') } }));
    expectMatchesSpec(SPEC, '/room_keys/keys/{roomId}', 'PUT', 200, room);
    expect(room.count).toBe(3);

    const all = ok(await alice.client.put(keysPath(version), { rooms: { [OTHER_ROOM]: { sessions: { s4: keyData('four') } } } }));
    expectMatchesSpec(SPEC, '/room_keys/keys', 'PUT', 200, all);
    expect(all.count).toBe(4);

    const everything = ok(await alice.client.get(keysPath(version)));
    expectMatchesSpec(SPEC, '/room_keys/keys', 'GET', 200, everything);
    expect(everything).toEqual({
      rooms: {
        [ROOM]: { sessions: { [odd]: keyData('one', 3, 1, true), s2: keyData('two'), s3: keyData('three') } },
        [OTHER_ROOM]: { sessions: { s4: keyData('four') } },
      },
    });
    const roomKeys = ok(await alice.client.get(keysPath(version, OTHER_ROOM)));
    expectMatchesSpec(SPEC, '/room_keys/keys/{roomId}', 'GET', 200, roomKeys);
    expect(roomKeys).toEqual({ sessions: { s4: keyData('four') } });
    const session = ok(await alice.client.get(keysPath(version, ROOM, odd)));
    expectMatchesSpec(SPEC, '/room_keys/keys/{roomId}/{sessionId}', 'GET', 200, session);
    expect(session).toEqual(keyData('one', 3, 1, true));
    expect(await versionInfo(alice, version)).toMatchObject({ count: 4, etag: all.etag });
  });

  it('answers an empty map for a room or backup without keys, and 404 for a missing session', async () => {
    const version = await newBackup(alice);
    expect(ok(await alice.client.get(keysPath(version)))).toEqual({ rooms: {} });
    ok(await putSession(alice, version, 's1', keyData('a')));
    expect(ok(await alice.client.get(keysPath(version, '!empty:localhost')))).toEqual({ sessions: {} });
    const missing = await alice.client.get(keysPath(version, ROOM, 'nope'));
    expectMatrixError(missing, 404, 'M_NOT_FOUND');
    expectMatchesSpec(SPEC, '/room_keys/keys/{roomId}/{sessionId}', 'GET', 404, missing.body);
    expectMatrixError(await alice.client.get(keysPath(version, '!empty:localhost', 's1')), 404, 'M_NOT_FOUND');
  });

  // [name, stored, uploaded, whether the upload replaces the stored key]
  it.each([
    ['a verified key replaces an unverified one', keyData('old', 0, 0, false), keyData('new', 5, 5, true), true],
    ['an unverified key does not replace a verified one', keyData('old', 5, 5, true), keyData('new', 0, 0, false), false],
    ['a lower first_message_index replaces', keyData('old', 5, 0), keyData('new', 4, 9), true],
    ['a higher first_message_index does not', keyData('old', 4, 9), keyData('new', 5, 0), false],
    ['a lower forwarded_count at the same index replaces', keyData('old', 3, 2), keyData('new', 3, 1), true],
    ['a higher forwarded_count at the same index does not', keyData('old', 3, 1), keyData('new', 3, 2), false],
    ['an equal key does not', keyData('old', 3, 1, true), keyData('new', 3, 1, true), false],
  ])('%s', async (_name, stored, uploaded, replaces) => {
    const version = await newBackup(alice);
    const first = ok(await putSession(alice, version, 's', stored));
    const second = ok(await putSession(alice, version, 's', uploaded));
    expect(ok(await alice.client.get(keysPath(version, ROOM, 's')))).toEqual(replaces ? uploaded : stored);
    expect(second.count).toBe(1);
    // The etag moves exactly when the stored keys change.
    if (replaces) expect(second.etag).not.toBe(first.etag);
    else expect(second.etag).toBe(first.etag);
    expect(await versionInfo(alice, version)).toMatchObject({ count: 1, etag: second.etag });
  });

  it('changes the etag and count as keys are added and deleted', async () => {
    const version = await newBackup(alice);
    const empty = await versionInfo(alice, version);
    const a = ok(await putSession(alice, version, 'a', keyData('a')));
    const b = ok(await putSession(alice, version, 'b', keyData('b')));
    const c = ok(await putSession(alice, version, 'c', keyData('c'), OTHER_ROOM));
    expect([a.count, b.count, c.count]).toEqual([1, 2, 3]);
    expect(new Set([empty.etag, a.etag, b.etag, c.etag]).size).toBe(4);

    const gone = ok(await alice.client.delete(keysPath(version, ROOM, 'a')));
    expectMatchesSpec(SPEC, '/room_keys/keys/{roomId}/{sessionId}', 'DELETE', 200, gone);
    expect(gone.count).toBe(2);
    expect(gone.etag).not.toBe(c.etag);
    // Deleting what is not there changes nothing.
    expect(ok(await alice.client.delete(keysPath(version, ROOM, 'a')))).toEqual(gone);

    const room = ok(await alice.client.delete(keysPath(version, ROOM)));
    expectMatchesSpec(SPEC, '/room_keys/keys/{roomId}', 'DELETE', 200, room);
    expect(room.count).toBe(1);
    expect(room.etag).not.toBe(gone.etag);
    expect(ok(await alice.client.get(keysPath(version)))).toEqual({ rooms: { [OTHER_ROOM]: { sessions: { c: keyData('c') } } } });

    const all = ok(await alice.client.delete(keysPath(version)));
    expectMatchesSpec(SPEC, '/room_keys/keys', 'DELETE', 200, all);
    expect(all.count).toBe(0);
    expect(ok(await alice.client.get(keysPath(version)))).toEqual({ rooms: {} });
    expect(await versionInfo(alice, version)).toMatchObject({ count: 0, etag: all.etag });
  });

  it('refuses writes to a version that is no longer current, naming the current one', async () => {
    const old = await newBackup(alice);
    ok(await putSession(alice, old, 'kept', keyData('kept')));
    const current = await newBackup(alice);
    const rows = await backupRows(alice);
    const oldInfo = await versionInfo(alice, old);

    const replies = [
      [await putSession(alice, old, 's', keyData('x')), '/room_keys/keys/{roomId}/{sessionId}'],
      [await alice.client.put(keysPath(old, ROOM), { sessions: { s: keyData('x') } }), '/room_keys/keys/{roomId}'],
      [await alice.client.put(keysPath(old), { rooms: { [ROOM]: { sessions: { s: keyData('x') } } } }), '/room_keys/keys'],
    ] as const;
    for (const [reply, path] of replies) {
      expectMatrixError(reply, 403, 'M_WRONG_ROOM_KEYS_VERSION');
      expect(reply.body.current_version).toBe(current);
      expectMatchesSpec(SPEC, path, 'PUT', 403, reply.body);
    }
    expect(await backupRows(alice)).toEqual(rows);
    // The old version can still be read.
    expect(await versionInfo(alice, old)).toEqual(oldInfo);
    expect(ok(await alice.client.get(keysPath(old, ROOM, 'kept')))).toEqual(keyData('kept'));
  });

  it('answers 404 for keys of a version that does not exist', async () => {
    await newBackup(alice);
    const put = await alice.client.put(keysPath('999999'), { rooms: {} });
    expectMatrixError(put, 404, 'M_NOT_FOUND');
    expectMatchesSpec(SPEC, '/room_keys/keys', 'PUT', 404, put.body);
    expectMatrixError(await alice.client.get(keysPath('999999', ROOM)), 404, 'M_NOT_FOUND');
    expectMatrixError(await alice.client.delete(keysPath('nonsense', ROOM, 's')), 404, 'M_NOT_FOUND');
  });

  it('keeps one count and every etag bump when uploads of one session race', async () => {
    const version = await newBackup(alice);
    // Each upload beats the one before it; whichever order they land in, the best one ends up stored.
    const uploads = Array.from({ length: 12 }, (_, i) => keyData(`race-${i}`, 100 - i));
    const replies = await Promise.all(uploads.map((k) => putSession(alice, version, 'raced', k)));
    for (const r of replies) expect(ok(r).count).toBe(1);
    expect(ok(await alice.client.get(keysPath(version, ROOM, 'raced')))).toEqual(uploads.at(-1));
    const distinct = await Promise.all(Array.from({ length: 12 }, (_, i) => putSession(alice, version, `d${i}`, keyData(`d${i}`))));
    expect(new Set(distinct.map((r) => ok(r).etag)).size).toBe(12);
    expect((await versionInfo(alice, version)).count).toBe(13);
    const [row] = await hs.hs.db.sql<{ n: number }[]>`
      select count(*)::int as n from key_backup_sessions where user_id = ${alice.userId} and version = ${Number(version)}`;
    expect(row!.n).toBe(13);
  });
});

describe('one user’s backup is theirs alone', () => {
  it('is neither visible to nor writable by another user', async () => {
    const version = await newBackup(alice, 'pk-private');
    ok(await putSession(alice, version, 'secret', keyData('secret')));
    const rows = await backupRows(alice);

    expectMatrixError(await mallory.client.get(VERSIONS), 404, 'M_NOT_FOUND');
    expectMatrixError(await mallory.client.get(`${VERSIONS}/${version}`), 404, 'M_NOT_FOUND');
    expectMatrixError(await mallory.client.get(keysPath(version)), 404, 'M_NOT_FOUND');
    expectMatrixError(await mallory.client.get(keysPath(version, ROOM, 'secret')), 404, 'M_NOT_FOUND');
    expectMatrixError(await putSession(mallory, version, 'secret', keyData('forged', 0, 0, true)), 404, 'M_NOT_FOUND');
    expectMatrixError(await mallory.client.delete(keysPath(version)), 404, 'M_NOT_FOUND');
    expectMatrixError(
      await mallory.client.put(`${VERSIONS}/${version}`, { algorithm: ALGORITHM, auth_data: authData('forged') }),
      404,
      'M_NOT_FOUND',
    );
    expectMatrixError(await mallory.client.delete(`${VERSIONS}/${version}`), 404, 'M_NOT_FOUND');

    // Versions are numbered per user: mallory's first is "1", and holds none of alice's keys.
    const own = await newBackup(mallory);
    expect(own).toBe('1');
    expect(ok(await mallory.client.get(keysPath(own)))).toEqual({ rooms: {} });
    expect(await backupRows(alice)).toEqual(rows);
    expect(ok(await alice.client.get(keysPath(version, ROOM, 'secret')))).toEqual(keyData('secret'));
  });
});

describe('bad key uploads', () => {
  it('needs the version parameter on every keys endpoint', async () => {
    await newBackup(alice);
    for (const path of [KEYS, `${KEYS}/${enc(ROOM)}`, `${KEYS}/${enc(ROOM)}/s`]) {
      expectMatrixError(await alice.client.get(path), 400, 'M_MISSING_PARAM');
      expectMatrixError(await alice.client.delete(path), 400, 'M_MISSING_PARAM');
    }
    const rows = await backupRows(alice);
    expectMatrixError(await alice.client.put(`${KEYS}/${enc(ROOM)}/s`, keyData('x')), 400, 'M_MISSING_PARAM');
    expectMatrixError(await alice.client.put(`${KEYS}?version=`, { rooms: {} }), 400, 'M_MISSING_PARAM');
    expect(await backupRows(alice)).toEqual(rows);
  });

  it.each([
    ['first_message_index as a string', { ...keyData('x'), first_message_index: '1' }, 'M_BAD_JSON'],
    ['a negative forwarded_count', { ...keyData('x'), forwarded_count: -1 }, 'M_BAD_JSON'],
    ['a fractional first_message_index', { ...keyData('x'), first_message_index: 1.5 }, 'M_BAD_JSON'],
    ['is_verified missing', { first_message_index: 0, forwarded_count: 0, session_data: {} }, 'M_MISSING_PARAM'],
    ['session_data that is a string', { ...keyData('x'), session_data: 'ciphertext' }, 'M_BAD_JSON'],
  ])('refuses a key with %s, storing nothing of the upload', async (_name, bad, errcode) => {
    const version = await newBackup(alice);
    const before = await versionInfo(alice, version);
    const rows = await backupRows(alice);
    // The good key beside the bad one is not stored either.
    const body = { rooms: { [ROOM]: { sessions: { good: keyData('good'), bad } } } };
    expectMatrixError(await alice.client.put(keysPath(version), body), 400, errcode);
    expectMatrixError(await alice.client.put(keysPath(version, ROOM), body.rooms[ROOM]), 400, errcode);
    expectMatrixError(await putSession(alice, version, 'bad', bad), 400, errcode);
    expect(await backupRows(alice)).toEqual(rows);
    expect(await versionInfo(alice, version)).toEqual(before);
  });

  it.each([
    ['no rooms', {}, 'M_MISSING_PARAM'],
    ['rooms that is an array', { rooms: [] }, 'M_BAD_JSON'],
    ['a room without sessions', { rooms: { [ROOM]: {} } }, 'M_MISSING_PARAM'],
    ['a room id past 255 bytes', { rooms: { [`!${'r'.repeat(255)}:localhost`]: { sessions: {} } } }, 'M_BAD_JSON'],
  ])('refuses an upload of all keys with %s', async (_name, body, errcode) => {
    const version = await newBackup(alice);
    const rows = await backupRows(alice);
    expectMatrixError(await alice.client.put(keysPath(version), body), 400, errcode);
    expect(await backupRows(alice)).toEqual(rows);
  });

  it('refuses a body that is not JSON, and an over-long room id in the path', async () => {
    const version = await newBackup(alice);
    const rows = await backupRows(alice);
    const notJson = await alice.client.request('PUT', keysPath(version, ROOM, 's'), undefined, { raw: '{nope' });
    expectMatrixError(notJson, 400, 'M_NOT_JSON');
    expectMatrixError(await putSession(alice, version, 's', keyData('x'), `!${'r'.repeat(300)}`), 400, 'M_INVALID_PARAM');
    expect(await backupRows(alice)).toEqual(rows);
  });
});
