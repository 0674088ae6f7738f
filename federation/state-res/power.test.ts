import { describe, expect, it } from 'vitest';
import type { JsonObject, Pdu } from '../events/pdu.ts';
import { isPowerEvent } from './events.ts';
import { senderPowerLevelFromAuthEvents, userPowerLevel } from './power.ts';
import { ALICE, BOB, CHARLIE, fetcherOf, pdu, version } from './test-fixtures.ts';

const create = (content: JsonObject, sender = ALICE): Pdu => pdu({ id: 'CREATE', type: 'm.room.create', sender, state_key: '', content });
const pl = (content: JsonObject): Pdu => pdu({ id: 'PL', type: 'm.room.power_levels', sender: ALICE, state_key: '', content });

describe('userPowerLevel', () => {
  it.each([
    {
      name: 'v10 no PL: content.creator has 100',
      v: '10',
      user: BOB,
      c: create({ creator: BOB }),
      p: undefined,
      want: 100,
    },
    {
      name: 'v10 no PL: sender is not the creator',
      v: '10',
      user: ALICE,
      c: create({ creator: BOB }),
      p: undefined,
      want: 0,
    },
    { name: 'v11 no PL: the sender is the creator', v: '11', user: ALICE, c: create({}), p: undefined, want: 100 },
    { name: 'v11 users entry', v: '11', user: BOB, c: create({}), p: pl({ users: { [BOB]: 42 } }), want: 42 },
    { name: 'v11 users_default', v: '11', user: BOB, c: create({}), p: pl({ users_default: 7 }), want: 7 },
    { name: 'v11 nothing set: 0', v: '11', user: BOB, c: create({}), p: pl({}), want: 0 },
    {
      name: 'non-integer values are ignored',
      v: '11',
      user: BOB,
      c: create({}),
      p: pl({ users: { [BOB]: '50' }, users_default: 1.5 }),
      want: 0,
    },
    { name: 'v11 creator is not special once PL exists', v: '11', user: ALICE, c: create({}), p: pl({}), want: 0 },
    {
      name: 'v12 creator is infinite',
      v: '12',
      user: ALICE,
      c: create({}),
      p: pl({ users: { [ALICE]: 1 } }),
      want: Infinity,
    },
    {
      name: 'v12 additional creator is infinite',
      v: '12',
      user: CHARLIE,
      c: create({ additional_creators: [CHARLIE] }),
      p: pl({}),
      want: Infinity,
    },
    {
      name: 'v12 others as usual',
      v: '12',
      user: BOB,
      c: create({ additional_creators: [CHARLIE] }),
      p: pl({ users: { [BOB]: 50 } }),
      want: 50,
    },
  ] as const)('$name', ({ v, user, c, p, want }) => {
    expect(userPowerLevel(user, p, c, version(v))).toBe(want);
  });
});

describe('senderPowerLevelFromAuthEvents', () => {
  it('reads the power levels event cited in auth_events (v11)', () => {
    const c = create({});
    const p = pl({ users: { [BOB]: 60 } });
    const e = pdu({ id: 'E', type: 'm.room.topic', sender: BOB, state_key: '', auth_events: ['$CREATE', '$PL'] });
    expect(senderPowerLevelFromAuthEvents(e, fetcherOf([c, p, e]), version('11'))).toBe(60);
  });

  it('v12 finds the creators through the room id, not auth_events', () => {
    const c = create({ additional_creators: [BOB] });
    delete c.room_id;
    const e = pdu({ id: 'E', type: 'm.room.topic', sender: BOB, state_key: '', room_id: '!CREATE', auth_events: [] });
    expect(senderPowerLevelFromAuthEvents(e, fetcherOf([c, e]), version('12'))).toBe(Infinity);
  });
});

describe('isPowerEvent', () => {
  const ev = (type: string, sender: string, stateKey: string | undefined, content: JsonObject = {}): Pdu =>
    pdu({ id: 'x', type, sender, content, ...(stateKey === undefined ? {} : { state_key: stateKey }) });
  it.each([
    { name: 'power levels', e: ev('m.room.power_levels', ALICE, ''), want: true },
    { name: 'join rules', e: ev('m.room.join_rules', ALICE, ''), want: true },
    { name: 'kick', e: ev('m.room.member', ALICE, BOB, { membership: 'leave' }), want: true },
    { name: 'ban', e: ev('m.room.member', ALICE, BOB, { membership: 'ban' }), want: true },
    { name: 'own leave', e: ev('m.room.member', BOB, BOB, { membership: 'leave' }), want: false },
    { name: 'join', e: ev('m.room.member', BOB, BOB, { membership: 'join' }), want: false },
    { name: 'invite', e: ev('m.room.member', ALICE, BOB, { membership: 'invite' }), want: false },
    { name: 'topic', e: ev('m.room.topic', ALICE, ''), want: false },
    { name: 'create (not a power event in the spec)', e: ev('m.room.create', ALICE, ''), want: false },
    { name: 'non-state power levels type', e: ev('m.room.power_levels', ALICE, undefined), want: false },
    { name: 'power levels with a non-empty state key', e: ev('m.room.power_levels', ALICE, 'x'), want: false },
  ])('$name', ({ e, want }) => {
    expect(isPowerEvent(e)).toBe(want);
  });
});
