import { describe, expect, it } from 'vitest';
import type { PduDraft } from './event-json.ts';
import type { JsonObject } from './pdu.ts';
import { MAX_PDU_BYTES, describePduLimitProblem, pduLimitProblem, type PduLimitProblem } from './pdu-limits.ts';

const base: PduDraft = {
  room_id: '!room:example.org',
  sender: '@alice:example.org',
  type: 'm.room.message',
  content: { msgtype: 'm.text', body: 'hi' },
  origin_server_ts: 1_700_000_000_000,
  depth: 3,
  prev_events: ['$prev'],
  auth_events: ['$create'],
};
const with_ = (over: Partial<PduDraft>): PduDraft => ({ ...base, ...over });
const content = (c: Record<string, unknown>): PduDraft => with_({ content: c as JsonObject });
/** Bytes of `base` as canonical JSON with an empty body, so a body can be sized to land on the limit. */
const baseBytes = Buffer.byteLength(JSON.stringify({ ...base, content: { body: '', msgtype: 'm.text' } }));
// JSON.stringify of `base` is canonical apart from key order, which does not change the length.
const bodyOf = (eventBytes: number) => 'x'.repeat(eventBytes - baseBytes);

const cases: Array<[name: string, event: PduDraft, expected: Partial<PduLimitProblem> | undefined]> = [
  ['an ordinary message', base, undefined],
  ['a type of 255 bytes', with_({ type: 't'.repeat(255) }), undefined],
  ['a type of 256 bytes', with_({ type: 't'.repeat(256) }), { kind: 'too_large', field: 'type', bytes: 256 }],
  // Bytes, not UTF-16 units: 128 two-byte characters are 256 bytes.
  ['a type of 128 two-byte characters', with_({ type: 'é'.repeat(128) }), { kind: 'too_large', field: 'type', bytes: 256 }],
  ['a state key of 255 bytes', with_({ state_key: 'k'.repeat(255) }), undefined],
  ['a state key of 300 bytes', with_({ state_key: 'k'.repeat(300) }), { kind: 'too_large', field: 'state_key', bytes: 300 }],
  ['an empty state key', with_({ state_key: '' }), undefined],
  ['a sender of 300 bytes', with_({ sender: `@${'a'.repeat(287)}:example.org` }), { kind: 'too_large', field: 'sender', bytes: 300 }],
  ['a room id of 300 bytes', with_({ room_id: `!${'r'.repeat(287)}:example.org` }), { kind: 'too_large', field: 'room_id', bytes: 300 }],
  ['a v12 create event without room_id', (({ room_id: _r, ...rest }) => rest)(base), undefined],
  ['an event of exactly 65536 bytes', content({ msgtype: 'm.text', body: bodyOf(MAX_PDU_BYTES) }), undefined],
  [
    'an event of 65537 bytes',
    content({ msgtype: 'm.text', body: bodyOf(MAX_PDU_BYTES + 1) }),
    { kind: 'too_large', field: 'event', bytes: MAX_PDU_BYTES + 1 },
  ],
  ['a float in content', content({ n: 1.5 }), { kind: 'not_canonical', path: 'content.n' }],
  ['an integer past 2^53-1', content({ n: 2 ** 53 }), { kind: 'not_canonical', path: 'content.n' }],
  ['an integer below -(2^53-1)', content({ n: [-(2 ** 53)] }), { kind: 'not_canonical', path: 'content.n[0]' }],
  ['the largest safe integer', content({ n: Number.MAX_SAFE_INTEGER, m: -Number.MAX_SAFE_INTEGER }), undefined],
  ['a lone surrogate in content', content({ body: 'a\ud800b' }), { kind: 'not_canonical', path: 'content.body' }],
  ['a lone surrogate in a state key', with_({ state_key: '\udc00' }), { kind: 'not_canonical', path: 'state_key' }],
  ['a surrogate pair (an emoji)', content({ body: '\u{1F600}' }), undefined],
];

describe('pduLimitProblem', () => {
  it.each(cases)('%s', (_name, event, expected) => {
    const problem = pduLimitProblem(event);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatchObject(expected);
  });

  it('does not count event_id, which is not part of the event on the wire', () => {
    const body = bodyOf(MAX_PDU_BYTES);
    expect(pduLimitProblem({ ...content({ msgtype: 'm.text', body }), event_id: `$${'e'.repeat(43)}` })).toBeUndefined();
  });

  it('counts hashes and signatures', () => {
    const signed = {
      ...content({ msgtype: 'm.text', body: bodyOf(MAX_PDU_BYTES - 10) }),
      hashes: { sha256: 'h'.repeat(43) },
      signatures: { 'example.org': { 'ed25519:a': 's'.repeat(86) } },
    };
    expect(pduLimitProblem(signed)).toMatchObject({ kind: 'too_large', field: 'event' });
  });

  it('describes each kind of problem in one line', () => {
    expect(describePduLimitProblem({ kind: 'too_large', field: 'type', bytes: 300, limit: 255 })).toBe(
      'Event type is 300 bytes, over the limit of 255',
    );
    expect(describePduLimitProblem({ kind: 'too_large', field: 'event', bytes: 70000, limit: 65536 })).toBe(
      'Event is 70000 bytes, over the limit of 65536',
    );
    expect(describePduLimitProblem(pduLimitProblem(content({ n: 0.5 }))!)).toMatch(/^Event is not valid canonical JSON: .*content\.n/);
  });
});
