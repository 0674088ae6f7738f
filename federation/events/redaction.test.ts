import { describe, expect, it } from 'vitest';
import type { JsonObject, Pdu } from './pdu.ts';
import { ROOM_VERSIONS, type RoomVersion } from '../room-versions.ts';
import { redactEvent, redactJson } from './redaction.ts';

function version(id: string): RoomVersion {
  const v = ROOM_VERSIONS.get(id);
  if (!v) throw new Error(`no room version ${id}`);
  return v;
}
const V10 = version('10');
const V11 = version('11');
const V12 = version('12');
const ALL = [V10, V11, V12];
const V11_UP = [V11, V12];

/** Content-rule cases: [description, versions, type, content in, content out]. */
type ContentCase = [name: string, versions: RoomVersion[], type: string, content: JsonObject, expected: JsonObject];

const memberContent: JsonObject = {
  membership: 'join',
  displayname: 'Alice',
  avatar_url: 'mxc://x/y',
  reason: 'hi',
  is_direct: true,
  join_authorised_via_users_server: '@admin:example.org',
};
const thirdPartyInvite: JsonObject = {
  display_name: 'alice@example.com',
  signed: { mxid: '@alice:example.org', token: 'abc', signatures: { 'id.example': { 'ed25519:0': 'sig' } } },
};
const createContent: JsonObject = {
  creator: '@alice:example.org',
  room_version: '10',
  'm.federate': false,
  predecessor: { room_id: '!old:example.org', event_id: '$old' },
  type: 'm.space',
  additional_creators: ['@bob:example.org'],
};
const powerLevelsContent: JsonObject = {
  ban: 50,
  events: { 'm.room.name': 50, 'm.room.power_levels': 100 },
  events_default: 0,
  invite: 0,
  kick: 50,
  notifications: { room: 50 },
  redact: 50,
  state_default: 50,
  users: { '@alice:example.org': 100 },
  users_default: 0,
};
const powerLevelsKeptV10: JsonObject = {
  ban: 50,
  events: { 'm.room.name': 50, 'm.room.power_levels': 100 },
  events_default: 0,
  kick: 50,
  redact: 50,
  state_default: 50,
  users: { '@alice:example.org': 100 },
  users_default: 0,
};
const joinRulesContent: JsonObject = {
  join_rule: 'restricted',
  allow: [{ type: 'm.room_membership', room_id: '!space:example.org' }],
  extra: 'dropped',
};

const contentCases: ContentCase[] = [
  // m.room.member
  [
    'member keeps membership and join_authorised_via_users_server',
    ALL,
    'm.room.member',
    memberContent,
    { membership: 'join', join_authorised_via_users_server: '@admin:example.org' },
  ],
  [
    'member drops third_party_invite entirely in v10',
    [V10],
    'm.room.member',
    { membership: 'invite', third_party_invite: thirdPartyInvite },
    { membership: 'invite' },
  ],
  [
    'member keeps only third_party_invite.signed in v11+',
    V11_UP,
    'm.room.member',
    { membership: 'invite', third_party_invite: thirdPartyInvite },
    { membership: 'invite', third_party_invite: { signed: thirdPartyInvite['signed'] ?? null } },
  ],
  [
    'member keeps an empty third_party_invite object when it has no signed (v11+)',
    V11_UP,
    'm.room.member',
    { membership: 'invite', third_party_invite: { display_name: 'x' } },
    { membership: 'invite', third_party_invite: {} },
  ],
  [
    'member drops a non-object third_party_invite (v11+)',
    V11_UP,
    'm.room.member',
    { membership: 'invite', third_party_invite: 'nonsense' },
    { membership: 'invite' },
  ],
  ['member with nothing protected', ALL, 'm.room.member', { displayname: 'A' }, {}],
  // m.room.create
  ['create keeps only creator in v10', [V10], 'm.room.create', createContent, { creator: '@alice:example.org' }],
  ['create keeps the whole content in v11+', V11_UP, 'm.room.create', createContent, createContent],
  // m.room.join_rules
  [
    'join_rules keeps join_rule and allow',
    ALL,
    'm.room.join_rules',
    joinRulesContent,
    { join_rule: 'restricted', allow: joinRulesContent['allow'] ?? null },
  ],
  // m.room.power_levels
  ['power_levels drops invite and notifications in v10', [V10], 'm.room.power_levels', powerLevelsContent, powerLevelsKeptV10],
  [
    'power_levels keeps invite but drops notifications in v11+',
    V11_UP,
    'm.room.power_levels',
    powerLevelsContent,
    { ...powerLevelsKeptV10, invite: 0 },
  ],
  // m.room.history_visibility
  [
    'history_visibility keeps history_visibility',
    ALL,
    'm.room.history_visibility',
    { history_visibility: 'shared', other: 1 },
    { history_visibility: 'shared' },
  ],
  // m.room.redaction
  ['redaction drops content.redacts in v10', [V10], 'm.room.redaction', { redacts: '$x', reason: 'spam' }, {}],
  ['redaction keeps content.redacts in v11+', V11_UP, 'm.room.redaction', { redacts: '$x', reason: 'spam' }, { redacts: '$x' }],
  // Everything else loses all content.
  ...[
    'm.room.message',
    'm.room.name',
    'm.room.topic',
    'm.room.encryption',
    'm.room.server_acl',
    'm.room.guest_access',
    'm.room.canonical_alias',
    'm.room.third_party_invite',
    'm.room.tombstone',
    'com.example.custom',
  ].map((type): ContentCase => [
    `${type} loses all content`,
    ALL,
    type,
    { body: 'x', name: 'y', membership: 'join', redacts: '$x', creator: '@a:b' },
    {},
  ]),
  // Types are matched exactly.
  ['type matching is exact', ALL, 'm.room.Member', { membership: 'join' }, {}],
];

const expandedContentCases = contentCases.flatMap(([name, versions, type, content, expected]) =>
  versions.map((v) => [`v${v.id}: ${name}`, v, type, content, expected] as const),
);

describe('redactEvent: content rules', () => {
  it.each(expandedContentCases)('%s', (_name, v, type, content, expected) => {
    const event: JsonObject = { type, state_key: '', sender: '@alice:example.org', content };
    expect(redactEvent(event, v)).toEqual({ type, state_key: '', sender: '@alice:example.org', content: expected });
  });
});

/** Every top-level key the v10 algorithm keeps, plus some it does not. */
const everyTopLevelKey: JsonObject = {
  event_id: '$e',
  type: 'm.room.member',
  room_id: '!r:example.org',
  sender: '@alice:example.org',
  state_key: '@alice:example.org',
  content: { membership: 'join' },
  hashes: { sha256: 'abc' },
  signatures: { 'example.org': { 'ed25519:1': 'sig' } },
  depth: 5,
  prev_events: ['$p'],
  prev_state: ['$s'],
  auth_events: ['$a'],
  origin: 'example.org',
  origin_server_ts: 1234,
  membership: 'join',
  // Not protected in any version:
  unsigned: { age: 5, redacted_because: {} },
  redacts: '$x',
  age_ts: 7,
  user_id: '@alice:example.org',
  'org.example.custom': true,
};

describe('redactEvent: top-level keys', () => {
  const { unsigned: _u, redacts: _r, age_ts: _a, user_id: _id, 'org.example.custom': _c, ...keptV10 } = everyTopLevelKey;
  const { origin: _o, membership: _m, prev_state: _p, ...keptV11 } = keptV10;
  const cases: Array<[name: string, v: RoomVersion, expected: JsonObject]> = [
    ['v10 keeps origin, membership and prev_state', V10, keptV10],
    ['v11 drops origin, membership and prev_state', V11, keptV11],
    ['v12 matches v11', V12, keptV11],
  ];
  it.each(cases)('%s', (_name, v, expected) => {
    expect(redactEvent(everyTopLevelKey, v)).toEqual(expected);
  });

  const redactionCases: Array<[name: string, v: RoomVersion, expected: JsonObject]> = [
    // Before v11 `redacts` was top-level and unprotected, so redacting a redaction loses its target.
    ['v10 strips top-level redacts', V10, { type: 'm.room.redaction', content: {} }],
    ['v11 strips top-level redacts but keeps content.redacts', V11, { type: 'm.room.redaction', content: { redacts: '$x' } }],
  ];
  it.each(redactionCases)('%s', (_name, v, expected) => {
    expect(redactEvent({ type: 'm.room.redaction', redacts: '$x', content: { redacts: '$x' } }, v)).toEqual(expected);
  });
});

describe('redactEvent: malformed and edge inputs', () => {
  const cases: Array<[name: string, input: JsonObject, expected: JsonObject]> = [
    ['absent content stays absent', { type: 'm.room.message', sender: '@a:b' }, { type: 'm.room.message', sender: '@a:b' }],
    ['non-object content becomes {}', { type: 'm.room.member', content: 'join' }, { type: 'm.room.member', content: {} }],
    ['array content becomes {}', { type: 'm.room.member', content: ['membership'] }, { type: 'm.room.member', content: {} }],
    ['null content becomes {}', { type: 'm.room.create', content: null }, { type: 'm.room.create', content: {} }],
    ['missing type strips all content', { content: { membership: 'join' } }, { content: {} }],
    ['non-string type strips all content', { type: 5, content: { membership: 'join' } }, { type: 5, content: {} }],
    ['empty object', {}, {}],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    for (const v of ALL) expect(redactEvent(input, v)).toEqual(expected);
  });

  it('does not treat inherited names as content keys', () => {
    const content = JSON.parse('{"__proto__": {"membership": "x"}, "constructor": 1}') as JsonObject;
    expect(redactEvent({ type: 'm.room.member', content }, V11)).toEqual({ type: 'm.room.member', content: {} });
  });

  it('does not modify its input', () => {
    const input = structuredClone(everyTopLevelKey);
    for (const v of ALL) redactEvent(input, v);
    expect(input).toEqual(everyTopLevelKey);
  });

  it('is idempotent', () => {
    for (const v of ALL) {
      const once = redactEvent(everyTopLevelKey, v);
      expect(redactEvent(once, v)).toEqual(once);
    }
  });
});

describe('redactEvent on a Pdu', () => {
  const pdu: Pdu = {
    event_id: '$abc',
    room_id: '!r:example.org',
    sender: '@alice:example.org',
    type: 'm.room.message',
    content: { msgtype: 'm.text', body: 'secret' },
    origin_server_ts: 1,
    depth: 2,
    prev_events: ['$p'],
    auth_events: ['$a'],
    hashes: { sha256: 'h' },
    signatures: { 'example.org': { 'ed25519:1': 's' } },
    unsigned: { age: 1 },
    origin: 'example.org',
  };
  it('returns a Pdu with content stripped, unsigned removed, and origin kept only in v10', () => {
    const { unsigned: _u, ...rest } = pdu;
    const v10: Pdu = redactEvent(pdu, V10);
    expect(v10).toEqual({ ...rest, content: {} });
    const { origin: _o, ...restV11 } = rest;
    expect(redactEvent(pdu, V11)).toEqual({ ...restV11, content: {} });
  });
  it('redactJson accepts untyped objects', () => {
    expect(redactJson(Object.freeze({ type: 'x', content: { a: 1 }, b: 2 }), V11)).toEqual({ type: 'x', content: {} });
  });
});

describe('redactEvent: room versions 1-9', () => {
  const joinRules: JsonObject = { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: '!a:example.org' }] };
  const aliases: JsonObject = { aliases: ['#a:example.org'], other: 1 };
  const ids = (from: number, to: number): RoomVersion[] => Array.from({ length: to - from + 1 }, (_, i) => version(String(from + i)));
  const cases: ContentCase[] = [
    ['v1-v5 keep m.room.aliases aliases', ids(1, 5), 'm.room.aliases', aliases, { aliases: ['#a:example.org'] }],
    ['v6+ strip m.room.aliases entirely', ids(6, 12), 'm.room.aliases', aliases, {}],
    ['v1-v7 keep only join_rule', ids(1, 7), 'm.room.join_rules', joinRules, { join_rule: 'restricted' }],
    ['v8+ also keep allow', ids(8, 12), 'm.room.join_rules', joinRules, joinRules],
    ['v1-v8 keep only membership', ids(1, 8), 'm.room.member', memberContent, { membership: 'join' }],
    [
      'v9, v10 also keep join_authorised_via_users_server',
      ids(9, 10),
      'm.room.member',
      memberContent,
      { membership: 'join', join_authorised_via_users_server: '@admin:example.org' },
    ],
    ['v1-v10 keep only creator of the create content', ids(1, 10), 'm.room.create', createContent, { creator: '@alice:example.org' }],
    ['v1-v10 power levels drop invite and notifications', ids(1, 10), 'm.room.power_levels', powerLevelsContent, powerLevelsKeptV10],
  ];
  it.each(cases)('%s', (_name, versions, type, content, expected) => {
    for (const v of versions) expect(redactEvent({ type, content }, v).content, `v${v.id}`).toEqual(expected);
  });

  it('v1-v10 keep the top-level keys of v10 (event_id included, which v1/v2 ids rely on)', () => {
    for (const v of ids(1, 10)) expect(redactEvent(everyTopLevelKey, v), `v${v.id}`).toEqual(redactEvent(everyTopLevelKey, V10));
  });
});
