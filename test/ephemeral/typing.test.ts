import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import type { TestUser } from '../support/client.ts';
import { createRoom, enc, joinRoom, roomPath, sendText, syncOk } from '../support/rooms.ts';
import { roomEvents, syncToken, syncUntil } from '../support/sync.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const {
  users: [alice, bob, charlie],
} = withHomeserver({ users: ['alice', 'bob', 'charlie'] });
let roomId: string;

beforeAll(async () => {
  roomId = await createRoom(alice, { preset: 'public_chat' });
  await joinRoom(bob, roomId);
});

const typingPath = (user: TestUser, room = roomId) => roomPath(room, `/typing/${enc(user.userId)}`);
/** The user_ids of the room's m.typing event in a sync response, if there is one. */
const typingIn = (body: Record<string, any>) =>
  roomEvents(body, roomId, 'ephemeral', 'm.typing')[0]?.content.user_ids as string[] | undefined;

describe('PUT /rooms/{roomId}/typing/{userId}', () => {
  it('shows the other member who is typing, and that they stopped', async () => {
    const since = await syncToken(bob);
    const put = await alice.client.put(typingPath(alice), { typing: true, timeout: 30_000 });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toEqual({});

    const started = await syncUntil(bob, since, typingIn);
    expect(started.value).toEqual([alice.userId]);
    expect(roomEvents(started.body, roomId, 'ephemeral', 'm.typing')[0]).toEqual({
      type: 'm.typing',
      content: { user_ids: [alice.userId] },
    });

    expect((await alice.client.put(typingPath(alice), { typing: false })).status).toBe(200);
    const stopped = await syncUntil(bob, started.body.next_batch, (b) => (typingIn(b)?.length === 0 ? true : undefined));
    expect(typingIn(stopped.body)).toEqual([]);
  });

  it('wakes a waiting /sync of the other member', async () => {
    const since = await syncToken(bob);
    const waiting = syncUntil(bob, since, typingIn, { params: { timeout: 10_000 } });
    await new Promise((r) => setTimeout(r, 100));
    expect((await alice.client.put(typingPath(alice), { typing: true, timeout: 30_000 })).status).toBe(200);
    expect((await waiting).value).toEqual([alice.userId]);
    await alice.client.put(typingPath(alice), { typing: false });
  });

  it('does not answer a waiting /sync whose filter blocks ephemeral events: it waits for what it asked for', async () => {
    const filter = { room: { ephemeral: { not_types: ['*'] } }, presence: { not_types: ['*'] } };
    const since = await syncToken(bob, { filter });
    const waiting = syncOk(bob, { since, filter, timeout: 10_000, set_presence: 'offline' });
    await new Promise((r) => setTimeout(r, 100));
    expect((await alice.client.put(typingPath(alice), { typing: true, timeout: 30_000 })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    const eventId = await sendText(alice, roomId, 'after the typing');
    const body = await waiting;
    expect(roomEvents(body, roomId, 'timeline').map((e) => e.event_id)).toEqual([eventId]);
    expect(roomEvents(body, roomId, 'ephemeral')).toEqual([]);
    expect(body.presence.events).toEqual([]);
    await alice.client.put(typingPath(alice), { typing: false });
  });

  it('lists several typers, and an initial sync shows who is typing now', async () => {
    expect((await alice.client.put(typingPath(alice), { typing: true, timeout: 30_000 })).status).toBe(200);
    expect((await bob.client.put(typingPath(bob), { typing: true, timeout: 30_000 })).status).toBe(200);
    const initial = await syncOk(alice, { set_presence: 'offline' });
    expect([...(typingIn(initial) ?? [])].sort()).toEqual([alice.userId, bob.userId].sort());
    await alice.client.put(typingPath(alice), { typing: false });
    await bob.client.put(typingPath(bob), { typing: false });
  });

  it('expires a typing notice after its timeout', async () => {
    const since = await syncToken(bob);
    // The server keeps a notice for at least a second, whatever the client asks.
    expect((await alice.client.put(typingPath(alice), { typing: true, timeout: 1 })).status).toBe(200);
    const started = await syncUntil(bob, since, (b) => (typingIn(b)?.includes(alice.userId) ? true : undefined));
    const expired = await syncUntil(bob, started.body.next_batch, (b) => (typingIn(b)?.length === 0 ? true : undefined), {
      withinMs: 20_000,
    });
    expect(typingIn(expired.body)).toEqual([]);
  });

  it('refuses to set the typing state of another user', async () => {
    expectMatrixError(await alice.client.put(typingPath(bob), { typing: true, timeout: 1000 }), 403, 'M_FORBIDDEN');
  });

  it('refuses a user who is not in the room', async () => {
    expectMatrixError(await charlie.client.put(typingPath(charlie), { typing: true, timeout: 1000 }), 403, 'M_FORBIDDEN');
    expectMatrixError(await alice.client.put(typingPath(alice, '!nowhere:localhost'), { typing: true }), 403, 'M_FORBIDDEN');
  });

  it.each([
    ['typing missing', { timeout: 1000 }, 'M_MISSING_PARAM'],
    ['typing not a boolean', { typing: 'yes' }, 'M_BAD_JSON'],
    ['a negative timeout', { typing: true, timeout: -5 }, 'M_BAD_JSON'],
    ['a fractional timeout', { typing: true, timeout: 1.5 }, 'M_BAD_JSON'],
  ])('rejects a body with %s', async (_name, body, errcode) => {
    expectMatrixError(await alice.client.put(typingPath(alice), body), 400, errcode);
  });

  it('rejects a body that is not JSON, and a request without a token', async () => {
    expectMatrixError(
      await alice.client.request('PUT', typingPath(alice), undefined, { raw: '{typing', headers: { 'content-type': 'application/json' } }),
      400,
      'M_NOT_JSON',
    );
    expectMatrixError(await alice.client.put(typingPath(alice), { typing: true }, { token: null }), 401, 'M_MISSING_TOKEN');
  });
});
