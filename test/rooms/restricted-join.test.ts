import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { createRoom, getStateEvent, joinRoom, leaveRoom, ok, roomPath, sendText } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * Restricted (v8+) and knock_restricted (v10+) joins between local users: the
 * server vouches for a member of an allowed room through one of its own users
 * with invite power (join_authorised_via_users_server), and signs the join.
 */

const {
  users: [alice, bob, carol, dave],
} = withHomeserver({ users: ['rj_alice', 'rj_bob', 'rj_carol', 'rj_dave'] });

/** Room A (public, bob and dave join it) and a room B whose join rule lets A's members in. */
async function restrictedPair(version: string, joinRule: string): Promise<{ space: string; room: string }> {
  const space = await createRoom(alice, { preset: 'public_chat', room_version: version });
  await joinRoom(bob, space);
  await joinRoom(dave, space);
  const room = await createRoom(alice, {
    room_version: version,
    preset: 'private_chat',
    initial_state: [
      {
        type: 'm.room.join_rules',
        state_key: '',
        content: { join_rule: joinRule, allow: [{ type: 'm.room_membership', room_id: space }] },
      },
    ],
  });
  return { space, room };
}

const CASES: Array<[version: string, joinRule: string]> = [
  ['8', 'restricted'],
  ['9', 'restricted'],
  ['10', 'restricted'],
  ['10', 'knock_restricted'],
  ['11', 'restricted'],
  ['11', 'knock_restricted'],
  ['12', 'restricted'],
  ['12', 'knock_restricted'],
];

describe.each(CASES)('room version %s, join rule %s', (version, joinRule) => {
  it('a member of an allowed room joins, vouched for by a local user with invite power', async () => {
    const { room } = await restrictedPair(version, joinRule);
    const res = ok(await bob.client.post(roomPath(room, '/join'), {}));
    expectMatchesSpec('joining.yaml', '/rooms/{roomId}/join', 'POST', 200, res);
    const join = await getStateEvent(alice, room, 'm.room.member', bob.userId);
    expect(join.content.membership).toBe('join');
    expect(join.content.join_authorised_via_users_server).toBe(alice.userId);
    await sendText(bob, room, 'in through the allowed room');
  });

  it('a user in none of the allowed rooms gets 403', async () => {
    const { room } = await restrictedPair(version, joinRule);
    expectMatrixError(await carol.client.post(roomPath(room, '/join'), {}), 403, 'M_FORBIDDEN');
  });

  it('once no local member can invite, even a member of an allowed room gets 403', async () => {
    const { room } = await restrictedPair(version, joinRule);
    await joinRoom(bob, room);
    // Bob is at users_default (0) below the invite level (50); alice, who could vouch, leaves.
    await leaveRoom(alice, room);
    expectMatrixError(await dave.client.post(roomPath(room, '/join'), {}), 403, 'M_FORBIDDEN');
  });
});

describe('what the auth rules still refuse', () => {
  it('a join naming a voucher on a server that did not sign it', async () => {
    const { room } = await restrictedPair('10', 'restricted');
    const res = await bob.client.put(roomPath(room, `/state/m.room.member/${encodeURIComponent(bob.userId)}`), {
      membership: 'join',
      join_authorised_via_users_server: '@mod:elsewhere.example',
    });
    expectMatrixError(res, 403, 'M_FORBIDDEN');
    expect(res.body.error).toMatch(/not signed by the server of join_authorised_via_users_server/);
  });

  it.each([
    ['7', 'restricted'],
    ['9', 'knock_restricted'],
  ])('room version %s does not know the %s join rule: nobody joins uninvited', async (version, joinRule) => {
    const { room } = await restrictedPair(version, joinRule);
    expectMatrixError(await bob.client.post(roomPath(room, '/join'), {}), 403, 'M_FORBIDDEN');
  });
});
