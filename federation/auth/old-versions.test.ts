/**
 * Where the auth rules of room versions 1-9 differ from v10+ (rooms/fragments
 * v1-auth-rules, v3-auth-rules, v8-auth-rules; rooms/v6, v7, v10).
 */
import { ADMIN, BOB, DAVE, MOD, member, runAuthCases, STAFF_LEVELS as LEVELS, staffRoom as room } from './test-fixtures.ts';

const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
const signedByMod = { 'b.example': { 'ed25519:1': 's' }, 'm.example': { 'ed25519:1': 's' } };

runAuthCases('m.room.aliases (v1-v5 rule 4)', [
  {
    name: 'allow: the sender’s server manages its aliases, joined or not',
    versions: range(1, 5),
    setup: room(),
    event: { type: 'm.room.aliases', sender: BOB, state_key: 'b.example', content: { aliases: ['#x:b.example'] } },
    expect: true,
  },
  {
    name: 'deny: state_key is another server',
    versions: range(1, 5),
    setup: room(),
    event: { type: 'm.room.aliases', sender: BOB, state_key: 'a.example', content: { aliases: [] } },
    expect: "state_key is not the sender's domain",
  },
  {
    name: 'deny: no state_key',
    versions: range(1, 5),
    setup: room(),
    event: { type: 'm.room.aliases', sender: BOB, content: { aliases: [] } },
    expect: 'missing state_key',
  },
  {
    name: 'deny from v6: an ordinary state event, the sender must be joined',
    versions: range(6, 12),
    setup: room(),
    event: { type: 'm.room.aliases', sender: BOB, state_key: 'b.example', content: { aliases: [] } },
    expect: 'sender is not joined',
  },
]);

runAuthCases('m.room.redaction (v1/v2 rule 11)', [
  {
    name: 'allow: sender has the redact level',
    versions: range(1, 12),
    setup: room(),
    event: { type: 'm.room.redaction', sender: MOD, content: {}, redacts: '$target:else.example' },
    expect: true,
  },
  {
    name: 'deny in v1/v2: below the redact level and the ids do not share a domain',
    versions: ['1', '2'],
    setup: room({ members: { [BOB]: 'join' } }),
    event: { type: 'm.room.redaction', sender: BOB, content: {}, redacts: '$target:else.example' },
    expect: 'm.room.redaction',
  },
  {
    name: 'allow from v3: the redact level is not an auth rule',
    versions: range(3, 10),
    setup: room({ members: { [BOB]: 'join' } }),
    event: { type: 'm.room.redaction', sender: BOB, content: {}, redacts: '$target' },
    expect: true,
  },
]);

runAuthCases('knocking (v7+)', [
  {
    name: 'deny before v7: knock is an unknown membership',
    versions: range(1, 6),
    setup: room({ joinRule: 'knock' }),
    event: member(BOB, BOB, 'knock'),
    expect: 'knocking is not supported',
  },
  {
    name: 'allow from v7',
    versions: range(7, 12),
    setup: room({ joinRule: 'knock' }),
    event: member(BOB, BOB, 'knock'),
    expect: true,
  },
  {
    name: 'deny before v7: an invited user cannot join under a knock join rule',
    versions: range(1, 6),
    setup: room({ joinRule: 'knock', members: { [BOB]: 'invite' } }),
    event: member(BOB, BOB, 'join'),
    expect: 'join_rule knock does not allow joining',
  },
  {
    name: 'allow from v7: an invited user joins under a knock join rule',
    versions: range(7, 12),
    setup: room({ joinRule: 'knock', members: { [BOB]: 'invite' } }),
    event: member(BOB, BOB, 'join'),
    expect: true,
  },
  {
    name: 'allow from v7: retracting a knock',
    versions: range(7, 12),
    setup: room({ joinRule: 'knock', members: { [BOB]: 'knock' } }),
    event: member(BOB, BOB, 'leave'),
    expect: true,
  },
]);

runAuthCases('restricted (v8+) and knock_restricted (v10+)', [
  {
    name: 'deny before v8: restricted is not a join rule',
    versions: range(1, 7),
    setup: room({ joinRule: 'restricted' }),
    event: { ...member(BOB, BOB, 'join', { join_authorised_via_users_server: MOD }), signatures: signedByMod },
    expect: 'join_rule restricted does not allow joining',
  },
  {
    name: 'allow from v8: vouched for by a member with invite power',
    versions: range(8, 12),
    setup: room({ joinRule: 'restricted' }),
    event: { ...member(BOB, BOB, 'join', { join_authorised_via_users_server: MOD }), signatures: signedByMod },
    expect: true,
  },
  {
    name: 'allow before v8: join_authorised_via_users_server means nothing, unsigned or not',
    versions: range(1, 7),
    setup: room({ joinRule: 'public' }),
    event: member(BOB, BOB, 'join', { join_authorised_via_users_server: DAVE }),
    expect: true,
  },
  {
    name: 'deny from v8: rule 4.2 wants the voucher’s server signature',
    versions: range(8, 12),
    setup: room({ joinRule: 'public' }),
    event: member(BOB, BOB, 'join', { join_authorised_via_users_server: DAVE }),
    expect: 'not signed by the server of join_authorised_via_users_server',
  },
  {
    name: 'deny in v8/v9: knock_restricted is not a join rule',
    versions: ['8', '9'],
    setup: room({ joinRule: 'knock_restricted' }),
    event: { ...member(BOB, BOB, 'join', { join_authorised_via_users_server: MOD }), signatures: signedByMod },
    expect: 'join_rule knock_restricted does not allow joining',
  },
  {
    name: 'deny in v8/v9: no knocking under knock_restricted',
    versions: ['8', '9'],
    setup: room({ joinRule: 'knock_restricted' }),
    event: member(BOB, BOB, 'knock'),
    expect: 'forbids knocking',
  },
  {
    name: 'allow from v10: knock_restricted joins like restricted',
    versions: range(10, 12),
    setup: room({ joinRule: 'knock_restricted' }),
    event: { ...member(BOB, BOB, 'join', { join_authorised_via_users_server: MOD }), signatures: signedByMod },
    expect: true,
  },
]);

runAuthCases('power levels before v10', [
  {
    name: 'allow v1-v5: notifications changes are not checked',
    versions: range(1, 5),
    setup: room({ powerLevels: { ...LEVELS, notifications: { room: 100 } } }),
    event: { type: 'm.room.power_levels', sender: MOD, state_key: '', content: { ...LEVELS, notifications: { room: 0 } } },
    expect: true,
  },
  {
    name: 'deny from v6: notifications above the sender cannot change',
    versions: range(6, 12),
    setup: room({ powerLevels: { ...LEVELS, notifications: { room: 100 } } }),
    event: { type: 'm.room.power_levels', sender: MOD, state_key: '', content: { ...LEVELS, notifications: { room: 0 } } },
    expect: 'notifications.room',
  },
  {
    name: 'allow v1-v9: string levels',
    versions: range(1, 9),
    setup: room({ powerLevels: LEVELS }),
    event: {
      type: 'm.room.power_levels',
      sender: ADMIN,
      state_key: '',
      content: { ...LEVELS, users: { [MOD]: '50', [BOB]: '10' }, ban: '50' },
    },
    expect: true,
  },
  {
    name: 'deny from v10: string levels',
    versions: ['10', '11'],
    setup: room({ powerLevels: LEVELS }),
    event: { type: 'm.room.power_levels', sender: ADMIN, state_key: '', content: { ...LEVELS, ban: '50' } },
    expect: 'ban is not an integer',
  },
]);
