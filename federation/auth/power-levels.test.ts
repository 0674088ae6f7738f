import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import {
  currentPowerLevels,
  notificationPowerLevel,
  parsePowerLevel,
  powerLevelsFromContent,
  requiredPowerLevel,
  roomCreators,
  userPowerLevel,
} from './power-levels.ts';
import { ADMIN, ALICE, ALL_VERSIONS, BOB, CAROL, makeRoom, MOD, type RoomSetup, V10, V11, V12 } from './test-fixtures.ts';

/** A v9-like version, to show string levels are only accepted without integerPowerLevels. */
const STRINGY: RoomVersion = { ...V10, id: 'stringy-test', integerPowerLevels: false };

describe('parsePowerLevel', () => {
  it.each<[string, JsonValue | undefined, RoomVersion, number | undefined]>([
    ['integer', 50, V10, 50],
    ['negative integer', -10, V12, -10],
    ['float', 1.5, V10, undefined],
    ['beyond 2^53-1', 2 ** 53, V10, undefined],
    ['string in v10+', '50', V10, undefined],
    ['boolean', true, V11, undefined],
    ['absent', undefined, V11, undefined],
    ['string without integerPowerLevels', ' +050 ', STRINGY, 50],
    ['negative string without integerPowerLevels', '-7', STRINGY, -7],
    ['float string without integerPowerLevels', '1.5', STRINGY, undefined],
  ])('%s', (_name, value, version, expected) => {
    expect(parsePowerLevel(value, version)).toBe(expected);
  });
});

describe('powerLevelsFromContent defaults', () => {
  it.each(ALL_VERSIONS)('empty content gives the spec defaults (v$id)', (version) => {
    const pl = powerLevelsFromContent({}, version);
    expect(pl).toMatchObject({
      usersDefault: 0,
      eventsDefault: 0,
      stateDefault: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
    });
    expect(pl.users.size).toBe(0);
    expect(notificationPowerLevel('room', pl)).toBe(50);
    expect(notificationPowerLevel('custom', pl)).toBeUndefined();
  });

  it('explicit values override defaults; invalid values fall back', () => {
    const content: JsonObject = {
      ban: 10,
      kick: '20',
      state_default: 0,
      notifications: { room: 5 },
      events: { a: 1, b: 'x' },
    };
    const pl = powerLevelsFromContent(content, V10);
    expect(pl).toMatchObject({ ban: 10, kick: 50, stateDefault: 0 });
    expect(notificationPowerLevel('room', pl)).toBe(5);
    expect([...pl.events]).toEqual([['a', 1]]);
  });
});

describe('requiredPowerLevel', () => {
  const pl = powerLevelsFromContent({ events_default: 5, state_default: 60, events: { 'm.room.name': 20 } }, V11);
  it.each([
    ['listed type', 'm.room.name', true, 20],
    ['listed type sent as a message', 'm.room.name', false, 20],
    ['unlisted state event', 'm.room.topic', true, 60],
    ['unlisted message event', 'm.room.message', false, 5],
  ])('%s', (_name, type, isState, expected) => {
    expect(requiredPowerLevel(type, isState, pl)).toBe(expected);
  });
  it('no power levels event: state 50, messages 0', () => {
    const none = currentPowerLevels(makeRoom(V11).lookup, V11);
    expect([requiredPowerLevel('m.room.topic', true, none), requiredPowerLevel('m.room.message', false, none)]).toEqual([50, 0]);
  });
});

describe('roomCreators', () => {
  it.each<[string, RoomVersion, JsonObject, string[]]>([
    ['v10 uses content.creator', V10, { creator: BOB }, [BOB]],
    ['v10 without creator', V10, {}, []],
    ['v11 uses the sender', V11, { creator: BOB }, [ALICE]],
    ['v11 ignores additional_creators', V11, { additional_creators: [BOB] }, [ALICE]],
    ['v12 sender plus additional_creators', V12, { additional_creators: [BOB, CAROL] }, [ALICE, BOB, CAROL]],
    ['v12 skips non-string additional_creators', V12, { additional_creators: [BOB, 3] }, [ALICE, BOB]],
  ])('%s', (_name, version, content, expected) => {
    const create = { ...makeRoom(version).create, content };
    expect([...roomCreators(create, version)]).toEqual(expected);
  });

  it('no create event, no creators', () => {
    expect(roomCreators(undefined, V12).size).toBe(0);
  });
});

interface LevelRow {
  name: string;
  versions: readonly RoomVersion[];
  setup: RoomSetup;
  user: string;
  expected: number;
}

describe('userPowerLevel', () => {
  const rows: LevelRow[] = [
    {
      name: 'creator without power levels (v10/v11: 100)',
      versions: [V10, V11],
      setup: {},
      user: ALICE,
      expected: 100,
    },
    {
      name: 'creator without power levels (v12: infinite)',
      versions: [V12],
      setup: {},
      user: ALICE,
      expected: Infinity,
    },
    { name: 'non-creator without power levels', versions: ALL_VERSIONS, setup: {}, user: BOB, expected: 0 },
    {
      name: 'v10 creator is content.creator, not the sender',
      versions: [V10],
      setup: { createContent: { creator: BOB } },
      user: BOB,
      expected: 100,
    },
    {
      name: 'v10 create sender is not the creator when content.creator differs',
      versions: [V10],
      setup: { createContent: { creator: BOB } },
      user: ALICE,
      expected: 0,
    },
    {
      name: 'listed user',
      versions: ALL_VERSIONS,
      setup: { powerLevels: { users: { [MOD]: 50, [ADMIN]: 100 } } },
      user: MOD,
      expected: 50,
    },
    {
      name: 'unlisted user gets users_default',
      versions: ALL_VERSIONS,
      setup: { powerLevels: { users_default: 7, users: { [MOD]: 50 } } },
      user: BOB,
      expected: 7,
    },
    {
      name: 'v10/v11 creator loses the implicit 100 once power levels exist',
      versions: [V10, V11],
      setup: { powerLevels: { users: { [MOD]: 50 } } },
      user: ALICE,
      expected: 0,
    },
    {
      name: 'v10/v11 creator listed in users',
      versions: [V10, V11],
      setup: { powerLevels: { users: { [ALICE]: 75 } } },
      user: ALICE,
      expected: 75,
    },
    {
      name: 'v12 creator stays infinite with power levels',
      versions: [V12],
      setup: { powerLevels: { users: { [MOD]: 50 } } },
      user: ALICE,
      expected: Infinity,
    },
    {
      name: 'v12 additional creator is infinite',
      versions: [V12],
      setup: { createContent: { additional_creators: [CAROL] }, powerLevels: { users: { [MOD]: 50 } } },
      user: CAROL,
      expected: Infinity,
    },
    {
      name: 'v11 additional_creators grants nothing',
      versions: [V11],
      setup: { createContent: { additional_creators: [CAROL] } },
      user: CAROL,
      expected: 0,
    },
  ];
  for (const row of rows) {
    it.each(row.versions)(`${row.name} (v$id)`, (version) => {
      expect(userPowerLevel(row.user, makeRoom(version, row.setup).lookup, version)).toBe(row.expected);
    });
  }
});
