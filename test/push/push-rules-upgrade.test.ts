import { describe, expect, it } from 'vitest';
import type { TestUser } from '../support/client.ts';
import { CS, createRoom, enc, joinRoom, ok, roomPath } from '../support/rooms.ts';
import { accountData, syncToken, syncUntil } from '../support/sync.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * Push rules about a room follow its members into the room that upgrades it, whether the upgrade
 * went through /upgrade or was made by hand (a new room whose create event names a predecessor).
 * Complement's TestPushRuleRoomUpgrade, the local half.
 */

const {
  users: [alice, bob],
} = withHomeserver({ users: ['pru_alice', 'pru_bob'] });

const rulePath = (kind: string, ruleId: string) => `${CS}/pushrules/global/${kind}/${enc(ruleId)}`;
const roomRuleIds = (body: Record<string, any>) => (body.global.room as Array<{ rule_id: string }>).map((r) => r.rule_id);

/** Waits until the user's m.push_rules in /sync has a room rule for `roomId`. */
async function seesRoomRule(user: TestUser, since: string, roomId: string) {
  const { value } = await syncUntil(user, since, (b) => {
    const rules = accountData(b, 'm.push_rules')?.content;
    return rules && roomRuleIds(rules).includes(roomId) ? rules : undefined;
  });
  return value;
}

describe('push rules across a room upgrade', () => {
  it('POST /upgrade: both members’ room rules are repeated for the new room once each joins it; the old ones stay', async () => {
    const oldRoom = await createRoom(alice, { preset: 'public_chat', room_version: '10' });
    await joinRoom(bob, oldRoom);
    ok(await alice.client.put(rulePath('room', oldRoom), { actions: ['dont_notify'] }));
    ok(await bob.client.put(rulePath('room', oldRoom), { actions: ['dont_notify'] }));
    const [aliceSince, bobSince] = await Promise.all([syncToken(alice), syncToken(bob)]);

    const { replacement_room: newRoom } = ok(await alice.client.post(roomPath(oldRoom, '/upgrade'), { new_version: '11' }));
    await joinRoom(bob, newRoom);

    for (const [user, since] of [
      [alice, aliceSince],
      [bob, bobSince],
    ] as const) {
      const rules = await seesRoomRule(user, since, newRoom);
      expect(roomRuleIds(rules)).toEqual(expect.arrayContaining([oldRoom, newRoom]));
      const copy = ok(await user.client.get(rulePath('room', newRoom)));
      expect(copy).toMatchObject({ rule_id: newRoom, enabled: true, default: false, actions: ['dont_notify'] });
    }
  });

  it('a room made by hand with a predecessor: override rules naming the old room are repeated too', async () => {
    const oldRoom = await createRoom(alice, { preset: 'public_chat' });
    const conditions = [{ kind: 'event_match', key: 'room_id', pattern: oldRoom }];
    ok(await alice.client.put(rulePath('override', `quiet-${oldRoom}`), { conditions, actions: ['dont_notify'] }));
    ok(await alice.client.put(rulePath('room', oldRoom), { actions: ['notify'] }));
    // A disabled rule is not carried over.
    ok(await alice.client.put(rulePath('override', 'off-here'), { conditions, actions: ['notify'] }));
    ok(await alice.client.put(`${rulePath('override', 'off-here')}/enabled`, { enabled: false }));
    const since = await syncToken(alice);

    const newRoom = await createRoom(alice, { preset: 'public_chat', creation_content: { predecessor: { room_id: oldRoom } } });
    await seesRoomRule(alice, since, newRoom);
    const override = ok(await alice.client.get(rulePath('override', `quiet-${newRoom}`)));
    expect(override).toMatchObject({ actions: ['dont_notify'], conditions: [{ kind: 'event_match', key: 'room_id', pattern: newRoom }] });
    expect(ok(await alice.client.get(rulePath('override', `quiet-${oldRoom}`))).conditions[0].pattern).toBe(oldRoom);
    expect((await alice.client.get(rulePath('override', `off-here-${newRoom}`))).status).toBe(404);
  });

  it('a rule the member already set for the new room is left as they set it', async () => {
    const oldRoom = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, oldRoom);
    ok(await bob.client.put(rulePath('room', oldRoom), { actions: ['dont_notify'] }));
    const conditions = [{ kind: 'event_match', key: 'room_id', pattern: oldRoom }];
    ok(await bob.client.put(rulePath('override', `signal-${oldRoom}`), { conditions, actions: ['dont_notify'] }));
    const { replacement_room: newRoom } = ok(await alice.client.post(roomPath(oldRoom, '/upgrade'), { new_version: '11' }));
    ok(await bob.client.put(rulePath('room', newRoom), { actions: ['notify'] }));
    const since = await syncToken(bob);
    await joinRoom(bob, newRoom);
    // The override's copy shows the carrying-over has run.
    await syncUntil(bob, since, (b) => {
      const rules = accountData(b, 'm.push_rules')?.content;
      return rules?.global.override.some((r: { rule_id: string }) => r.rule_id === `signal-${newRoom}`) ? true : undefined;
    });
    expect(ok(await bob.client.get(rulePath('room', newRoom))).actions).toEqual(['notify']);
  });
});
