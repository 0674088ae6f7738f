import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../events/pdu.ts';
import { type AuthEventKey, authTypesForEvent, selectAuthEvents } from './auth-events.ts';
import { ALICE, ALL_VERSIONS, BOB, MOD, makeRoom, V10, V12 } from './test-fixtures.ts';
import type { EventShape } from './types.ts';

const C: AuthEventKey = { type: 'm.room.create', stateKey: '' };
const PL: AuthEventKey = { type: 'm.room.power_levels', stateKey: '' };
const JR: AuthEventKey = { type: 'm.room.join_rules', stateKey: '' };
const mem = (u: string): AuthEventKey => ({ type: 'm.room.member', stateKey: u });
const memberEvent = (sender: string, target: string, content: JsonObject): EventShape => ({
  type: 'm.room.member',
  sender,
  state_key: target,
  content,
});
const tpi = { display_name: 'x', signed: { mxid: BOB, token: 'tok', signatures: {} } };

interface Row {
  name: string;
  event: EventShape;
  /** Expected keys, without the create event (added for v10/v11 below). */
  expected: AuthEventKey[];
}

const rows: Row[] = [
  { name: 'message', event: { type: 'm.room.message', sender: BOB, content: {} }, expected: [PL, mem(BOB)] },
  {
    name: 'state event',
    event: { type: 'm.room.topic', sender: BOB, state_key: '', content: {} },
    expected: [PL, mem(BOB)],
  },
  { name: 'own join', event: memberEvent(BOB, BOB, { membership: 'join' }), expected: [PL, mem(BOB), JR] },
  { name: 'invite', event: memberEvent(MOD, BOB, { membership: 'invite' }), expected: [PL, mem(MOD), mem(BOB), JR] },
  { name: 'knock', event: memberEvent(BOB, BOB, { membership: 'knock' }), expected: [PL, mem(BOB), JR] },
  { name: 'leave (no join rules)', event: memberEvent(BOB, BOB, { membership: 'leave' }), expected: [PL, mem(BOB)] },
  {
    name: 'kick (no join rules)',
    event: memberEvent(MOD, BOB, { membership: 'leave' }),
    expected: [PL, mem(MOD), mem(BOB)],
  },
  {
    name: 'ban (no join rules)',
    event: memberEvent(MOD, BOB, { membership: 'ban' }),
    expected: [PL, mem(MOD), mem(BOB)],
  },
  {
    name: 'third-party invite adds the token',
    event: memberEvent(MOD, BOB, { membership: 'invite', third_party_invite: tpi }),
    expected: [PL, mem(MOD), mem(BOB), JR, { type: 'm.room.third_party_invite', stateKey: 'tok' }],
  },
  {
    name: 'third_party_invite ignored on non-invites',
    event: memberEvent(BOB, BOB, { membership: 'join', third_party_invite: tpi }),
    expected: [PL, mem(BOB), JR],
  },
  {
    name: 'third_party_invite without signed.token adds nothing',
    event: memberEvent(MOD, BOB, { membership: 'invite', third_party_invite: { signed: {} } }),
    expected: [PL, mem(MOD), mem(BOB), JR],
  },
  {
    name: 'restricted join adds the authorising member',
    event: memberEvent(BOB, BOB, { membership: 'join', join_authorised_via_users_server: MOD }),
    expected: [PL, mem(BOB), JR, mem(MOD)],
  },
  {
    name: 'join_authorised_via_users_server ignored on non-joins',
    event: memberEvent(BOB, BOB, { membership: 'knock', join_authorised_via_users_server: MOD }),
    expected: [PL, mem(BOB), JR],
  },
  {
    name: 'member event without state_key has no target',
    event: { type: 'm.room.member', sender: BOB, content: { membership: 'join' } },
    expected: [PL, mem(BOB)],
  },
];

describe('authTypesForEvent', () => {
  for (const version of ALL_VERSIONS) {
    const withCreate = !version.roomIdFromCreateEvent;
    it.each(rows)(`v${version.id}: $name`, ({ event, expected }) => {
      expect(authTypesForEvent(event, version)).toEqual(withCreate ? [C, ...expected] : expected);
    });
    it(`v${version.id}: the create event has no auth events`, () => {
      expect(authTypesForEvent({ type: 'm.room.create', sender: ALICE, state_key: '', content: {} }, version)).toEqual([]);
    });
  }

  it('v10/v11 select the create event, v12 never does', () => {
    const e: EventShape = { type: 'm.room.message', sender: BOB, content: {} };
    expect(authTypesForEvent(e, V10)).toContainEqual(C);
    expect(authTypesForEvent(e, V12)).not.toContainEqual(C);
  });
});

describe('selectAuthEvents', () => {
  it.each(ALL_VERSIONS)('picks only events present in the state (v$id)', (version) => {
    const room = makeRoom(version, { members: { [BOB]: 'invite' }, joinRule: 'invite' });
    const picked = selectAuthEvents(memberEvent(BOB, BOB, { membership: 'join' }), room.lookup, version);
    const types = picked.map((e) => `${e.type}|${e.state_key}`);
    const expected = ['m.room.member|' + BOB, 'm.room.join_rules|'];
    expect(types).toEqual(version.roomIdFromCreateEvent ? expected : ['m.room.create|', ...expected]);
  });
});
