import { request as httpRequest } from 'node:http';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Sql } from '../../server/db/database.ts';
import { expectMatrixError } from '../support/accounts.ts';
import type { Reply, TestUser } from '../support/client.ts';
import { CS, createRoom, enc, getState, newTxnId, ok, roomPath, sendText } from '../support/rooms.ts';
import { expectMatchesSchemaFile } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * Events a client must not be able to create: over the spec's size limits, not
 * representable as canonical JSON, or not JSON at all. Each is answered with a
 * Matrix error and leaves the room exactly as it was.
 */
const {
  hs,
  users: [alice, bob],
} = withHomeserver({ users: ['bi_alice', 'bi_bob'] });
let roomId: string;
beforeAll(async () => {
  roomId = await createRoom(alice, { preset: 'public_chat' });
});

interface RoomCounts {
  rooms: number;
  events: number;
  current_state: number;
  event_txns: number;
}
async function roomCounts(sql: Sql): Promise<RoomCounts> {
  const [row] = await sql<RoomCounts[]>`
    select (select count(*) from rooms)::int as rooms,
           (select count(*) from events)::int as events,
           (select count(*) from current_state)::int as current_state,
           (select count(*) from event_txns)::int as event_txns`;
  return row!;
}

let before: RoomCounts;
beforeEach(async () => {
  before = await roomCounts(hs.hs.db.sql);
});
afterEach(async () => {
  expect(await roomCounts(hs.hs.db.sql)).toEqual(before);
});

const bad = (r: Reply, status: number, errcode: string) => {
  expectMatrixError(r, status, errcode);
  expectMatchesSchemaFile('definitions/errors/error.yaml', r.body);
};
const sendPath = (type = 'm.room.message', txn = newTxnId()) => roomPath(roomId, `/send/${enc(type)}/${enc(txn)}`);
const statePath = (type: string, key = '') => roomPath(roomId, `/state/${enc(type)}/${enc(key)}`);

/** A request whose body is exactly these bytes. */
async function rawBytes(user: TestUser, method: string, path: string, body: BodyInit): Promise<Reply> {
  const res = await fetch(hs.url + path, {
    method,
    headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

describe('size limits: 255 bytes for type, state_key and ids, 65536 for the event', () => {
  const long = 'x'.repeat(300);

  it('a type over 255 bytes, sent or set as state', async () => {
    bad(await alice.client.put(sendPath(`org.example.${long}`), { body: 'x' }), 413, 'M_TOO_LARGE');
    bad(await alice.client.put(statePath(`org.example.${long}`), { a: 1 }), 413, 'M_TOO_LARGE');
    // Bytes, not characters: 128 two-byte characters are 256 bytes.
    bad(await alice.client.put(sendPath('é'.repeat(128)), { body: 'x' }), 413, 'M_TOO_LARGE');
  });

  it('a type of exactly 255 bytes is fine', async () => {
    const type = `org.example.${'t'.repeat(243)}`;
    expect(Buffer.byteLength(type)).toBe(255);
    ok(await alice.client.put(sendPath(type), { body: 'x' }));
    before = await roomCounts(hs.hs.db.sql);
  });

  it('a state key over 255 bytes', async () => {
    bad(await alice.client.put(statePath('org.example.state', long), { a: 1 }), 413, 'M_TOO_LARGE');
    expectMatrixError(await alice.client.get(statePath('org.example.state', long)), 404, 'M_NOT_FOUND');
  });

  it('an event over 65536 bytes of canonical JSON, counted in bytes', async () => {
    // 22,000 three-byte characters: 66,000 bytes, though only 22,000 UTF-16 units.
    bad(await alice.client.put(sendPath(), { msgtype: 'm.text', body: '€'.repeat(22_000) }), 413, 'M_TOO_LARGE');
    bad(await alice.client.put(statePath('org.example.big'), { blob: 'y'.repeat(66_000) }), 413, 'M_TOO_LARGE');
  });

  it.each(['invite', 'ban', 'kick', 'unban'])('%s of a user id over 255 bytes', async (action) => {
    const target = `@${'u'.repeat(290)}:localhost`;
    bad(await alice.client.post(roomPath(roomId, `/${action}`), { user_id: target }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await alice.client.get(statePath('m.room.member', target)), 404, 'M_NOT_FOUND');
  });

  it('a room id over 255 bytes in the path', async () => {
    const longRoom = `!${'r'.repeat(290)}:localhost`;
    bad(await alice.client.put(`${CS}/rooms/${enc(longRoom)}/send/m.room.message/${newTxnId()}`, { body: 'x' }), 400, 'M_INVALID_PARAM');
    bad(await alice.client.get(`${CS}/rooms/${enc(longRoom)}/state`), 400, 'M_INVALID_PARAM');
  });
});

describe('content that canonical JSON cannot represent is 400 M_BAD_JSON, not a 500', () => {
  it.each([
    ['a float', '{"msgtype": "m.text", "body": "x", "n": 1.5}'],
    ['an integer over 2^53-1', '{"msgtype": "m.text", "body": "x", "n": 9007199254740993}'],
    ['an integer under -(2^53-1)', '{"msgtype": "m.text", "body": "x", "n": [-9007199254740993]}'],
    ['an exponent that is not an integer', '{"msgtype": "m.text", "body": "x", "n": 1e-3}'],
    ['a lone high surrogate', '{"msgtype": "m.text", "body": "\\ud800"}'],
    ['a lone low surrogate in a key', '{"msgtype": "m.text", "body": "x", "\\udc00": 1}'],
    ['a NUL', '{"msgtype": "m.text", "body": "a\\u0000b"}'],
  ])('%s, sent or set as state', async (_what, text) => {
    bad(await rawBytes(alice, 'PUT', sendPath(), text), 400, 'M_BAD_JSON');
    bad(await rawBytes(alice, 'PUT', statePath('org.example.odd'), text), 400, 'M_BAD_JSON');
  });

  it('the largest safe integers are fine', async () => {
    const eventId = ok(
      await rawBytes(alice, 'PUT', statePath('org.example.ints'), '{"max": 9007199254740991, "min": -9007199254740991}'),
    ).event_id;
    expect(eventId).toMatch(/^\$/);
    expect(await getState(alice, roomId, 'org.example.ints')).toEqual({ max: Number.MAX_SAFE_INTEGER, min: -Number.MAX_SAFE_INTEGER });
    before = await roomCounts(hs.hs.db.sql);
  });

  it('a float in createRoom initial_state or creation_content creates no room', async () => {
    bad(
      await alice.client.post(`${CS}/createRoom`, { initial_state: [{ type: 'org.example.f', state_key: '', content: { n: 0.5 } }] }),
      400,
      'M_BAD_JSON',
    );
    bad(await alice.client.post(`${CS}/createRoom`, { creation_content: { n: 0.5 } }), 400, 'M_BAD_JSON');
    bad(await alice.client.post(`${CS}/createRoom`, { room_version: '12', creation_content: { n: 2 ** 60 } }), 400, 'M_BAD_JSON');
  });
});

describe('a body that is not JSON is 400 M_NOT_JSON', () => {
  it.each([
    ['empty', ''],
    ['only whitespace', ' \n'],
  ])('%s, sent or set as state', async (_what, text) => {
    bad(await rawBytes(alice, 'PUT', sendPath(), text), 400, 'M_NOT_JSON');
    bad(await rawBytes(alice, 'PUT', statePath('org.example.empty'), text), 400, 'M_NOT_JSON');
    expectMatrixError(await alice.client.get(statePath('org.example.empty')), 404, 'M_NOT_FOUND');
  });

  it('invalid UTF-8, sent or set as state', async () => {
    // {"body": "<0xff 0xfe>"}: bytes that are not UTF-8, which a lenient decoder stores as U+FFFD.
    const bytes = new Uint8Array([...Buffer.from('{"body": "'), 0xff, 0xfe, ...Buffer.from('"}')]);
    bad(await rawBytes(alice, 'PUT', sendPath(), bytes), 400, 'M_NOT_JSON');
    bad(await rawBytes(alice, 'PUT', statePath('org.example.utf8'), bytes), 400, 'M_NOT_JSON');
    // An encoded surrogate (CESU-8 style, ED A0 80) is not UTF-8 either.
    const cesu = new Uint8Array([...Buffer.from('{"body": "'), 0xed, 0xa0, 0x80, ...Buffer.from('"}')]);
    bad(await rawBytes(alice, 'PUT', sendPath(), cesu), 400, 'M_NOT_JSON');
  });

  it('an explicit empty object is still fine as state content', async () => {
    ok(await rawBytes(alice, 'PUT', statePath('org.example.emptyobj'), '{}'));
    expect(await getState(alice, roomId, 'org.example.emptyobj')).toEqual({});
    before = await roomCounts(hs.hs.db.sql);
  });
});

describe('malformed percent-encoding in a URL is 400, not read as something else', () => {
  it.each([
    ['a stray %', '%'],
    ['an encoded lone surrogate', '%ED%A0%80'],
    ['bytes that are not UTF-8', '%FF'],
  ])('%s in a state key', async (_what, key) => {
    const path = roomPath(roomId, `/state/org.example.pct/${key}`);
    bad(await alice.client.put(path, { a: 1 }), 400, 'M_INVALID_PARAM');
  });

  it('an encoded lone surrogate in an event type', async () => {
    bad(await alice.client.put(roomPath(roomId, `/send/org.example.%ED%B0%80/${newTxnId()}`), { body: 'x' }), 400, 'M_INVALID_PARAM');
  });
});

describe('/join decodes the room id or alias exactly once', () => {
  let aliased: string;
  beforeAll(async () => {
    aliased = await createRoom(alice, { preset: 'public_chat', room_alias_name: '50%off' });
    await createRoom(alice, { preset: 'public_chat', room_alias_name: 'a%23b' });
  });

  it('an alias with a literal % joins', async () => {
    const res = ok(await bob.client.post(`${CS}/join/${enc('#50%off:localhost')}`, {}));
    expect(res.room_id).toBe(aliased);
    before = await roomCounts(hs.hs.db.sql);
  });

  it('%2523 is a literal %23, not a #', async () => {
    // #a%23b exists; #a#b does not, and must not be what the server looks up.
    const literal = ok(await bob.client.post(`${CS}/join/${enc('#a%23b:localhost')}`, {}));
    expect(literal.room_id).toMatch(/^!/);
    before = await roomCounts(hs.hs.db.sql);
    bad(await bob.client.post(`${CS}/join/${enc('#a#b:localhost')}`, {}), 404, 'M_NOT_FOUND');
  });

  it.each([
    ['/join/%25', `${CS}/join/%25`],
    ['/join/%2525', `${CS}/join/%2525`],
    ['/join/%2521x', `${CS}/join/%2521x`],
    ['/rooms/%25/join', `${CS}/rooms/%25/join`],
  ])('%s is 400, not a 500', async (_what, path) => {
    bad(await bob.client.post(path, {}), 400, 'M_INVALID_PARAM');
  });

  it('/join/%23nothing%25:localhost is 404', async () => {
    bad(await bob.client.post(`${CS}/join/${enc('#nothing%:localhost')}`, {}), 404, 'M_NOT_FOUND');
  });
});

describe('an oversized URL gets a status, not a reset connection', () => {
  /**
   * node:http, so nothing client-side limits or rewrites the request line. Resolves with
   * the status and body once the whole response has been read; a reset before that rejects.
   */
  function rawGet(path: string): Promise<{ status: number; body: string }> {
    const url = new URL(hs.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path, method: 'GET', headers: { authorization: `Bearer ${alice.accessToken}` } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it.each([
    ['a 100 KB path', `${CS}/rooms/${'a'.repeat(100_000)}/state`],
    ['a 100 KB query', `${CS}/sync?filter=${'b'.repeat(100_000)}`],
    ['a 1 MB path', `${CS}/rooms/${'c'.repeat(1_000_000)}/state`],
  ])('%s, ten times over', async (_what, path) => {
    // The reset was a race (the socket destroyed with the request still unread), so try it often.
    const replies = await Promise.all(Array.from({ length: 10 }, () => rawGet(path)));
    for (const r of replies) {
      expect([414, 431]).toContain(r.status);
      expect(JSON.parse(r.body)).toMatchObject({ errcode: 'M_TOO_LARGE' });
    }
  });

  it('the server still answers afterwards', async () => {
    await sendText(alice, roomId, 'still here');
    before = await roomCounts(hs.hs.db.sql);
  });
});
