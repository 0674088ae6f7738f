import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import type { TestUser } from '../support/client.ts';
import { createRoom, enc, joinRoom, newTxnId, ok, query, roomPath, sendEvent, sendText } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** GET /_matrix/client/v1/rooms/{roomId}/threads. */

const {
  users: [alice, bob, carol],
} = withHomeserver({ users: ['thr_alice', 'thr_bob', 'thr_carol'] });
let roomId: string;
// Thread roots: a (alice, bob replies), b (bob, alice replies), c (alice, alice replies); d has no replies.
let a: string;
let b: string;
let c: string;
let lastInA: string;

const threads = (user: TestUser, rid: string, params: Record<string, string | number | undefined> = {}) =>
  user.client.get(`/_matrix/client/v1/rooms/${enc(rid)}/threads${query(params)}`);
const ids = (chunk: Array<{ event_id: string }>) => chunk.map((e) => e.event_id);
const reply = (user: TestUser, rid: string, rootId: string, body: string) =>
  sendEvent(user, rid, 'm.room.message', { msgtype: 'm.text', body, 'm.relates_to': { rel_type: 'm.thread', event_id: rootId } });

beforeAll(async () => {
  roomId = await createRoom(alice, { preset: 'public_chat' });
  await joinRoom(bob, roomId);
  a = await sendText(alice, roomId, 'thread a');
  b = await sendText(bob, roomId, 'thread b');
  c = await sendText(alice, roomId, 'thread c');
  await sendText(alice, roomId, 'no thread');
  await reply(bob, roomId, a, 'a1');
  await reply(alice, roomId, b, 'b1');
  await reply(alice, roomId, c, 'c1');
  await reply(alice, roomId, a, 'a2');
  lastInA = await reply(bob, roomId, a, 'a3');
  // Most recent activity: a, then c, then b.
});

describe('GET /threads', () => {
  it('lists thread roots by latest activity, with the m.thread aggregation bundled', async () => {
    const body = ok(await threads(bob, roomId));
    expectMatchesSpec('threads_list.yaml', '/rooms/{roomId}/threads', 'GET', 200, body);
    expect(ids(body.chunk)).toEqual([a, c, b]);
    expect(body.next_batch).toBeUndefined();
    const thread = body.chunk[0].unsigned['m.relations']['m.thread'];
    expect(thread.count).toBe(3);
    expect(thread.latest_event.event_id).toBe(lastInA);
    expect(thread.latest_event.content.body).toBe('a3');
    expect(thread.current_user_participated).toBe(true);
    // bob neither started nor replied to c.
    expect(body.chunk[1].unsigned['m.relations']['m.thread'].current_user_participated).toBe(false);
  });

  it('keeps only threads the user started or replied in with include=participated', async () => {
    expect(ids(ok(await threads(bob, roomId, { include: 'participated' })).chunk)).toEqual([a, b]);
    expect(ids(ok(await threads(alice, roomId, { include: 'participated' })).chunk)).toEqual([a, c, b]);
    expect(ids(ok(await threads(bob, roomId, { include: 'all' })).chunk)).toEqual([a, c, b]);
  });

  it('paginates with next_batch', async () => {
    const first = ok(await threads(bob, roomId, { limit: 2 }));
    expect(ids(first.chunk)).toEqual([a, c]);
    expect(first.next_batch).toEqual(expect.any(String));
    const second = ok(await threads(bob, roomId, { limit: 2, from: first.next_batch }));
    expectMatchesSpec('threads_list.yaml', '/rooms/{roomId}/threads', 'GET', 200, second);
    expect(ids(second.chunk)).toEqual([b]);
    expect(second.next_batch).toBeUndefined();
  });

  it('drops a thread whose replies were all redacted', async () => {
    const room = await createRoom(alice, { preset: 'public_chat' });
    const rootId = await sendText(alice, room, 'lonely');
    const only = await reply(alice, room, rootId, 'soon gone');
    expect(ids(ok(await threads(alice, room)).chunk)).toEqual([rootId]);
    ok(await alice.client.put(roomPath(room, `/redact/${enc(only)}/${newTxnId()}`), {}));
    expect(ok(await threads(alice, room)).chunk).toEqual([]);
  });

  it('applies history visibility to the roots', async () => {
    const room = await createRoom(alice, {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
    });
    const early = await sendText(alice, room, 'before carol');
    await joinRoom(carol, room);
    await reply(alice, room, early, 'reply after carol joined');
    const late = await sendText(alice, room, 'after carol');
    await reply(alice, room, late, 'reply');
    expect(ids(ok(await threads(carol, room)).chunk)).toEqual([late]);
    expect(ids(ok(await threads(alice, room)).chunk)).toEqual([late, early]);
  });

  it('shows a root sent by an ignored user redacted', async () => {
    ok(
      await carol.client.put(`/_matrix/client/v3/user/${enc(carol.userId)}/account_data/m.ignored_user_list`, {
        ignored_users: { [bob.userId]: {} },
      }),
    );
    await joinRoom(carol, roomId);
    const body = ok(await threads(carol, roomId));
    const fromBob = body.chunk.find((e: Record<string, any>) => e.event_id === b);
    expect(fromBob.content).toEqual({});
    expect(fromBob.unsigned['m.relations']['m.thread'].count).toBe(1);
    expect(body.chunk.find((e: Record<string, any>) => e.event_id === a).content.body).toBe('thread a');
  });
});

describe('GET /threads: errors', () => {
  it('rejects a bad include, limit or from', async () => {
    expectMatrixError(await threads(bob, roomId, { include: 'mine' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await threads(bob, roomId, { limit: 0 }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await threads(bob, roomId, { limit: 'ten' }), 400, 'M_INVALID_PARAM');
    const res = await threads(bob, roomId, { from: 'not-a-token' });
    expectMatrixError(res, 400, 'M_INVALID_PARAM');
    expectMatchesSpec('threads_list.yaml', '/rooms/{roomId}/threads', 'GET', 400, res.body);
  });

  it('forbids rooms the user cannot view', async () => {
    const secret = await createRoom(alice, { preset: 'private_chat' });
    const res = await threads(bob, secret);
    expectMatrixError(res, 403, 'M_FORBIDDEN');
    expectMatchesSpec('threads_list.yaml', '/rooms/{roomId}/threads', 'GET', 403, res.body);
    expectMatrixError(await threads(bob, '!nowhere:localhost'), 403, 'M_FORBIDDEN');
  });

  it('requires an access token', async () => {
    expectMatrixError(await bob.client.get(`/_matrix/client/v1/rooms/${enc(roomId)}/threads`, { token: null }), 401, 'M_MISSING_TOKEN');
  });
});
