import type { JsonObject } from '../events/pdu.ts';
import { ADMIN, ALICE, BOB, CAROL, DAVE, MOD, type RoomSetup, runAuthCases } from './test-fixtures.ts';

const MOD2 = '@mod2:m.example';
const BASE: JsonObject = { users: { [MOD]: 50, [MOD2]: 50, [ADMIN]: 100 } };
const STAFF = { [MOD]: 'join', [MOD2]: 'join', [ADMIN]: 'join' };

/** A room whose current power levels are BASE merged with `current`. */
const room = (current: JsonObject = {}, extra: RoomSetup = {}): RoomSetup => ({
  powerLevels: { ...BASE, ...current },
  ...extra,
  members: { ...STAFF, ...extra.members },
});
const pl = (sender: string, content: JsonObject) => ({ type: 'm.room.power_levels', sender, state_key: '', content });
/** New content = BASE merged with `changes`. */
const change = (sender: string, changes: JsonObject) => pl(sender, { ...BASE, ...changes });

const SCALARS = ['users_default', 'events_default', 'state_default', 'ban', 'redact', 'kick', 'invite'] as const;

runAuthCases('rule 9 (v12: 10): m.room.power_levels content shape', [
  {
    name: 'allow: integer values everywhere',
    setup: room(),
    event: change(ADMIN, { ban: 60, events: { 'm.room.name': 50 }, notifications: { room: 50 } }),
    expect: true,
  },
  ...SCALARS.flatMap((key) => [
    {
      name: `9.1 deny: ${key} as a string`,
      setup: room(),
      event: change(ADMIN, { [key]: '50' }),
      expect: `${key} is not an integer`,
    },
    {
      name: `9.1 deny: ${key} as a float`,
      setup: room(),
      event: change(ADMIN, { [key]: 1.5 }),
      expect: `${key} is not an integer`,
    },
  ]),
  {
    name: '9.1 deny: integer outside the canonical JSON range',
    setup: room(),
    event: change(ADMIN, { ban: 2 ** 53 }),
    expect: 'ban is not an integer',
  },
  {
    name: '9.2 deny: events value is a string',
    setup: room(),
    event: change(ADMIN, { events: { 'm.room.name': '50' } }),
    expect: 'events must be an object of integers',
  },
  {
    name: '9.2 deny: events is an array',
    setup: room(),
    event: change(ADMIN, { events: [50] }),
    expect: 'events must be an object of integers',
  },
  {
    name: '9.2 deny: notifications value is a string',
    setup: room(),
    event: change(ADMIN, { notifications: { room: '50' } }),
    expect: 'notifications must be an object of integers',
  },
  {
    name: '9.3 deny: users key is not a user ID',
    setup: room(),
    event: change(ADMIN, { users: { [ADMIN]: 100, bob: 10 } }),
    expect: 'users must map valid user IDs',
  },
  {
    name: '9.3 deny: users value is a string',
    setup: room(),
    event: change(ADMIN, { users: { [ADMIN]: 100, [BOB]: '10' } }),
    expect: 'users must map valid user IDs',
  },
  {
    name: '9.3 deny: users is not an object',
    setup: room(),
    event: change(ADMIN, { users: 'all' }),
    expect: 'users must map valid user IDs',
  },
  {
    name: '9.3 allow: users absent (read as "if present")',
    setup: { members: { [BOB]: 'join' } },
    event: pl(ALICE, { ban: 50 }),
    expect: true,
  },
  // v12 10.4
  {
    name: 'v12 10.4 deny: users lists the create sender (even in the first power levels)',
    versions: ['12'],
    setup: {},
    event: pl(ALICE, { users: { [ALICE]: 100 } }),
    expect: `must not contain creator ${ALICE}`,
  },
  {
    name: 'v12 10.4 deny: users lists an additional creator',
    versions: ['12'],
    setup: room({}, { createContent: { additional_creators: [CAROL] } }),
    event: change(ADMIN, { users: { ...(BASE['users'] as JsonObject), [CAROL]: 0 } }),
    expect: `must not contain creator ${CAROL}`,
  },
  {
    name: 'v10/v11 allow: the creator may be listed in users',
    versions: ['10', '11'],
    setup: {},
    event: pl(ALICE, { users: { [ALICE]: 100 } }),
    expect: true,
  },
]);

runAuthCases('rule 9 (v12: 10): changes to m.room.power_levels', [
  // 9.4
  {
    name: '9.4 allow: first power levels event may set anything',
    versions: ['10', '11', '12'],
    setup: { members: { [BOB]: 'join' } },
    event: pl(ALICE, { users: { [BOB]: 9000 }, ban: 9000, events: { 'm.room.name': 9000 } }),
    expect: true,
  },
  {
    name: 'allow: re-sending unchanged content, even with levels above the sender',
    setup: room({ ban: 100, events: { 'm.room.tombstone': 100 } }),
    event: change(MOD, { ban: 100, events: { 'm.room.tombstone': 100 } }),
    expect: true,
  },
  // 9.5
  {
    name: '9.5 allow: lower a level at or below own level',
    setup: room({ ban: 50 }),
    event: change(MOD, { ban: 40 }),
    expect: true,
  },
  { name: '9.5 allow: add a level at own level', setup: room(), event: change(MOD, { redact: 50 }), expect: true },
  {
    name: '9.5.1 deny: change a level currently above own level',
    setup: room({ kick: 60 }),
    event: change(MOD, { kick: 40 }),
    expect: 'current kick exceeds',
  },
  {
    name: '9.5.1 deny: remove a level currently above own level',
    setup: room({ state_default: 70, events: { 'm.room.power_levels': 50 } }),
    event: change(MOD, { events: { 'm.room.power_levels': 50 } }),
    expect: 'current state_default exceeds',
  },
  {
    name: '9.5.2 deny: add a level above own level',
    setup: room(),
    event: change(MOD, { redact: 60 }),
    expect: 'new redact exceeds',
  },
  {
    name: '9.5.2 deny: raise a level above own level',
    setup: room({ invite: 0 }),
    event: change(MOD, { invite: 51 }),
    expect: 'new invite exceeds',
  },
  // 9.6
  {
    name: '9.6 allow: change an events entry at own level',
    setup: room({ events: { 'm.room.name': 50 } }),
    event: change(MOD, { events: { 'm.room.name': 0 } }),
    expect: true,
  },
  {
    name: '9.6 deny: remove an events entry above own level',
    setup: room({ events: { 'm.room.tombstone': 100 } }),
    event: change(MOD, { events: {} }),
    expect: 'current events.m.room.tombstone exceeds',
  },
  {
    name: '9.6 deny: change a notifications entry above own level',
    setup: room({ notifications: { room: 60 } }),
    event: change(MOD, { notifications: { room: 0 } }),
    expect: 'current notifications.room exceeds',
  },
  // 9.7
  {
    name: '9.7 allow: add an events entry at own level',
    setup: room(),
    event: change(MOD, { events: { 'm.room.topic': 50 } }),
    expect: true,
  },
  {
    name: '9.7 deny: add an events entry above own level',
    setup: room(),
    event: change(MOD, { events: { 'm.room.topic': 51 } }),
    expect: 'new events.m.room.topic exceeds',
  },
  {
    name: '9.7 deny: add a notifications entry above own level',
    setup: room(),
    event: change(MOD, { notifications: { room: 60 } }),
    expect: 'new notifications.room exceeds',
  },
  // 9.8
  {
    name: '9.8 allow: change a lower user',
    setup: room({ users: { ...(BASE['users'] as JsonObject), [BOB]: 10 } }),
    event: change(MOD, { users: { ...(BASE['users'] as JsonObject), [BOB]: 20 } }),
    expect: true,
  },
  {
    name: '9.8 allow: remove a lower user',
    setup: room({ users: { ...(BASE['users'] as JsonObject), [BOB]: 10 } }),
    event: change(MOD, {}),
    expect: true,
  },
  {
    name: '9.8 allow: demote oneself',
    setup: room(),
    event: change(MOD, { users: { [MOD]: 0, [MOD2]: 50, [ADMIN]: 100 } }),
    expect: true,
  },
  {
    name: '9.8 deny: change an equal user',
    setup: room(),
    event: change(MOD, { users: { [MOD]: 50, [MOD2]: 0, [ADMIN]: 100 } }),
    expect: `cannot change the level of ${MOD2}`,
  },
  {
    name: '9.8 deny: remove a higher user',
    setup: room(),
    event: change(MOD, { users: { [MOD]: 50, [MOD2]: 50 } }),
    expect: `cannot change the level of ${ADMIN}`,
  },
  {
    name: '9.8 allow: admin demotes a moderator',
    setup: room(),
    event: change(ADMIN, { users: { [MOD]: 0, [MOD2]: 50, [ADMIN]: 100 } }),
    expect: true,
  },
  // 9.9
  {
    name: '9.9 allow: promote a user to own level',
    setup: room(),
    event: change(MOD, { users: { ...(BASE['users'] as JsonObject), [DAVE]: 50 } }),
    expect: true,
  },
  {
    name: '9.9 deny: promote a user above own level',
    setup: room(),
    event: change(MOD, { users: { ...(BASE['users'] as JsonObject), [DAVE]: 51 } }),
    expect: `cannot raise ${DAVE}`,
  },
  {
    name: '9.9 deny: promote oneself',
    setup: room(),
    event: change(MOD, { users: { [MOD]: 60, [MOD2]: 50, [ADMIN]: 100 } }),
    expect: `cannot raise ${MOD}`,
  },
  // Creator power differs between versions.
  {
    name: 'v12 allow: creators (infinite power) may change any level',
    versions: ['12'],
    setup: room({ ban: 9000 }),
    event: change(ALICE, { ban: 0, users: { [MOD]: 0, [MOD2]: 0, [ADMIN]: 2 ** 52 } }),
    expect: true,
  },
  {
    name: 'v10/v11 deny: the creator has users_default once power levels exist',
    versions: ['10', '11'],
    setup: room({ ban: 9000 }),
    event: change(ALICE, { ban: 0 }),
    expect: 'requires power level 50',
  },
]);
