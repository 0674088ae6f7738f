import { describe, expect, it } from 'vitest';
import type { JsonObject, Pdu } from './pdu.ts';
import { ROOM_VERSIONS, type RoomVersion } from '../room-versions.ts';
import { decodeBase64 } from './base64.ts';
import type { PduDraft } from './event-json.ts';
import { checkContentHash, computeContentHash, computeEventId, roomIdFromCreateEvent } from './hashes.ts';
import { redactEvent, redactJson } from './redaction.ts';
import { addEventSignature, hashAndSignEvent, hashAndSignEventJson, signEventJson, verifyEventSignature } from './sign-event.ts';
import { verifyJsonSignature } from './signing.ts';
import { generateSigningKey, publicKeyBase64, signingKeyFromSeed } from './signing-key.ts';

function version(id: string): RoomVersion {
  const v = ROOM_VERSIONS.get(id);
  if (!v) throw new Error(`no room version ${id}`);
  return v;
}
const V10 = version('10');
const V11 = version('11');
const V12 = version('12');
const ALL = [V10, V11, V12];

// Spec appendix "Cryptographic Test Vectors".
const specKey = signingKeyFromSeed(decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'), 'ed25519:1');

describe('hashAndSignEventJson: spec appendix event signing vectors', () => {
  // The vectors predate v11: their signatures are over the event redacted with
  // the v1-v10 rules (which keep `origin`), so they reproduce under v10 rules.
  const cases: Array<[name: string, input: JsonObject, expected: JsonObject]> = [
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
      {
        auth_events: [],
        content: {},
        depth: 3,
        hashes: { sha256: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos' },
        origin: 'domain',
        origin_server_ts: 1000000,
        prev_events: [],
        room_id: '!x:domain',
        sender: '@a:domain',
        signatures: {
          domain: {
            'ed25519:1': 'KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg',
          },
        },
        type: 'X',
        unsigned: { age_ts: 1000000 },
      },
    ],
    [
      'event with redactable content',
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
      {
        content: { body: 'Here is the message content' },
        event_id: '$0:domain',
        hashes: { sha256: 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g' },
        origin: 'domain',
        origin_server_ts: 1000000,
        type: 'm.room.message',
        room_id: '!r:domain',
        sender: '@u:domain',
        signatures: {
          domain: {
            'ed25519:1': 'Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA',
          },
        },
        unsigned: { age_ts: 1000000 },
      },
    ],
  ];

  it.each(cases)('%s', (_name, input, expected) => {
    const signed = hashAndSignEventJson(input, V10, 'domain', specKey);
    expect(signed).toEqual(expected);
    // Verification per spec: redact, then check the signature.
    expect(verifyJsonSignature(redactJson(signed, V10), 'domain', 'ed25519:1', publicKeyBase64(specKey))).toBe(true);
  });

  it('v11 redaction drops origin, so the first vector signs differently there', () => {
    const [, input, expected] = cases[0] ?? [];
    if (!input || !expected) throw new Error('missing vector');
    const v11 = hashAndSignEventJson(input, V11, 'domain', specKey);
    expect(v11.hashes).toEqual(expected['hashes']);
    expect(v11.signatures).not.toEqual(expected['signatures']);
  });

  it('signEventJson does not touch hashes', () => {
    expect(signEventJson({ type: 'X', content: {} }, V11, 'domain', specKey)).not.toHaveProperty('hashes');
  });
});

const SERVER = 'example.org';
const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'ed25519:a_test');
const pub = publicKeyBase64(key);

function draftFor(v: RoomVersion): PduDraft {
  return {
    room_id: v.roomIdFromCreateEvent ? '!roomhash' : '!r:example.org',
    sender: '@alice:example.org',
    type: 'm.room.message',
    content: { msgtype: 'm.text', body: 'hello' },
    origin_server_ts: 1700000000000,
    depth: 4,
    prev_events: ['$prev'],
    auth_events: ['$pl', '$member'],
  };
}

describe.each(ALL.map((v) => [v.id, v] as const))('hashAndSignEvent in room version %s', (_id, v) => {
  const draft = draftFor(v);
  const pdu = hashAndSignEvent(draft, v, SERVER, key);

  it('produces hashes, signatures and event_id consistent with the standalone functions', () => {
    expect(pdu.hashes).toEqual({ sha256: computeContentHash(draft) });
    expect(pdu.event_id).toBe(computeEventId(pdu, v));
    expect(Object.keys(pdu.signatures)).toEqual([SERVER]);
    expect(Object.keys(pdu.signatures[SERVER] ?? {})).toEqual([key.keyId]);
    expect(pdu.content).toEqual(draft.content);
  });

  it('round-trips: signature and content hash both verify', () => {
    expect(verifyEventSignature(pdu, v, SERVER, key.keyId, pub)).toBe(true);
    expect(checkContentHash(pdu)).toBe(true);
  });

  it('survives a JSON round trip (as sent over federation)', () => {
    const received = JSON.parse(JSON.stringify(pdu)) as Pdu;
    expect(verifyEventSignature(received, v, SERVER, key.keyId, pub)).toBe(true);
    expect(checkContentHash(received)).toBe(true);
    expect(computeEventId(received, v)).toBe(pdu.event_id);
  });

  it('tampered content: signature still verifies but the content hash check fails', () => {
    const tampered: Pdu = { ...pdu, content: { msgtype: 'm.text', body: 'evil' } };
    expect(verifyEventSignature(tampered, v, SERVER, key.keyId, pub)).toBe(true);
    expect(checkContentHash(tampered)).toBe(false);
  });

  it('redacted copy: signature verifies, content hash fails, event id unchanged', () => {
    const redacted = redactEvent(pdu, v);
    expect(verifyEventSignature(redacted, v, SERVER, key.keyId, pub)).toBe(true);
    expect(checkContentHash(redacted)).toBe(false);
    expect(computeEventId(redacted, v)).toBe(pdu.event_id);
  });

  const brokenSignature: Array<[name: string, change: (p: Pdu) => Pdu]> = [
    ['sender changed', (p) => ({ ...p, sender: '@mallory:example.org' })],
    ['depth changed', (p) => ({ ...p, depth: p.depth + 1 })],
    ['prev_events changed', (p) => ({ ...p, prev_events: [] })],
    ['hashes changed', (p) => ({ ...p, hashes: { sha256: computeContentHash({ ...p, content: {} }) } })],
    ['state_key added', (p) => ({ ...p, state_key: '' })],
  ];
  it.each(brokenSignature)('signature fails when %s', (_name, change) => {
    expect(verifyEventSignature(change(pdu), v, SERVER, key.keyId, pub)).toBe(false);
  });

  it('signature fails for another server name or key', () => {
    expect(verifyEventSignature(pdu, v, 'other.org', key.keyId, pub)).toBe(false);
    expect(verifyEventSignature(pdu, v, SERVER, key.keyId, publicKeyBase64(generateSigningKey()))).toBe(false);
  });

  it('does not modify the draft, and replaces a stale event_id and hashes', () => {
    const snapshot = structuredClone(draft);
    hashAndSignEvent(draft, v, SERVER, key);
    expect(draft).toEqual(snapshot);
    const stale = hashAndSignEvent({ ...draft, event_id: '$stale', hashes: { sha256: 'stale' } }, v, SERVER, key);
    expect(stale).toEqual(pdu);
  });

  it('addEventSignature co-signs without changing hashes or event id', () => {
    const resident = generateSigningKey();
    const cosigned = addEventSignature(pdu, v, 'resident.example', resident);
    expect(cosigned.signatures[SERVER]).toEqual(pdu.signatures[SERVER]);
    expect(cosigned.hashes).toEqual(pdu.hashes);
    expect(computeEventId(cosigned, v)).toBe(pdu.event_id);
    expect(verifyEventSignature(cosigned, v, SERVER, key.keyId, pub)).toBe(true);
    expect(verifyEventSignature(cosigned, v, 'resident.example', resident.keyId, publicKeyBase64(resident))).toBe(true);
  });
});

describe('origin is covered by the signature only before v11', () => {
  const cases: Array<[id: string, v: RoomVersion, stillVerifies: boolean]> = [
    ['10', V10, false],
    ['11', V11, true],
    ['12', V12, true],
  ];
  it.each(cases)('room version %s', (_id, v, stillVerifies) => {
    const pdu = hashAndSignEvent({ ...draftFor(v), origin: SERVER }, v, SERVER, key);
    const changed: Pdu = { ...pdu, origin: 'elsewhere.org' };
    expect(verifyEventSignature(changed, v, SERVER, key.keyId, pub)).toBe(stillVerifies);
    // The content hash covers every key, so it catches the change either way.
    expect(checkContentHash(changed)).toBe(false);
  });
});

describe('v12 create event', () => {
  it('signs without a room_id and yields the room id from its reference hash', () => {
    const create = hashAndSignEvent(
      {
        sender: '@alice:example.org',
        type: 'm.room.create',
        state_key: '',
        content: { room_version: '12' },
        origin_server_ts: 1700000000000,
        depth: 1,
        prev_events: [],
        auth_events: [],
      },
      V12,
      SERVER,
      key,
    );
    expect(create).not.toHaveProperty('room_id');
    expect(verifyEventSignature(create, V12, SERVER, key.keyId, pub)).toBe(true);
    expect(roomIdFromCreateEvent(create, V12)).toBe(`!${create.event_id.slice(1)}`);
  });
});

describe('event ids of room versions 1-4', () => {
  const V1 = version('1');
  const V2 = version('2');
  const V3 = version('3');
  const V4 = version('4');

  it('v3 uses standard base64 of the reference hash and v4 the URL-safe alphabet of the same bytes', () => {
    // Search a few drafts for one whose hash needs '+' or '/', so the alphabets differ visibly.
    for (let i = 0; i < 64; i++) {
      const draft = { ...draftFor(V3), depth: i };
      const hashed = { ...draft, hashes: { sha256: computeContentHash(draft) } };
      const v3 = computeEventId(hashed, V3);
      const v4 = computeEventId(hashed, V4);
      expect(v3).toMatch(/^\$[A-Za-z0-9+/]{43}$/);
      expect(v4).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
      expect(v4).toBe(v3.replaceAll('+', '-').replaceAll('/', '_'));
      if (v3 !== v4) return;
    }
    throw new Error('no draft produced an id with + or /');
  });

  describe.each([
    ['1', V1],
    ['2', V2],
  ] as const)('v%s', (_id, v) => {
    const draft = draftFor(v);

    it('ids are $opaque:server, chosen by the sender, and not derivable', () => {
      const a = hashAndSignEvent(draft, v, SERVER, key);
      const b = hashAndSignEvent(draft, v, SERVER, key);
      expect(a.event_id).toMatch(/^\$[A-Za-z0-9_-]+:example\.org$/);
      expect(a.event_id).not.toBe(b.event_id);
      expect(() => computeEventId(a, v)).toThrow(/chosen by the sender/);
    });

    it('a draft event_id is kept, and it is hashed and signed with the event', () => {
      const pdu = hashAndSignEvent({ ...draft, event_id: '$given:example.org' }, v, SERVER, key);
      expect(pdu.event_id).toBe('$given:example.org');
      expect(checkContentHash(pdu, v)).toBe(true);
      expect(verifyEventSignature(pdu, v, SERVER, key.keyId, pub)).toBe(true);
      const renamed = { ...pdu, event_id: '$other:example.org' };
      expect(checkContentHash(renamed, v)).toBe(false);
      expect(verifyEventSignature(renamed, v, SERVER, key.keyId, pub)).toBe(false);
    });
  });
});
