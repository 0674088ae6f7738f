import type { JsonObject } from '../events/pdu.ts';
import { ALICE, BOB, type EventInit, runAuthCases, type TestRoom } from './test-fixtures.ts';

/** A create event for a new room, valid for the fixture room's version unless overridden. */
function createEvent(room: TestRoom, overrides: Partial<EventInit> & { extraContent?: JsonObject } = {}): EventInit {
  const { extraContent, ...rest } = overrides;
  return {
    type: 'm.room.create',
    sender: ALICE,
    state_key: '',
    content: { ...room.create.content, ...extraContent },
    prev_events: [],
    room_id: room.version.roomIdFromCreateEvent ? null : '!new:a.example',
    ...rest,
  };
}

runAuthCases('rule 1: m.room.create', [
  { name: 'valid create event', event: (r) => createEvent(r), expect: true },
  // 1.1
  {
    name: '1.1 deny: has prev_events',
    event: (r) => createEvent(r, { prev_events: ['$x'] }),
    expect: 'prev_events',
  },
  // 1.2 (v10/v11): room id domain must match the sender
  {
    name: '1.2 allow: room_id domain matches sender domain',
    versions: ['10', '11'],
    event: (r) => createEvent(r, { room_id: '!abc:a.example' }),
    expect: true,
  },
  {
    name: '1.2 deny: room_id domain differs from sender domain',
    versions: ['10', '11'],
    event: (r) => createEvent(r, { room_id: '!abc:b.example' }),
    expect: 'room_id domain',
  },
  {
    name: '1.2 deny: missing room_id',
    versions: ['10', '11'],
    event: (r) => createEvent(r, { room_id: null }),
    expect: 'room_id domain',
  },
  // 1.2 (v12): no room id at all
  {
    name: '1.2 deny: v12 create event with a room_id',
    versions: ['12'],
    event: (r) => createEvent(r, { room_id: '!abc:a.example' }),
    expect: 'must not have a room_id',
  },
  // 1.3
  {
    name: '1.3 allow: room_version absent',
    event: (r) => {
      const e = createEvent(r);
      const content = { ...e.content };
      delete content['room_version'];
      return { ...e, content };
    },
    expect: true,
  },
  {
    name: '1.3 allow: another recognised room_version',
    event: (r) => createEvent(r, { extraContent: { room_version: '11' } }),
    expect: true,
  },
  {
    name: '1.3 deny: unrecognised room_version',
    event: (r) => createEvent(r, { extraContent: { room_version: '9999' } }),
    expect: 'room_version',
  },
  {
    name: '1.3 deny: room_version is not a string',
    event: (r) => createEvent(r, { extraContent: { room_version: 10 } }),
    expect: 'room_version',
  },
  // 1.4 (v10): creator required
  {
    name: '1.4 deny: v10 content has no creator',
    versions: ['10'],
    event: (r) => ({ ...createEvent(r), content: { room_version: '10' } }),
    expect: 'no creator',
  },
  {
    name: '1.4 allow: v11+ needs no creator',
    versions: ['11', '12'],
    event: (r) => ({ ...createEvent(r), content: { room_version: r.version.id } }),
    expect: true,
  },
  // 1.4 (v12): additional_creators
  {
    name: 'v12 1.4 allow: additional_creators are valid user IDs',
    versions: ['12'],
    event: (r) => createEvent(r, { extraContent: { additional_creators: [BOB, '@carol:[::1]:8448'] } }),
    expect: true,
  },
  {
    name: 'v12 1.4 allow: empty additional_creators',
    versions: ['12'],
    event: (r) => createEvent(r, { extraContent: { additional_creators: [] } }),
    expect: true,
  },
  {
    name: 'v12 1.4 deny: additional_creators is not an array',
    versions: ['12'],
    event: (r) => createEvent(r, { extraContent: { additional_creators: BOB } }),
    expect: 'additional_creators',
  },
  {
    name: 'v12 1.4 deny: additional_creators holds an invalid user ID',
    versions: ['12'],
    event: (r) => createEvent(r, { extraContent: { additional_creators: [BOB, 'bob'] } }),
    expect: 'additional_creators',
  },
  {
    name: 'v12 1.4 deny: additional_creators holds a non-string',
    versions: ['12'],
    event: (r) => createEvent(r, { extraContent: { additional_creators: [BOB, 5] } }),
    expect: 'additional_creators',
  },
  {
    name: 'v10/v11 allow: additional_creators is not validated before v12',
    versions: ['10', '11'],
    event: (r) => createEvent(r, { extraContent: { additional_creators: 'nonsense' } }),
    expect: true,
  },
]);
