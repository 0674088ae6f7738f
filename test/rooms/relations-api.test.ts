import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { registerUser, type TestUser } from '../support/client.ts';
import { createRoom, enc, joinRoom, leaveRoom, newTxnId, ok, query, roomPath, sendEvent, sendText, setState } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]. */

const {
  hs,
  users: [alice, bob, carol],
} = withHomeserver({ users: ['rel_alice', 'rel_bob', 'rel_carol'] });
let roomId: string;
let root: string;
// Direct children of root, in the order sent.
let reaction: string;
let edit: string;
let replies: string[];
let reference: string;
// Deeper: a reaction to replies[1] (depth 2), a reference to that (3), and one more (4).
let depth2: string;
let depth3: string;
let depth4: string;

const v1 = (rid: string, rest: string) => `/_matrix/client/v1/rooms/${enc(rid)}${rest}`;
const relations = (
  user: TestUser,
  rid: string,
  eventId: string,
  suffix = '',
  params: Record<string, string | number | boolean | undefined> = {},
) => user.client.get(v1(rid, `/relations/${enc(eventId)}${suffix}${query(params)}`));
const ids = (chunk: Array<{ event_id: string }>) => chunk.map((e) => e.event_id);
const rel = (relType: string, eventId: string, extra: Record<string, unknown> = {}) => ({
  'm.relates_to': { rel_type: relType, event_id: eventId, ...extra },
});

beforeAll(async () => {
  roomId = await createRoom(alice, { preset: 'public_chat', name: 'Relations' });
  await joinRoom(bob, roomId);
  root = await sendText(alice, roomId, 'root');
  reaction = await sendEvent(bob, roomId, 'm.reaction', rel('m.annotation', root, { key: '👍' }));
  edit = await sendEvent(alice, roomId, 'm.room.message', {
    msgtype: 'm.text',
    body: '* root!',
    'm.new_content': { msgtype: 'm.text', body: 'root!' },
    ...rel('m.replace', root),
  });
  replies = [];
  for (const body of ['one', 'two', 'three'])
    replies.push(await sendEvent(bob, roomId, 'm.room.message', { msgtype: 'm.text', body, ...rel('m.thread', root) }));
  reference = await sendEvent(alice, roomId, 'm.room.message', { msgtype: 'm.text', body: 'see above', ...rel('m.reference', root) });
  depth2 = await sendEvent(alice, roomId, 'm.reaction', rel('m.annotation', replies[1]!, { key: '🎉' }));
  depth3 = await sendEvent(bob, roomId, 'm.room.message', { msgtype: 'm.text', body: 'ref to reaction', ...rel('m.reference', depth2) });
  depth4 = await sendEvent(alice, roomId, 'm.room.message', { msgtype: 'm.text', body: 'ref to ref', ...rel('m.reference', depth3) });
});

describe('GET /relations: listing', () => {
  it('returns the direct children, most recent first, as spec client events', async () => {
    const res = await relations(bob, roomId, root);
    const body = ok(res);
    expectMatchesSpec('relations.yaml', '/rooms/{roomId}/relations/{eventId}', 'GET', 200, body);
    expect(ids(body.chunk)).toEqual([reference, ...[...replies].reverse(), edit, reaction]);
    expect(body.next_batch).toBeUndefined();
    expect(body.prev_batch).toBeUndefined();
    expect(body).not.toHaveProperty('recursion_depth');
    expect(body.chunk.every((e: Record<string, any>) => e.room_id === roomId)).toBe(true);
  });

  it('filters by relation type, and by relation type and event type', async () => {
    const threads = ok(await relations(bob, roomId, root, '/m.thread'));
    expectMatchesSpec('relations.yaml', '/rooms/{roomId}/relations/{eventId}/{relType}', 'GET', 200, threads);
    expect(ids(threads.chunk)).toEqual([...replies].reverse());

    const reactions = ok(await relations(bob, roomId, root, '/m.annotation/m.reaction'));
    expectMatchesSpec('relations.yaml', '/rooms/{roomId}/relations/{eventId}/{relType}/{eventType}', 'GET', 200, reactions);
    expect(ids(reactions.chunk)).toEqual([reaction]);

    const none = ok(await relations(bob, roomId, root, '/m.annotation/m.room.message'));
    expect(none.chunk).toEqual([]);
  });

  it('returns chronological order with dir=f', async () => {
    const body = ok(await relations(bob, roomId, root, '', { dir: 'f' }));
    expect(ids(body.chunk)).toEqual([reaction, edit, ...replies, reference]);
  });

  it('bundles aggregations of the children themselves', async () => {
    const body = ok(await relations(bob, roomId, root, '/m.thread'));
    const two = body.chunk.find((e: Record<string, any>) => e.event_id === replies[1]);
    expect(two.unsigned['m.relations']).toBeUndefined(); // annotations are not bundled by the server
    const three = ok(await relations(bob, roomId, depth2));
    expect(three.chunk[0].unsigned['m.relations']?.['m.reference']?.chunk).toEqual([{ event_id: depth4 }]);
  });
});

describe('GET /relations: pagination', () => {
  it('pages backwards with next_batch until the end, without overlap', async () => {
    const seen: string[] = [];
    let from: string | undefined;
    let pages = 0;
    for (;;) {
      const body = ok(await relations(bob, roomId, root, '', { limit: 2, from }));
      pages += 1;
      expect(body.chunk.length).toBeLessThanOrEqual(2);
      if (from !== undefined) expect(body.prev_batch).toBe(from);
      seen.push(...ids(body.chunk));
      if (body.next_batch === undefined) break;
      from = body.next_batch;
      expect(pages).toBeLessThan(10);
    }
    expect(seen).toEqual([reference, ...[...replies].reverse(), edit, reaction]);
    // Six children in pages of two: the third page knows it is the last.
    expect(pages).toBe(3);
  });

  it('pages forwards with dir=f', async () => {
    const first = ok(await relations(bob, roomId, root, '', { dir: 'f', limit: 3 }));
    expect(ids(first.chunk)).toEqual([reaction, edit, replies[0]]);
    const second = ok(await relations(bob, roomId, root, '', { dir: 'f', limit: 3, from: first.next_batch }));
    expect(ids(second.chunk)).toEqual([replies[1], replies[2], reference]);
    expect(second.next_batch).toBeUndefined();
  });

  it('stops at the `to` token', async () => {
    const first = ok(await relations(bob, roomId, root, '', { limit: 2 }));
    const upToFirstPage = ok(await relations(bob, roomId, root, '', { limit: 50, to: first.next_batch }));
    expect(ids(upToFirstPage.chunk)).toEqual(ids(first.chunk));
  });

  it('accepts a /messages token as `from`', async () => {
    const msgs = ok(await bob.client.get(roomPath(roomId, `/messages${query({ dir: 'b', limit: 1 })}`)));
    const body = ok(await relations(bob, roomId, root, '', { from: msgs.start }));
    expect(ids(body.chunk)[0]).toBe(reference);
  });
});

describe('GET /relations: recurse', () => {
  it('follows relations of relations three levels deep', async () => {
    const body = ok(await relations(bob, roomId, root, '', { recurse: true }));
    expectMatchesSpec('relations.yaml', '/rooms/{roomId}/relations/{eventId}', 'GET', 200, body);
    expect(body.recursion_depth).toBe(3);
    expect(ids(body.chunk)).toEqual([depth3, depth2, reference, ...[...replies].reverse(), edit, reaction]);
    expect(ids(body.chunk)).not.toContain(depth4);
  });

  it('applies the filters at every level', async () => {
    // depth3 is an m.reference, but it hangs off an m.annotation: not reachable through m.reference only.
    const refs = ok(await relations(bob, roomId, root, '/m.reference', { recurse: true }));
    expect(ids(refs.chunk)).toEqual([reference]);
    const fromReply = ok(await relations(bob, roomId, replies[1]!, '', { recurse: true }));
    expect(ids(fromReply.chunk)).toEqual([depth4, depth3, depth2]);
  });

  it('reports the depth when recurse=false is given', async () => {
    const body = ok(await relations(bob, roomId, root, '', { recurse: false }));
    expect(body.recursion_depth).toBe(1);
    expect(ids(body.chunk)).not.toContain(depth2);
  });
});

describe('GET /relations: visibility', () => {
  let privateRoom: string;
  let before: string;
  let childBefore: string;
  let childAfter: string;
  let parentAfter: string;
  beforeAll(async () => {
    privateRoom = await createRoom(alice, {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
    });
    before = await sendText(alice, privateRoom, 'before carol');
    childBefore = await sendEvent(alice, privateRoom, 'm.reaction', rel('m.annotation', before, { key: 'a' }));
    await joinRoom(carol, privateRoom);
    childAfter = await sendEvent(alice, privateRoom, 'm.reaction', rel('m.annotation', before, { key: 'b' }));
    parentAfter = await sendText(alice, privateRoom, 'after carol');
    await sendEvent(alice, privateRoom, 'm.reaction', rel('m.annotation', parentAfter, { key: 'c' }));
  });

  it('hides a parent the viewer cannot see behind 404', async () => {
    expectMatrixError(await relations(carol, privateRoom, before), 404, 'M_NOT_FOUND');
    expect(ids(ok(await relations(alice, privateRoom, before)).chunk)).toEqual([childAfter, childBefore]);
  });

  it('filters children by history visibility', async () => {
    // erin sees the parent while joined; the reaction sent after she left stays hidden from her.
    const erin = await registerUser(hs.url, 'rel_erin');
    await joinRoom(erin, privateRoom);
    const parent = await sendText(alice, privateRoom, 'erin sees this');
    const seen = await sendEvent(alice, privateRoom, 'm.reaction', rel('m.annotation', parent, { key: 'seen' }));
    await leaveRoom(erin, privateRoom);
    const unseen = await sendEvent(alice, privateRoom, 'm.reaction', rel('m.annotation', parent, { key: 'unseen' }));
    expect(ids(ok(await relations(erin, privateRoom, parent)).chunk)).toEqual([seen]);
    expect(ids(ok(await relations(alice, privateRoom, parent)).chunk)).toEqual([unseen, seen]);
    // bob never joined this room: nothing of it is visible to him.
    expectMatrixError(await relations(bob, privateRoom, parentAfter), 404, 'M_NOT_FOUND');
    expect(ok(await relations(carol, privateRoom, parentAfter)).chunk).toHaveLength(1);
  });

  it('drops redacted children', async () => {
    const doomed = await sendEvent(alice, privateRoom, 'm.reaction', rel('m.annotation', parentAfter, { key: 'd' }));
    expect(ids(ok(await relations(carol, privateRoom, parentAfter)).chunk)).toContain(doomed);
    ok(await alice.client.put(roomPath(privateRoom, `/redact/${enc(doomed)}/${newTxnId()}`), {}));
    expect(ids(ok(await relations(carol, privateRoom, parentAfter)).chunk)).not.toContain(doomed);
  });

  it('leaves out children from ignored users', async () => {
    const dave = await registerUser(hs.url, 'rel_dave');
    await joinRoom(dave, roomId);
    ok(
      await dave.client.put(`/_matrix/client/v3/user/${enc(dave.userId)}/account_data/m.ignored_user_list`, {
        ignored_users: { [bob.userId]: {} },
      }),
    );
    const body = ok(await relations(dave, roomId, root));
    expect(ids(body.chunk)).toEqual([reference, edit]);
  });
});

describe('GET /relations: errors', () => {
  it('404s for an unknown event or one from another room', async () => {
    expectMatrixError(await relations(bob, roomId, '$nope'), 404, 'M_NOT_FOUND');
    const other = await createRoom(bob, { preset: 'public_chat' });
    expectMatrixError(await relations(bob, other, root), 404, 'M_NOT_FOUND');
    const res = await relations(bob, roomId, '$nope');
    expectMatchesSpec('relations.yaml', '/rooms/{roomId}/relations/{eventId}', 'GET', 404, res.body);
  });

  it('404s for a room the user cannot read', async () => {
    const secret = await createRoom(alice, { preset: 'private_chat' });
    const ev = await sendText(alice, secret, 'secret');
    expectMatrixError(await relations(carol, secret, ev), 404, 'M_NOT_FOUND');
    expectMatrixError(await relations(carol, '!unknown:localhost', ev), 404, 'M_NOT_FOUND');
  });

  it('rejects bad parameters', async () => {
    expectMatrixError(await relations(bob, roomId, root, '', { dir: 'x' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await relations(bob, roomId, root, '', { recurse: 'yes' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await relations(bob, roomId, root, '', { from: 'garbage' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await relations(bob, roomId, root, '', { to: 'garbage' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await relations(bob, roomId, root, '', { limit: -1 }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await relations(bob, 'not-a-room', root), 400, 'M_INVALID_PARAM');
  });

  it('requires an access token', async () => {
    expectMatrixError(await bob.client.get(v1(roomId, `/relations/${enc(root)}`), { token: null }), 401, 'M_MISSING_TOKEN');
  });

  it('lists the children of a state event too', async () => {
    const stateId = await setState(alice, roomId, 'm.room.topic', '', { topic: 'topic' });
    const child = await sendEvent(bob, roomId, 'm.reaction', rel('m.annotation', stateId, { key: 'x' }));
    expect(ids(ok(await relations(bob, roomId, stateId)).chunk)).toEqual([child]);
  });
});
