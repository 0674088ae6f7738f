import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import type { TestUser } from '../support/client.ts';
import { withHomeserver } from '../support/with-homeserver.ts';
import {
  bodiesOf,
  createRoom,
  enc,
  inviteUser,
  joinRoom,
  leaveRoom,
  messages,
  ok,
  paginate,
  roomPath,
  sendText,
  setState,
  syncOk,
} from '../support/rooms.ts';

/** History visibility: who sees which events, through /messages, /event, /context and /sync. */

const {
  users: [alice, bob, carol],
} = withHomeserver({ users: ['hv_alice', 'hv_bob', 'hv_carol'] });

async function roomWith(visibility: string, preset = 'public_chat'): Promise<string> {
  return createRoom(alice, { preset, initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: visibility } }] });
}
const allBodies = async (user: TestUser, roomId: string) =>
  bodiesOf((await paginate(user, roomId, { dir: 'b', limit: 20 })).events).reverse();
const getEvent = (user: TestUser, roomId: string, eventId: string) => user.client.get(roomPath(roomId, `/event/${enc(eventId)}`));
const mentionsRoom = (body: Record<string, any>, roomId: string) =>
  ['join', 'invite', 'leave', 'knock'].some((section) => body.rooms[section]?.[roomId] !== undefined) ||
  JSON.stringify(body).includes(roomId);

describe('a user who never joined', () => {
  it('gets M_FORBIDDEN from /messages of a `joined` room and sees nothing of it in /sync', async () => {
    const roomId = await roomWith('joined', 'private_chat');
    const secret = await sendText(alice, roomId, 'members only');
    const before = await syncOk(carol);
    await sendText(alice, roomId, 'still members only');

    expectMatrixError(await messages(carol, roomId, { dir: 'b' }), 403, 'M_FORBIDDEN');
    expectMatrixError(await carol.client.get(roomPath(roomId, '/state')), 403, 'M_FORBIDDEN');
    expectMatrixError(await carol.client.get(roomPath(roomId, '/state/m.room.name/')), 403, 'M_FORBIDDEN');
    expectMatrixError(await carol.client.get(roomPath(roomId, '/members')), 403, 'M_FORBIDDEN');
    expectMatrixError(await carol.client.get(roomPath(roomId, '/joined_members')), 403, 'M_FORBIDDEN');
    expectMatrixError(await getEvent(carol, roomId, secret), 404, 'M_NOT_FOUND');
    const ctx = await carol.client.get(roomPath(roomId, `/context/${enc(secret)}`));
    expect([403, 404]).toContain(ctx.status);
    expect(JSON.stringify(ctx.body)).not.toContain('members only');

    const initial = await syncOk(carol, { filter: { room: { include_leave: true } } });
    expect(mentionsRoom(initial, roomId)).toBe(false);
    const inc = await syncOk(carol, { since: before.next_batch, full_state: true });
    expect(mentionsRoom(inc, roomId)).toBe(false);
  });

  it('also sees nothing of a `shared` room it was never in, but may read a `world_readable` one', async () => {
    const shared = await roomWith('shared', 'private_chat');
    await sendText(alice, shared, 'shared with members');
    expectMatrixError(await messages(carol, shared, { dir: 'b' }), 403, 'M_FORBIDDEN');

    const open = await roomWith('world_readable');
    const id = await sendText(alice, open, 'for the world');
    expect(await allBodies(carol, open)).toEqual(['for the world']);
    expect(ok(await getEvent(carol, open, id)).content.body).toBe('for the world');
    expect(ok(await carol.client.get(roomPath(open, '/state/m.room.history_visibility/')))).toEqual({
      history_visibility: 'world_readable',
    });
    // Reading is not joining.
    expect((await syncOk(carol)).rooms.join[open]).toBeUndefined();
  });
});

describe('a later joiner', () => {
  it('with `shared`, sees the history from before the join', async () => {
    const roomId = await roomWith('shared');
    const early = await sendText(alice, roomId, 'early');
    await sendText(alice, roomId, 'earlier still visible');
    await joinRoom(bob, roomId);
    await sendText(alice, roomId, 'after join');
    expect(await allBodies(bob, roomId)).toEqual(['early', 'earlier still visible', 'after join']);
    expect(ok(await getEvent(bob, roomId, early)).content.body).toBe('early');
    expect(ok(await bob.client.get(roomPath(roomId, `/context/${enc(early)}`))).event.event_id).toBe(early);
    const s = await syncOk(bob);
    expect(bodiesOf(s.rooms.join[roomId].timeline.events)).toEqual(['early', 'earlier still visible', 'after join']);
  });

  it('with `joined`, does not see events from before the join', async () => {
    const roomId = await roomWith('joined');
    const early = await sendText(alice, roomId, 'before bob');
    await joinRoom(bob, roomId);
    const late = await sendText(alice, roomId, 'after bob');
    expect(await allBodies(bob, roomId)).toEqual(['after bob']);
    expectMatrixError(await getEvent(bob, roomId, early), 404, 'M_NOT_FOUND');
    expect(ok(await getEvent(bob, roomId, late)).content.body).toBe('after bob');
    const ctx = await bob.client.get(roomPath(roomId, `/context/${enc(early)}`));
    expect(ctx.status).toBe(404);
    // The context of a visible event does not leak the hidden one.
    const around = ok(await bob.client.get(roomPath(roomId, `/context/${enc(late)}?limit=10`)));
    expect(bodiesOf(around.events_before)).toEqual([]);
    const s = await syncOk(bob);
    const tl = s.rooms.join[roomId].timeline.events as Array<Record<string, any>>;
    expect(bodiesOf(tl)).toEqual(['after bob']);
    expect(tl.some((e) => e.event_id === early)).toBe(false);
    // The room's state is still there: state is not history.
    expect(ok(await bob.client.get(roomPath(roomId, '/state/m.room.join_rules/')))).toEqual({ join_rule: 'public' });
  });

  it('with `invited`, sees events from the invite on', async () => {
    const roomId = await roomWith('invited', 'private_chat');
    await sendText(alice, roomId, 'before the invite');
    await inviteUser(alice, roomId, bob.userId);
    await sendText(alice, roomId, 'after the invite');
    await joinRoom(bob, roomId);
    await sendText(alice, roomId, 'after the join');
    expect(await allBodies(bob, roomId)).toEqual(['after the invite', 'after the join']);
  });

  it('visibility is judged per event: a switch from shared to joined hides only what follows it', async () => {
    const roomId = await roomWith('shared');
    await sendText(alice, roomId, 'while shared');
    await setState(alice, roomId, 'm.room.history_visibility', '', { history_visibility: 'joined' });
    await sendText(alice, roomId, 'while joined-only');
    await joinRoom(bob, roomId);
    await sendText(alice, roomId, 'after bob joined');
    expect(await allBodies(bob, roomId)).toEqual(['while shared', 'after bob joined']);
  });
});

describe('a user who left', () => {
  it('sees events up to the leave but not after, in /messages, /event and /sync', async () => {
    const roomId = await roomWith('shared');
    await joinRoom(bob, roomId);
    const s0 = await syncOk(bob);
    await sendText(alice, roomId, 'while bob is here');
    await leaveRoom(bob, roomId);
    const after = await sendText(alice, roomId, 'after bob left');
    await setState(alice, roomId, 'm.room.name', '', { name: 'renamed after bob left' });

    expect(await allBodies(bob, roomId)).toEqual(['while bob is here']);
    expectMatrixError(await getEvent(bob, roomId, after), 404, 'M_NOT_FOUND');
    const fwd = await paginate(bob, roomId, { dir: 'f', limit: 50 });
    expect(fwd.events.at(-1)).toMatchObject({ type: 'm.room.member', state_key: bob.userId, content: { membership: 'leave' } });
    expect(JSON.stringify(fwd.events)).not.toContain('after bob left');
    expectMatrixError(await bob.client.get(roomPath(roomId, '/state/m.room.name/')), 404, 'M_NOT_FOUND');

    const s1 = await syncOk(bob, { since: s0.next_batch });
    const left = s1.rooms.leave[roomId];
    expect(bodiesOf(left.timeline.events)).toEqual(['while bob is here']);
    expect(JSON.stringify(s1)).not.toContain('after bob left');
    // Nothing new arrives for the left room.
    const s2 = await syncOk(bob, { since: s1.next_batch });
    expect(mentionsRoom(s2, roomId)).toBe(false);
  });

  it('a kicked user sees up to the kick; after rejoining a `joined` room, not what was sent while away', async () => {
    const roomId = await roomWith('joined');
    await joinRoom(bob, roomId);
    await sendText(alice, roomId, 'first stay');
    ok(await alice.client.post(roomPath(roomId, '/kick'), { user_id: bob.userId }));
    const away = await sendText(alice, roomId, 'while bob was away');
    expect(await allBodies(bob, roomId)).toEqual(['first stay']);
    await joinRoom(bob, roomId);
    await sendText(alice, roomId, 'second stay');
    expect(await allBodies(bob, roomId)).toEqual(['first stay', 'second stay']);
    expectMatrixError(await getEvent(bob, roomId, away), 404, 'M_NOT_FOUND');
  });
});
