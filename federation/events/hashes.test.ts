import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from './pdu.ts';
import { ROOM_VERSIONS, type RoomVersion } from '../room-versions.ts';
import { encodeBase64 } from './base64.ts';
import type { HashedPdu, PduDraft } from './event-json.ts';
import {
  EventFormatError,
  checkContentHash,
  computeContentHash,
  computeEventId,
  computeReferenceHash,
  contentHashOfJson,
  referenceHashOfJson,
  roomIdFromCreateEvent,
} from './hashes.ts';

function version(id: string): RoomVersion {
  const v = ROOM_VERSIONS.get(id);
  if (!v) throw new Error(`no room version ${id}`);
  return v;
}
const V10 = version('10');
const V11 = version('11');
const V12 = version('12');

const sha256Base64 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('base64').replace(/=+$/, '');
const sha256UrlSafe = (text: string): string => createHash('sha256').update(text, 'utf8').digest('base64url');

describe('contentHashOfJson: spec appendix event signing vectors', () => {
  const cases: Array<[name: string, event: JsonObject, expected: string]> = [
    [
      'minimal event',
      {
        room_id: '!x:domain',
        sender: '@a:domain',
        origin: 'domain',
        origin_server_ts: 1000000,
        signatures: {},
        hashes: {},
        type: 'X',
        content: {},
        prev_events: [],
        auth_events: [],
        depth: 3,
        unsigned: { age_ts: 1000000 },
      },
      '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos',
    ],
    [
      'event with redactable content (event_id is hashed as given)',
      {
        content: { body: 'Here is the message content' },
        event_id: '$0:domain',
        origin: 'domain',
        origin_server_ts: 1000000,
        type: 'm.room.message',
        room_id: '!r:domain',
        sender: '@u:domain',
        signatures: {},
        unsigned: { age_ts: 1000000 },
      },
      'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g',
    ],
  ];
  it.each(cases)('%s', (_name, event, expected) => {
    expect(encodeBase64(contentHashOfJson(event))).toBe(expected);
  });
});

const draft: PduDraft = {
  room_id: '!r:example.org',
  sender: '@alice:example.org',
  type: 'm.room.message',
  content: { msgtype: 'm.text', body: 'hello' },
  origin_server_ts: 1700000000000,
  depth: 7,
  prev_events: ['$prev'],
  auth_events: ['$create', '$pl', '$member'],
};
/** The same draft written out by hand as canonical JSON, to hash independently. */
const draftCanonical =
  '{"auth_events":["$create","$pl","$member"],"content":{"body":"hello","msgtype":"m.text"},"depth":7,"origin_server_ts":1700000000000,"prev_events":["$prev"],"room_id":"!r:example.org","sender":"@alice:example.org","type":"m.room.message"}';

describe('computeContentHash', () => {
  it('is sha256 of the canonical JSON, unpadded base64', () => {
    expect(computeContentHash(draft)).toBe(sha256Base64(draftCanonical));
  });

  const unchanged: Array<[name: string, event: PduDraft]> = [
    ['event_id ignored (not part of the v10+ wire format)', { ...draft, event_id: '$whatever' }],
    ['unsigned ignored', { ...draft, unsigned: { age: 5 } }],
    ['signatures ignored', { ...draft, signatures: { 'example.org': { 'ed25519:1': 'x' } } }],
    ['hashes ignored', { ...draft, hashes: { sha256: 'old' } }],
    ['undefined optional fields ignored', { ...draft, state_key: undefined, origin: undefined }],
  ];
  it.each(unchanged)('%s', (_name, event) => {
    expect(computeContentHash(event)).toBe(computeContentHash(draft));
  });

  const changed: Array<[name: string, event: PduDraft]> = [
    ['content', { ...draft, content: { msgtype: 'm.text', body: 'hellp' } }],
    ['state_key', { ...draft, state_key: '' }],
    ['unknown top-level key', { ...draft, ...{ extra: 1 } }],
  ];
  it.each(changed)('covers %s', (_name, event) => {
    expect(computeContentHash(event)).not.toBe(computeContentHash(draft));
  });
});

describe('checkContentHash', () => {
  const good = computeContentHash(draft);
  const cases: Array<[name: string, event: PduDraft, ok: boolean]> = [
    ['matching hash', { ...draft, hashes: { sha256: good } }, true],
    ['matching hash, padded encoding', { ...draft, hashes: { sha256: `${good}=` } }, true],
    ['matching hash, unsigned changed', { ...draft, hashes: { sha256: good }, unsigned: { age: 1 } }, true],
    ['content tampered', { ...draft, hashes: { sha256: good }, content: { body: 'evil' } }, false],
    ['unknown key added', { ...draft, hashes: { sha256: good }, ...{ extra: true } }, false],
    ['no hashes', draft, false],
    ['hash not a string', { ...draft, hashes: { sha256: 5 as unknown as string } }, false],
    ['hash not base64', { ...draft, hashes: { sha256: '!!' } }, false],
    ['hash of something else', { ...draft, hashes: { sha256: sha256Base64('{}') } }, false],
  ];
  it.each(cases)('%s', (_name, event, ok) => {
    expect(checkContentHash(event)).toBe(ok);
  });
});

const hashed: HashedPdu = { ...draft, hashes: { sha256: 'Q29udGVudEhhc2g' } };

describe('computeReferenceHash and computeEventId', () => {
  it('hash the redacted event without signatures and unsigned', () => {
    const withExtras: HashedPdu = {
      ...hashed,
      event_id: '$ignored',
      signatures: { 'example.org': { 'ed25519:1': 'sig' } },
      unsigned: { age: 3 },
      origin: 'example.org',
    };
    // Redacted by hand: content emptied; v10 keeps origin, v11 drops it.
    const base = '"auth_events":["$create","$pl","$member"],"content":{},"depth":7,"hashes":{"sha256":"Q29udGVudEhhc2g"},';
    const rest =
      '"origin_server_ts":1700000000000,"prev_events":["$prev"],"room_id":"!r:example.org","sender":"@alice:example.org","type":"m.room.message"}';
    const v10Json = `{${base}"origin":"example.org",${rest}`;
    const v11Json = `{${base}${rest}`;
    expect(encodeBase64(computeReferenceHash(withExtras, V10))).toBe(sha256Base64(v10Json));
    expect(computeEventId(withExtras, V10)).toBe(`$${sha256UrlSafe(v10Json)}`);
    expect(computeEventId(withExtras, V11)).toBe(`$${sha256UrlSafe(v11Json)}`);
    expect(computeEventId(withExtras, V12)).toBe(`$${sha256UrlSafe(v11Json)}`);
  });

  it('produce a 44-character URL-safe id', () => {
    expect(computeEventId(hashed, V11)).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
  });

  const sameId: Array<[name: string, event: HashedPdu]> = [
    ['redactable content changed', { ...hashed, content: { body: 'different' } }],
    ['signatures added', { ...hashed, signatures: { x: { 'ed25519:1': 'y' } } }],
    ['unsigned added', { ...hashed, unsigned: { age: 1 } }],
    ['event_id set', { ...hashed, event_id: '$other' }],
    ['unprotected unknown key added', { ...hashed, ...{ extra: 1 } }],
  ];
  it.each(sameId)('ignore %s', (_name, event) => {
    expect(computeEventId(event, V11)).toBe(computeEventId(hashed, V11));
  });

  const member: HashedPdu = {
    ...hashed,
    type: 'm.room.member',
    state_key: '@alice:example.org',
    content: { membership: 'join' },
  };
  const differentId: Array<[name: string, a: HashedPdu, b: HashedPdu]> = [
    ['content hash', hashed, { ...hashed, hashes: { sha256: 'b3RoZXI' } }],
    ['sender', hashed, { ...hashed, sender: '@bob:example.org' }],
    ['depth', hashed, { ...hashed, depth: 8 }],
    ['prev_events', hashed, { ...hashed, prev_events: [] }],
    ['protected content', member, { ...member, content: { membership: 'leave' } }],
  ];
  it.each(differentId)('cover %s', (_name, a, b) => {
    expect(computeEventId(a, V11)).not.toBe(computeEventId(b, V11));
  });

  it('referenceHashOfJson hashes raw JSON without dropping event_id (for pre-v3 style vectors)', () => {
    expect(encodeBase64(referenceHashOfJson({ event_id: '$x', type: 't', content: { a: 1 } }, V10))).toBe(
      sha256Base64('{"content":{},"event_id":"$x","type":"t"}'),
    );
  });
});

describe('roomIdFromCreateEvent', () => {
  const create: HashedPdu = {
    sender: '@alice:example.org',
    type: 'm.room.create',
    state_key: '',
    content: { room_version: '12', additional_creators: ['@bob:example.org'] },
    origin_server_ts: 1700000000000,
    depth: 1,
    prev_events: [],
    auth_events: [],
    hashes: { sha256: 'Q29udGVudEhhc2g' },
  };
  const createCanonical =
    '{"auth_events":[],"content":{"additional_creators":["@bob:example.org"],"room_version":"12"},"depth":1,"hashes":{"sha256":"Q29udGVudEhhc2g"},"origin_server_ts":1700000000000,"prev_events":[],"sender":"@alice:example.org","state_key":"","type":"m.room.create"}';

  it('is the create event id with sigil "!"', () => {
    const roomId = roomIdFromCreateEvent(create, V12);
    expect(roomId).toBe(`!${sha256UrlSafe(createCanonical)}`);
    expect(roomId.slice(1)).toBe(computeEventId(create, V12).slice(1));
  });

  it('ignores signatures, unsigned and a carried event_id', () => {
    const decorated: HashedPdu = {
      ...create,
      event_id: '$x',
      signatures: { a: { 'ed25519:1': 'b' } },
      unsigned: { age: 1 },
    };
    expect(roomIdFromCreateEvent(decorated, V12)).toBe(roomIdFromCreateEvent(create, V12));
  });

  it('treats an explicitly undefined room_id as absent', () => {
    expect(roomIdFromCreateEvent({ ...create, room_id: undefined }, V12)).toBe(roomIdFromCreateEvent(create, V12));
  });

  const bad: Array<[name: string, event: HashedPdu, v: RoomVersion]> = [
    ['room version 11', create, V11],
    ['room version 10', create, V10],
    ['not a create event', { ...create, type: 'm.room.member' }, V12],
    ['create event with a room_id', { ...create, room_id: '!r:example.org' }, V12],
  ];
  it.each(bad)('rejects %s', (_name, event, v) => {
    expect(() => roomIdFromCreateEvent(event, v)).toThrow(EventFormatError);
  });
});
