import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import type { TestUser } from '../support/client.ts';
import { CS, createRoom, enc, joinRoom, ok, sync, syncOk } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { presenceOf, syncToken, syncUntil } from '../support/sync.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const {
  hs,
  users: [alice, bob, charlie, dave],
} = withHomeserver({ users: ['alice', 'bob', 'charlie', 'dave'] });

beforeAll(async () => {
  // alice, bob and dave share a room; charlie shares none with them.
  const roomId = await createRoom(alice, { preset: 'public_chat' });
  await joinRoom(bob, roomId);
  await joinRoom(dave, roomId);
  await createRoom(charlie);
});

const statusPath = (user: TestUser | string) => `${CS}/presence/${enc(typeof user === 'string' ? user : user.userId)}/status`;

async function presenceRow(userId: string) {
  const [row] = await hs.hs.db.sql<{ presence: string; stream_pos: number; last_seen_at: Date | null }[]>`
    select presence, stream_pos, last_seen_at from presence where user_id = ${userId}`;
  return row;
}

describe('PUT and GET /presence/{userId}/status', () => {
  it('sets one’s own presence, which a user sharing a room can read', async () => {
    const put = await alice.client.put(statusPath(alice), { presence: 'online', status_msg: 'Making cupcakes' });
    expect(ok(put)).toEqual({});
    const seen = ok(await bob.client.get(statusPath(alice)));
    expectMatchesSpec('presence.yaml', '/presence/{userId}/status', 'GET', 200, seen);
    expect(seen).toMatchObject({ presence: 'online', status_msg: 'Making cupcakes', currently_active: true });
    expect(seen.last_active_ago).toEqual(expect.any(Number));
    expect(ok(await alice.client.get(statusPath(alice)))).toMatchObject({ presence: 'online', status_msg: 'Making cupcakes' });

    const row = await presenceRow(alice.userId);
    expect(row?.presence).toBe('online');
    expect(row?.last_seen_at).toBeInstanceOf(Date);
  });

  it('clears the status message when a new state comes without one', async () => {
    ok(await alice.client.put(statusPath(alice), { presence: 'unavailable' }));
    const seen = ok(await bob.client.get(statusPath(alice)));
    expect(seen.presence).toBe('unavailable');
    expect(seen.status_msg).toBeUndefined();
    expect(seen.currently_active).toBeUndefined();
  });

  it('reports offline for a user who never set a presence', async () => {
    expect(ok(await charlie.client.get(statusPath(charlie)))).toEqual({ presence: 'offline' });
  });

  it('refuses to set the presence of another user', async () => {
    expectMatrixError(await alice.client.put(statusPath(bob), { presence: 'offline' }), 403, 'M_FORBIDDEN');
  });

  it('refuses a user who shares no room, and answers 404 for an unknown user', async () => {
    const forbidden = await charlie.client.get(statusPath(alice));
    expectMatrixError(forbidden, 403, 'M_FORBIDDEN');
    expectMatchesSpec('presence.yaml', '/presence/{userId}/status', 'GET', 403, forbidden.body);
    const unknown = await alice.client.get(statusPath('@nobody:localhost'));
    expectMatrixError(unknown, 404, 'M_NOT_FOUND');
    expectMatchesSpec('presence.yaml', '/presence/{userId}/status', 'GET', 404, unknown.body);
  });

  it.each([
    ['presence missing', { status_msg: 'hi' }, 'M_MISSING_PARAM'],
    ['an unknown state', { presence: 'busy' }, 'M_BAD_JSON'],
    ['a status_msg that is not a string', { presence: 'online', status_msg: 5 }, 'M_BAD_JSON'],
  ])('rejects a body with %s', async (_name, body, errcode) => {
    expectMatrixError(await alice.client.put(statusPath(alice), body), 400, errcode);
  });

  it('needs an access token', async () => {
    expectMatrixError(await alice.client.get(statusPath(alice), { token: null }), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await alice.client.put(statusPath(alice), { presence: 'online' }, { token: null }), 401, 'M_MISSING_TOKEN');
  });
});

describe('presence in /sync', () => {
  it('lists users sharing a room, and oneself, in an initial sync', async () => {
    ok(await alice.client.put(statusPath(alice), { presence: 'online', status_msg: 'here' }));
    const initial = await syncOk(bob, { set_presence: 'offline' });
    const [event] = presenceOf(initial, alice.userId);
    expect(event).toMatchObject({ type: 'm.presence', sender: alice.userId, content: { presence: 'online', status_msg: 'here' } });
    expect(presenceOf(await syncOk(alice, { set_presence: 'offline' }), alice.userId)).toHaveLength(1);
    expect(presenceOf(await syncOk(charlie, { set_presence: 'offline' }), alice.userId)).toEqual([]);
  });

  it('wakes users sharing a room when presence changes, and not others', async () => {
    const bobSince = await syncToken(bob);
    const charlieSince = await syncToken(charlie);
    const waiting = syncUntil(bob, bobSince, (b) => presenceOf(b, alice.userId)[0], { params: { timeout: 10_000 } });
    await new Promise((r) => setTimeout(r, 100));
    ok(await alice.client.put(statusPath(alice), { presence: 'unavailable', status_msg: 'away' }));
    expect((await waiting).value.content).toMatchObject({ presence: 'unavailable', status_msg: 'away' });
    expect(presenceOf(await syncOk(charlie, { since: charlieSince, set_presence: 'offline' }), alice.userId)).toEqual([]);
  });

  it('finds a co-member’s change among more changes than a sync matches one by one', async () => {
    const bobSince = await syncToken(bob);
    // 250 users who share no room with bob change presence: past the server's cap, it reads the member list.
    await hs.hs.db.sql`insert into presence (user_id, presence, stream_pos)
      select '@stranger' || g || ':localhost', 'online', take_stream_position() from generate_series(1, 250) g`;
    ok(await alice.client.put(statusPath(alice), { presence: 'online', status_msg: 'back' }));
    const body = await syncOk(bob, { since: bobSince, set_presence: 'offline' });
    expect(presenceOf(body, alice.userId)[0]?.content).toMatchObject({ presence: 'online', status_msg: 'back' });
    expect(body.presence.events.filter((e: { sender: string }) => e.sender.startsWith('@stranger'))).toEqual([]);
  });

  it('follows the presence filter', async () => {
    const body = await syncOk(bob, { set_presence: 'offline', filter: { presence: { not_senders: [alice.userId] } } });
    expect(presenceOf(body, alice.userId)).toEqual([]);
    const none = await syncOk(bob, { set_presence: 'offline', filter: { presence: { types: [] } } });
    expect(none.presence.events).toEqual([]);
  });
});

describe('/sync set_presence', () => {
  it('marks a syncing user online by default, writing only when presence changes', async () => {
    const bobSince = await syncToken(bob);
    expect(await presenceRow(dave.userId)).toBeUndefined();
    const first = await syncOk(dave);
    expect(presenceOf(first, dave.userId)[0]?.content).toMatchObject({ presence: 'online', currently_active: true });
    const { value } = await syncUntil(bob, bobSince, (b) => presenceOf(b, dave.userId)[0]);
    expect(value.content.presence).toBe('online');

    const written = await presenceRow(dave.userId);
    await syncOk(dave, { since: first.next_batch });
    await syncOk(dave, { set_presence: 'online' });
    expect((await presenceRow(dave.userId))?.stream_pos).toBe(written?.stream_pos);
  });

  it('marks the user unavailable with set_presence=unavailable, and leaves presence alone with offline', async () => {
    await syncOk(dave, { set_presence: 'unavailable' });
    expect(ok(await bob.client.get(statusPath(dave))).presence).toBe('unavailable');
    const before = await presenceRow(dave.userId);
    await syncOk(dave, { set_presence: 'offline' });
    expect(await presenceRow(dave.userId)).toEqual(before);
    await syncOk(dave);
    expect(ok(await bob.client.get(statusPath(dave))).presence).toBe('online');
  });

  it('syncs of several users at once each compare their own presence', async () => {
    // Their reads of the current presence go out together: each must still see its own row.
    ok(await alice.client.put(statusPath(alice), { presence: 'unavailable' }));
    ok(await bob.client.put(statusPath(bob), { presence: 'online' }));
    ok(await dave.client.put(statusPath(dave), { presence: 'unavailable' }));
    const bobBefore = await presenceRow(bob.userId);
    await Promise.all([alice, bob, dave].map((u) => syncOk(u, { set_presence: 'online' })));
    expect((await presenceRow(alice.userId))?.presence).toBe('online');
    expect((await presenceRow(dave.userId))?.presence).toBe('online');
    // Already online: nothing written.
    expect((await presenceRow(bob.userId))?.stream_pos).toBe(bobBefore?.stream_pos);
  });

  it('rejects an unknown set_presence value', async () => {
    expectMatrixError(await sync(dave, { set_presence: 'busy' }), 400, 'M_INVALID_PARAM');
  });
});
