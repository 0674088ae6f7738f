import { describe, it } from 'vitest';
import type { Pdu } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { checkAuthEventsShape } from './auth-events-shape.ts';
import { ALICE, ALL_VERSIONS, BOB, expectResult, MOD, makeRoom, member, type TestRoom } from './test-fixtures.ts';

interface Row {
  name: string;
  versions?: readonly string[];
  /** Builds the event to check; `room.byId` serves as authEventsById unless `map` overrides it. */
  event: (room: TestRoom) => Pdu;
  map?: (room: TestRoom) => ReadonlyMap<string, Pdu>;
  rejected?: (room: TestRoom) => string[];
  expect: true | string;
}

const id = (room: TestRoom, type: string, key = ''): string => {
  const e = room.lookup(type, key);
  if (!e) throw new Error(`fixture has no ${type}/${key}`);
  return e.event_id;
};
const setup = { members: { [BOB]: 'join', [MOD]: 'join' }, powerLevels: { users: { [MOD]: 50 } }, joinRule: 'public' };
const msg = (room: TestRoom, authEvents?: string[]): Pdu =>
  room.event({ type: 'm.room.message', sender: BOB, content: {}, ...(authEvents ? { auth_events: authEvents } : {}) });

const rows: Row[] = [
  { name: 'allow: the selected auth events', event: (r) => msg(r), expect: true },
  {
    name: 'allow: a subset of the selection (power levels omitted)',
    event: (r) =>
      msg(r, r.version.roomIdFromCreateEvent ? [id(r, 'm.room.member', BOB)] : [id(r, 'm.room.create'), id(r, 'm.room.member', BOB)]),
    expect: true,
  },
  {
    name: 'allow: membership event with target, join rules and authoriser',
    event: (r) => r.event(member(BOB, BOB, 'join', { join_authorised_via_users_server: MOD })),
    expect: true,
  },
  { name: 'allow: the create event itself (decided by rule 1)', event: (r) => r.create, expect: true },
  {
    name: '2.1 deny: duplicate (type, state_key)',
    event: (r) => {
      const other = r.event({ type: 'm.room.power_levels', sender: ALICE, state_key: '', content: {} });
      return msg(r, [...msg(r).auth_events, other.event_id]);
    },
    expect: 'duplicate auth events for (m.room.power_levels, )',
  },
  {
    name: '2.1 deny: the same event listed twice',
    event: (r) => msg(r, [...msg(r).auth_events, id(r, 'm.room.member', BOB)]),
    expect: 'duplicate auth events',
  },
  {
    name: '2.2 deny: an event the selection does not pick (join rules for a message)',
    event: (r) => msg(r, [...msg(r).auth_events, id(r, 'm.room.join_rules')]),
    expect: 'is not one the auth events selection allows',
  },
  {
    name: "2.2 deny: another user's membership",
    event: (r) => msg(r, [...msg(r).auth_events, id(r, 'm.room.member', MOD)]),
    expect: 'is not one the auth events selection allows',
  },
  {
    name: 'v12 3.2 deny: the create event must not be cited',
    versions: ['12'],
    event: (r) => msg(r, [r.create.event_id, ...msg(r).auth_events]),
    expect: 'is not one the auth events selection allows',
  },
  {
    name: '2.2 deny: a non-state event',
    event: (r) => msg(r, [...msg(r).auth_events, msg(r).event_id]),
    expect: 'is not a state event',
  },
  {
    name: '2.3 deny: a rejected auth event',
    event: (r) => msg(r),
    rejected: (r) => [id(r, 'm.room.power_levels')],
    expect: 'was rejected',
  },
  {
    name: '2.4 deny: no create event (v10/v11)',
    versions: ['10', '11'],
    event: (r) => msg(r, [id(r, 'm.room.power_levels'), id(r, 'm.room.member', BOB)]),
    expect: 'do not include m.room.create',
  },
  {
    name: '2.5 deny: auth event from another room',
    event: (r) => {
      const foreign = r.event({
        type: 'm.room.power_levels',
        sender: ALICE,
        state_key: '',
        content: {},
        room_id: '!other:a.example',
      });
      return msg(r, [...msg(r).auth_events.filter((e) => e !== id(r, 'm.room.power_levels')), foreign.event_id]);
    },
    expect: 'belongs to another room',
  },
  {
    name: 'deny: an auth event that is not available',
    event: (r) => msg(r, [...msg(r).auth_events, '$missing']),
    expect: 'is not available',
  },
];

function run(version: RoomVersion, row: Row): void {
  const room = makeRoom(version, setup);
  const event = row.event(room);
  const rejected = new Set(row.rejected?.(room) ?? []);
  const result = checkAuthEventsShape(event, row.map?.(room) ?? room.byId, version, {
    isRejected: (e) => rejected.has(e),
  });
  expectResult(result, row.expect);
}

describe('checkAuthEventsShape (rule 2; v12 rule 3)', () => {
  for (const version of ALL_VERSIONS) {
    const applicable = rows.filter((r) => !r.versions || r.versions.includes(version.id));
    it.each(applicable)(`v${version.id}: $name`, (row) => run(version, row));
  }
});
