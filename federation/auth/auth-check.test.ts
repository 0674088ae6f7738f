import { describe, it } from 'vitest';
import type { Pdu } from '../events/pdu.ts';
import { checkEventAgainstAuthEvents } from './auth-check.ts';
import { ALL_VERSIONS, BOB, MOD, makeRoom, member, type TestRoom, expectResult } from './test-fixtures.ts';

interface Row {
  name: string;
  versions?: readonly string[];
  event: (room: TestRoom) => Pdu;
  map?: (room: TestRoom, event: Pdu) => Map<string, Pdu>;
  rejected?: (room: TestRoom) => string[];
  expect: true | string;
}

const setup = { members: { [BOB]: 'join', [MOD]: 'join' }, powerLevels: { users: { [MOD]: 50 } }, joinRule: 'invite' };
const msg = (r: TestRoom, extra: Partial<Parameters<TestRoom['event']>[0]> = {}): Pdu =>
  r.event({ type: 'm.room.message', sender: BOB, content: {}, ...extra });
const withoutCreate = (r: TestRoom): Map<string, Pdu> => {
  const m = new Map(r.byId);
  m.delete(r.create.event_id);
  return m;
};

const rows: Row[] = [
  { name: 'allow: message authorised by its auth events', event: (r) => msg(r), expect: true },
  {
    name: 'allow: invite authorised by its auth events',
    event: (r) => r.event(member(MOD, '@new:n.example', 'invite')),
    expect: true,
  },
  {
    name: 'deny: auth_events list fails rule 2 (duplicate)',
    event: (r) => {
      const base = msg(r);
      return msg(r, { auth_events: [...base.auth_events, base.auth_events[base.auth_events.length - 1] ?? ''] });
    },
    expect: 'duplicate auth events',
  },
  {
    name: 'deny: rules evaluated against the auth events only (sender membership not cited)',
    event: (r) => msg(r, { auth_events: msg(r).auth_events.filter((id) => id !== r.lookup('m.room.member', BOB)?.event_id) }),
    expect: 'sender is not joined',
  },
  {
    name: 'deny: join with join rules not cited is judged as "no join rule"',
    event: (r) =>
      r.event({
        ...member(BOB, BOB, 'join'),
        auth_events: r.event(member(BOB, BOB, 'join')).auth_events.filter((id) => id !== r.lookup('m.room.join_rules', '')?.event_id),
      }),
    expect: 'does not allow joining',
  },
  {
    name: 'v12 rule 2 deny: create event not supplied',
    versions: ['12'],
    event: (r) => msg(r),
    map: (r) => withoutCreate(r),
    expect: 'does not name an accepted m.room.create',
  },
  {
    name: 'v12 rule 2 deny: create event was rejected',
    versions: ['12'],
    event: (r) => msg(r),
    rejected: (r) => [r.create.event_id],
    expect: 'does not name an accepted m.room.create',
  },
  {
    name: 'v12 rule 2 deny: room id names a non-create event',
    versions: ['12'],
    event: (r) => msg(r, { room_id: `!${(r.lookup('m.room.power_levels', '')?.event_id ?? '').slice(1)}` }),
    expect: 'does not name an accepted m.room.create',
  },
];

describe('checkEventAgainstAuthEvents', () => {
  for (const version of ALL_VERSIONS) {
    const applicable = rows.filter((r) => !r.versions || r.versions.includes(version.id));
    it.each(applicable)(`v${version.id}: $name`, (row) => {
      const room = makeRoom(version, setup);
      const event = row.event(room);
      const rejected = new Set(row.rejected?.(room) ?? []);
      const map = row.map?.(room, event) ?? room.byId;
      expectResult(checkEventAgainstAuthEvents(event, map, version, { isRejected: (id) => rejected.has(id) }), row.expect);
    });
  }
});
