import { describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import type { TestUser } from '../support/client.ts';
import { bodiesOf, createRoom, enc, joinRoom, leaveRoom, ok, paginate, roomPath, sendText, setState } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** The history visibility rules of the spec that the first visibility suite did not reach. */

const {
  users: [alice, bob, carol],
} = withHomeserver({ users: ['hvr_alice', 'hvr_bob', 'hvr_carol'] });

const roomWith = (visibility: string) =>
  createRoom(alice, {
    preset: 'public_chat',
    initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: visibility } }],
  });
const allEvents = async (user: TestUser, roomId: string) => (await paginate(user, roomId, { dir: 'b', limit: 20 })).events.reverse();
const getEvent = (user: TestUser, roomId: string, eventId: string) => user.client.get(roomPath(roomId, `/event/${enc(eventId)}`));
const context = (user: TestUser, roomId: string, eventId: string) => user.client.get(roomPath(roomId, `/context/${enc(eventId)}?limit=20`));

describe('shared history and a user who joined, then left', () => {
  it('still sees what was sent before the join, up to the leave, and nothing after', async () => {
    const roomId = await roomWith('shared');
    const before = await sendText(alice, roomId, 'before bob joined');
    await joinRoom(bob, roomId);
    const during = await sendText(alice, roomId, 'while bob was here');
    await leaveRoom(bob, roomId);
    const after = await sendText(alice, roomId, 'after bob left');

    expect(bodiesOf(await allEvents(bob, roomId))).toEqual(['before bob joined', 'while bob was here']);

    const ev = ok(await getEvent(bob, roomId, before));
    expectMatchesSpec('event_context.yaml', '/rooms/{roomId}/context/{eventId}', 'GET', 200, ok(await context(bob, roomId, before)));
    expect(ev.content.body).toBe('before bob joined');
    expect(ok(await getEvent(bob, roomId, during)).content.body).toBe('while bob was here');
    expectMatrixError(await getEvent(bob, roomId, after), 404, 'M_NOT_FOUND');

    const ctx = ok(await context(bob, roomId, before));
    expect(ctx.event.event_id).toBe(before);
    expect(bodiesOf(ctx.events_after)).toEqual(['while bob was here']);
    expectMatrixError(await context(bob, roomId, after), 404, 'M_NOT_FOUND');
  });

  it('sees, after rejoining, what was sent while away too (joined again later)', async () => {
    const roomId = await roomWith('shared');
    await joinRoom(bob, roomId);
    await leaveRoom(bob, roomId);
    const away = await sendText(alice, roomId, 'while bob was away');
    expectMatrixError(await getEvent(bob, roomId, away), 404, 'M_NOT_FOUND');
    await joinRoom(bob, roomId);
    expect(ok(await getEvent(bob, roomId, away)).content.body).toBe('while bob was away');
  });

  it('does not open `joined` history from before the join', async () => {
    const roomId = await roomWith('joined');
    const before = await sendText(alice, roomId, 'joined-only, before bob');
    await joinRoom(bob, roomId);
    await sendText(alice, roomId, 'while bob was here');
    await leaveRoom(bob, roomId);
    expect(bodiesOf(await allEvents(bob, roomId))).toEqual(['while bob was here']);
    expectMatrixError(await getEvent(bob, roomId, before), 404, 'M_NOT_FOUND');
  });
});

describe('m.room.history_visibility events', () => {
  it('are visible when the setting before or after them would show them', async () => {
    const roomId = await roomWith('world_readable');
    await sendText(alice, roomId, 'open to the world');
    const closing = await setState(alice, roomId, 'm.room.history_visibility', '', { history_visibility: 'joined' });
    await sendText(alice, roomId, 'members only');
    const opening = await setState(alice, roomId, 'm.room.history_visibility', '', { history_visibility: 'world_readable' });
    await sendText(alice, roomId, 'open again');

    // Carol never joined: world_readable history, and both switches, but not what was members-only.
    const seen = await allEvents(carol, roomId);
    expect(bodiesOf(seen)).toEqual(['open to the world', 'open again']);
    const switches = seen.filter((e) => e.type === 'm.room.history_visibility').map((e) => e.event_id);
    expect(switches).toContain(closing);
    expect(switches).toContain(opening);
    expect(ok(await getEvent(carol, roomId, opening)).content).toEqual({ history_visibility: 'world_readable' });
    expect(ok(await getEvent(carol, roomId, closing)).content).toEqual({ history_visibility: 'joined' });
  });
});
