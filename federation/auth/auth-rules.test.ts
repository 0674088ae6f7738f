import { describe, expect, it } from 'vitest';
import { checkEventAuth, roomIdForCreateEvent } from './auth-rules.ts';
import { ADMIN, ALICE, BOB, CAROL, type EventInit, MOD, makeRoom, member, type RoomSetup, runAuthCases, V11 } from './test-fixtures.ts';

const LEVELS = { users: { [MOD]: 50, [ADMIN]: 100 } };
const room = (extra: RoomSetup = {}): RoomSetup => ({
  powerLevels: LEVELS,
  joinRule: 'public',
  ...extra,
  members: { [MOD]: 'join', [ADMIN]: 'join', [BOB]: 'join', [CAROL]: 'join', ...extra.members },
});
const message = (sender: string, type = 'm.room.message') => ({ type, sender, content: { body: 'hi' } });
const stateEvent = (sender: string, type: string, stateKey = '', content = {}) => ({
  type,
  sender,
  state_key: stateKey,
  content,
});

runAuthCases('v12 rule 2: the room id names the create event', [
  {
    name: 'allow: room_id is the create event id with !',
    versions: ['12'],
    setup: room(),
    event: message(BOB),
    expect: true,
  },
  {
    name: 'deny: room_id names another event',
    versions: ['12'],
    setup: room(),
    event: { ...message(BOB), room_id: '!someOtherEvent' },
    expect: 'room_id does not match the m.room.create event id',
  },
  {
    name: 'deny: no room_id',
    versions: ['12'],
    setup: room(),
    event: { ...message(BOB), room_id: null },
    expect: 'room_id does not match',
  },
  {
    name: 'deny (v10/v11 guard): the auth state belongs to another room',
    versions: ['10', '11'],
    setup: room(),
    event: { ...message(BOB), room_id: '!elsewhere:a.example' },
    expect: 'belongs to another room',
  },
]);

runAuthCases('rule 3 (v12: 4): m.federate', [
  {
    name: 'deny: remote sender in an unfederated room',
    setup: room({ createContent: { 'm.federate': false } }),
    event: message(BOB),
    expect: 'not federated',
  },
  {
    name: 'deny: remote join in an unfederated room (checked before membership rules)',
    setup: room({ createContent: { 'm.federate': false }, members: { [BOB]: null } }),
    event: member(BOB, BOB, 'join'),
    expect: 'not federated',
  },
  {
    name: 'allow: same-server sender in an unfederated room',
    setup: room({ createContent: { 'm.federate': false } }),
    event: message(CAROL),
    expect: true,
  },
  {
    name: 'allow: m.federate true',
    setup: room({ createContent: { 'm.federate': true } }),
    event: message(BOB),
    expect: true,
  },
]);

runAuthCases('rule 5 (v12: 6): sender must be joined', [
  { name: 'allow: joined sender', setup: room(), event: message(BOB), expect: true },
  ...(['invite', 'leave', 'ban', 'knock', null] as const).map((m) => ({
    name: `deny: sender membership ${m ?? 'none'}`,
    setup: room({ members: { [BOB]: m } }),
    event: message(BOB),
    expect: 'sender is not joined',
  })),
]);

runAuthCases('rule 6 (v12: 7): m.room.third_party_invite', [
  {
    name: 'allow: at the invite level',
    setup: room(),
    event: stateEvent(BOB, 'm.room.third_party_invite', 'tok'),
    expect: true,
  },
  {
    name: 'allow: decided by the invite level, not the event type level',
    setup: room({ powerLevels: { ...LEVELS, events: { 'm.room.third_party_invite': 100 } } }),
    event: stateEvent(BOB, 'm.room.third_party_invite', 'tok'),
    expect: true,
  },
  {
    name: 'deny: below the invite level',
    setup: room({ powerLevels: { ...LEVELS, invite: 50 } }),
    event: stateEvent(BOB, 'm.room.third_party_invite', 'tok'),
    expect: 'below the invite level',
  },
  {
    name: 'deny: sender not joined',
    setup: room({ members: { [BOB]: 'invite' } }),
    event: stateEvent(BOB, 'm.room.third_party_invite', 'tok'),
    expect: 'sender is not joined',
  },
]);

runAuthCases('rule 7 (v12: 8): required power level', [
  { name: 'allow: message at events_default 0', setup: room(), event: message(BOB), expect: true },
  {
    name: 'deny: message below events_default',
    setup: room({ powerLevels: { ...LEVELS, events_default: 10 } }),
    event: message(BOB),
    expect: 'requires power level 10',
  },
  {
    name: 'allow: events entry lowers the level for a type',
    setup: room({ powerLevels: { ...LEVELS, events_default: 10, events: { 'm.reaction': 0 } } }),
    event: message(BOB, 'm.reaction'),
    expect: true,
  },
  {
    name: 'deny: events entry raises the level for a type',
    setup: room({ powerLevels: { ...LEVELS, events: { 'm.room.message': 60 } } }),
    event: message(MOD),
    expect: 'requires power level 60',
  },
  {
    name: 'deny: state event below state_default (50)',
    setup: room(),
    event: stateEvent(BOB, 'm.room.topic', '', { topic: 'x' }),
    expect: 'requires power level 50',
  },
  {
    name: 'allow: state event at state_default',
    setup: room(),
    event: stateEvent(MOD, 'm.room.topic', '', { topic: 'x' }),
    expect: true,
  },
  {
    name: 'deny: without power levels, state_default is 50 for non-creators',
    setup: room({ powerLevels: undefined }),
    event: stateEvent(BOB, 'm.room.topic'),
    expect: 'requires power level 50',
  },
  {
    name: 'allow: without power levels, the creator (100 / infinite) sends state',
    setup: room({ powerLevels: undefined }),
    event: stateEvent(ALICE, 'm.room.topic'),
    expect: true,
  },
  {
    name: 'allow: without power levels, anyone sends messages (events_default 0)',
    setup: room({ powerLevels: undefined }),
    event: message(BOB),
    expect: true,
  },
  {
    name: 'allow: redaction ignores the redact level (handled after auth)',
    setup: room({ powerLevels: { ...LEVELS, redact: 100 } }),
    event: (r): EventInit =>
      r.version.updatedRedactionRules
        ? { type: 'm.room.redaction', sender: BOB, content: { redacts: '$target' } }
        : { type: 'm.room.redaction', sender: BOB, content: {}, redacts: '$target' },
    expect: true,
  },
  {
    name: 'deny: redaction below events[m.room.redaction]',
    setup: room({ powerLevels: { ...LEVELS, events: { 'm.room.redaction': 60 } } }),
    event: { type: 'm.room.redaction', sender: MOD, content: { redacts: '$target' }, redacts: '$target' },
    expect: 'requires power level 60',
  },
  {
    name: 'allow: v12 creator beats any required level',
    versions: ['12'],
    setup: room({ powerLevels: { ...LEVELS, events: { 'm.room.tombstone': 2 ** 53 - 1 } } }),
    event: stateEvent(ALICE, 'm.room.tombstone'),
    expect: true,
  },
  {
    name: 'deny: v10/v11 creator is bound by power levels',
    versions: ['10', '11'],
    setup: room({ powerLevels: { ...LEVELS, events: { 'm.room.tombstone': 150 } } }),
    event: stateEvent(ALICE, 'm.room.tombstone'),
    expect: 'requires power level 150',
  },
]);

runAuthCases('rule 8 (v12: 9): user-id state keys', [
  {
    name: 'deny: state_key is another user',
    setup: room(),
    event: stateEvent(MOD, 'org.example.profile', BOB),
    expect: 'state_key is a user id other than the sender',
  },
  {
    name: 'allow: state_key is the sender',
    setup: room(),
    event: stateEvent(MOD, 'org.example.profile', MOD),
    expect: true,
  },
  {
    name: 'allow: state_key not starting with @',
    setup: room(),
    event: stateEvent(MOD, 'org.example.profile', 'x@y'),
    expect: true,
  },
]);

runAuthCases('rule 10 (v12: 11): otherwise allow', [
  { name: 'allow: custom message event', setup: room(), event: message(BOB, 'org.example.custom'), expect: true },
  {
    name: 'allow: custom state event by a moderator',
    setup: room(),
    event: stateEvent(MOD, 'org.example.state', 'k'),
    expect: true,
  },
]);

describe('checkEventAuth without a create event', () => {
  it('denies when the auth state has no m.room.create', () => {
    const r = makeRoom(V11, room());
    const lookup = (type: string, key: string) => (type === 'm.room.create' ? undefined : r.lookup(type, key));
    expect(checkEventAuth(r.event(message(BOB)), lookup, V11)).toEqual({
      allowed: false,
      reason: 'no m.room.create event in the auth state',
    });
  });
});

describe('roomIdForCreateEvent', () => {
  it.each([
    ['$abc_DEF-123', '!abc_DEF-123'],
    ['abc', '!abc'],
  ])('%s -> %s', (id, expected) => {
    expect(roomIdForCreateEvent(id)).toBe(expected);
  });
});
