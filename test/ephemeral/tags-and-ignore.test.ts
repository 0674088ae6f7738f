import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import type { TestUser } from '../support/client.ts';
import { bodiesOf, CS, createRoom, enc, joinRoom, messages, ok, sendText, syncOk } from '../support/rooms.ts';
import { accountData, roomEvents, syncToken, syncUntil } from '../support/sync.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const {
  users: [alice, bob],
} = withHomeserver({ users: ['alice', 'bob'] });
let roomId: string;

beforeAll(async () => {
  roomId = await createRoom(alice, { preset: 'public_chat' });
  await joinRoom(bob, roomId);
});

const tagsPath = (user: TestUser, room = roomId) => `${CS}/user/${enc(user.userId)}/rooms/${enc(room)}/tags`;
const tagPath = (user: TestUser, tag: string, room = roomId) => `${tagsPath(user, room)}/${enc(tag)}`;
const tagEvent = (body: Record<string, any>) => roomEvents(body, roomId, 'account_data', 'm.tag')[0];

describe('room tags', () => {
  it('adds, lists and removes tags, and /sync carries them as m.tag', async () => {
    expect(ok(await alice.client.get(tagsPath(alice)))).toEqual({ tags: {} });
    const since = await syncToken(alice);

    expect(ok(await alice.client.put(tagPath(alice, 'u.work'), { order: 0.5 }))).toEqual({});
    expect(ok(await alice.client.put(tagPath(alice, 'm.favourite'), {}))).toEqual({});
    const listed = ok(await alice.client.get(tagsPath(alice)));
    expect(listed).toEqual({ tags: { 'u.work': { order: 0.5 }, 'm.favourite': {} } });
    expectMatchesSpec('tags.yaml', '/user/{userId}/rooms/{roomId}/tags', 'GET', 200, listed);

    const { value } = await syncUntil(alice, since, (b) => (tagEvent(b)?.content.tags['m.favourite'] ? tagEvent(b) : undefined));
    expect(value).toEqual({ type: 'm.tag', content: { tags: { 'u.work': { order: 0.5 }, 'm.favourite': {} } } });

    expect(ok(await alice.client.delete(tagPath(alice, 'u.work')))).toEqual({});
    expect(ok(await alice.client.get(tagsPath(alice)))).toEqual({ tags: { 'm.favourite': {} } });
    // Removing a tag that is not there is not an error.
    expect(ok(await alice.client.delete(tagPath(alice, 'u.never')))).toEqual({});
    expect(tagEvent(await syncOk(alice, { set_presence: 'offline' }))?.content).toEqual({ tags: { 'm.favourite': {} } });
  });

  it('replaces a tag’s content and keeps other users’ tags apart', async () => {
    ok(await alice.client.put(tagPath(alice, 'u.order'), { order: 0.1 }));
    ok(await alice.client.put(tagPath(alice, 'u.order'), { order: 1 }));
    expect(ok(await alice.client.get(tagsPath(alice))).tags['u.order']).toEqual({ order: 1 });
    expect(ok(await bob.client.get(tagsPath(bob)))).toEqual({ tags: {} });
  });

  it('wakes a waiting /sync of the owner', async () => {
    const since = await syncToken(bob);
    const waiting = syncUntil(bob, since, tagEvent, { params: { timeout: 10_000 } });
    await new Promise((r) => setTimeout(r, 100));
    ok(await bob.client.put(tagPath(bob, 'm.lowpriority'), {}));
    expect((await waiting).value.content).toEqual({ tags: { 'm.lowpriority': {} } });
  });

  it('does not lose a tag when several are added at once', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `u.parallel${i}`);
    await Promise.all(names.map((n) => bob.client.put(tagPath(bob, n), {})));
    const tags = ok(await bob.client.get(tagsPath(bob))).tags as Record<string, unknown>;
    for (const n of names) expect(tags[n]).toEqual({});
  });

  it.each([
    ['an order above 1', { order: 1.5 }],
    ['a negative order', { order: -0.1 }],
    ['an order that is not a number', { order: 'high' }],
  ])('rejects %s', async (_name, body) => {
    expectMatrixError(await alice.client.put(tagPath(alice, 'u.bad'), body), 400, 'M_BAD_JSON');
  });

  it('rejects a tag name over 255 bytes and a malformed room id', async () => {
    expectMatrixError(await alice.client.put(tagPath(alice, `u.${'é'.repeat(127)}`), {}), 400, 'M_INVALID_PARAM');
    expectMatrixError(await alice.client.get(tagsPath(alice, 'not-a-room')), 400, 'M_INVALID_PARAM');
  });

  it('refuses access to another user’s tags', async () => {
    expectMatrixError(await bob.client.get(tagsPath(alice)), 403, 'M_FORBIDDEN');
    expectMatrixError(await bob.client.put(tagPath(alice, 'u.x'), {}), 403, 'M_FORBIDDEN');
    expectMatrixError(await bob.client.delete(tagPath(alice, 'm.favourite')), 403, 'M_FORBIDDEN');
    expectMatrixError(await bob.client.get(tagsPath(alice), { token: null }), 401, 'M_MISSING_TOKEN');
  });
});

describe('ignored users', () => {
  const ignorePath = (user: TestUser) => `${CS}/user/${enc(user.userId)}/account_data/m.ignored_user_list`;

  it('hides an ignored sender from /sync and /messages, and shows them again once unignored', async () => {
    const room = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, room);
    await sendText(alice, room, 'before ignoring');
    const since = await syncToken(bob);

    ok(await bob.client.put(ignorePath(bob), { ignored_users: { [alice.userId]: {} } }));
    const listed = await syncUntil(bob, since, (b) => accountData(b, 'm.ignored_user_list'));
    expect(listed.value.content).toEqual({ ignored_users: { [alice.userId]: {} } });

    await sendText(alice, room, 'while ignored');
    await sendText(bob, room, 'bob speaks');
    const seen = await syncUntil(bob, listed.body.next_batch, (b) => {
      const events = roomEvents(b, room, 'timeline');
      return events.length > 0 ? events : undefined;
    });
    expect(bodiesOf(seen.value)).toEqual(['bob speaks']);
    expect(bodiesOf(ok(await messages(bob, room, { dir: 'b', limit: 50 })).chunk)).toEqual(['bob speaks']);
    expect(bodiesOf(roomEvents(await syncOk(bob, { set_presence: 'offline' }), room, 'timeline'))).not.toContain('while ignored');
    // Alice still sees everything.
    expect(bodiesOf(ok(await messages(alice, room, { dir: 'b', limit: 50 })).chunk)).toEqual([
      'bob speaks',
      'while ignored',
      'before ignoring',
    ]);

    const beforeUnignore = await syncToken(bob);
    ok(await bob.client.put(ignorePath(bob), { ignored_users: {} }));
    const cleared = await syncUntil(bob, beforeUnignore, (b) => accountData(b, 'm.ignored_user_list'));
    expect(cleared.value.content).toEqual({ ignored_users: {} });
    expect(bodiesOf(ok(await messages(bob, room, { dir: 'b', limit: 50 })).chunk)).toEqual([
      'bob speaks',
      'while ignored',
      'before ignoring',
    ]);
    await sendText(alice, room, 'after unignoring');
    const after = await syncUntil(bob, cleared.body.next_batch, (b) => {
      const bodies = bodiesOf(roomEvents(b, room, 'timeline'));
      return bodies.length > 0 ? bodies : undefined;
    });
    expect(after.value).toEqual(['after unignoring']);
  });
});
