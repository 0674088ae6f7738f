import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import type { TestUser } from '../support/client.ts';
import { createRoom, enc, joinRoom, roomPath, sendEvent, sendText, syncOk } from '../support/rooms.ts';
import { roomEvents, syncToken, syncUntil } from '../support/sync.ts';
import { withHomeserver } from '../support/with-homeserver.ts';
import { untilPushEvaluated } from '../support/push.ts';

const {
  hs,
  users: [alice, bob, charlie],
} = withHomeserver({ users: ['alice', 'bob', 'charlie'] });
let roomId: string;
let otherRoom: string;

beforeAll(async () => {
  roomId = await createRoom(alice, { preset: 'public_chat' });
  otherRoom = await createRoom(alice, { preset: 'public_chat' });
  await joinRoom(bob, roomId);
});

const receiptPath = (type: string, eventId: string, room = roomId) => roomPath(room, `/receipt/${enc(type)}/${enc(eventId)}`);
const sendReceipt = (user: TestUser, type: string, eventId: string, body: Record<string, unknown> = {}, room = roomId) =>
  user.client.post(receiptPath(type, eventId, room), body);
/** The m.receipt content of the room in a sync response, if any. */
const receiptsIn = (body: Record<string, any>, room = roomId) =>
  roomEvents(body, room, 'ephemeral', 'm.receipt')[0]?.content as Record<string, any> | undefined;
const unreadIn = (body: Record<string, any>, room = roomId) =>
  body.rooms?.join?.[room]?.unread_notifications?.notification_count as number | undefined;

describe('POST /rooms/{roomId}/receipt/{receiptType}/{eventId}', () => {
  it('shows an m.read receipt to the other member and clears the reader’s unread count', async () => {
    const m1 = await sendText(alice, roomId, 'one');
    const m2 = await sendText(alice, roomId, 'two');
    await untilPushEvaluated(hs.hs.db.sql);
    expect(unreadIn(await syncOk(bob, { set_presence: 'offline' }))).toBeGreaterThanOrEqual(2);
    const aliceSince = await syncToken(alice);

    const r = await sendReceipt(bob, 'm.read', m2);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({});

    const { value } = await syncUntil(alice, aliceSince, (b) => receiptsIn(b));
    expect(Object.keys(value)).toEqual([m2]);
    expect(value[m2]['m.read'][bob.userId].ts).toEqual(expect.any(Number));
    expect(value[m2]['m.read'][bob.userId].thread_id).toBeUndefined();
    expect(unreadIn(await syncOk(bob, { set_presence: 'offline' }))).toBe(0);

    // Receipts only move forwards: an older event leaves the marker where it was.
    const since = await syncToken(alice);
    expect((await sendReceipt(bob, 'm.read', m1)).status).toBe(200);
    expect(receiptsIn(await syncOk(alice, { since, set_presence: 'offline' }))).toBeUndefined();
  });

  it('wakes a waiting /sync of the other member', async () => {
    const m = await sendText(alice, roomId, 'wake me');
    const since = await syncToken(alice);
    const waiting = syncUntil(alice, since, (b) => receiptsIn(b), { params: { timeout: 10_000 } });
    await new Promise((r) => setTimeout(r, 100));
    expect((await sendReceipt(bob, 'm.read', m)).status).toBe(200);
    expect(Object.keys((await waiting).value)).toEqual([m]);
  });

  it('keeps an m.read.private receipt to its owner, and counts it as read', async () => {
    const m = await sendText(alice, roomId, 'secret read');
    await untilPushEvaluated(hs.hs.db.sql);
    expect(unreadIn(await syncOk(bob, { set_presence: 'offline' }))).toBe(1);
    const aliceSince = await syncToken(alice);
    const bobSince = await syncToken(bob);

    expect((await sendReceipt(bob, 'm.read.private', m)).status).toBe(200);
    const own = await syncUntil(bob, bobSince, (b) => receiptsIn(b));
    expect(own.value[m]['m.read.private'][bob.userId].ts).toEqual(expect.any(Number));
    expect(unreadIn(own.body)).toBe(0);
    expect(receiptsIn(await syncOk(alice, { since: aliceSince, set_presence: 'offline' }))).toBeUndefined();
    // Nor does anyone else see it in an initial sync.
    expect(receiptsIn(await syncOk(alice, { set_presence: 'offline' }))?.[m]?.['m.read.private']).toBeUndefined();
  });

  it('sets m.fully_read room account data through the receipt endpoint', async () => {
    const m = await sendText(alice, roomId, 'fully');
    const since = await syncToken(bob);
    expect((await sendReceipt(bob, 'm.fully_read', m)).status).toBe(200);
    const { value } = await syncUntil(bob, since, (b) => roomEvents(b, roomId, 'account_data', 'm.fully_read')[0]);
    expect(value).toEqual({ type: 'm.fully_read', content: { event_id: m } });
    expect(receiptsIn(await syncOk(bob, { since, set_presence: 'offline' }))?.[m]?.['m.fully_read']).toBeUndefined();
  });

  describe('threaded receipts', () => {
    let root: string;
    let reply: string;
    let main: string;
    beforeAll(async () => {
      root = await sendText(alice, roomId, 'thread root');
      reply = await sendEvent(alice, roomId, 'm.room.message', {
        msgtype: 'm.text',
        body: 'in thread',
        'm.relates_to': { rel_type: 'm.thread', event_id: root, is_falling_back: true, 'm.in_reply_to': { event_id: root } },
      });
      main = await sendText(alice, roomId, 'main timeline');
    });

    it('accepts a receipt in a thread and one for the main timeline, with their thread_id', async () => {
      const since = await syncToken(alice);
      expect((await sendReceipt(bob, 'm.read', reply, { thread_id: root })).status).toBe(200);
      expect((await sendReceipt(bob, 'm.read', main, { thread_id: 'main' })).status).toBe(200);
      // The thread root itself belongs to the main timeline, and may carry its thread's receipt.
      expect((await sendReceipt(bob, 'm.read', root, { thread_id: root })).status).toBe(200);
      const { value } = await syncUntil(alice, since, (b) => {
        const r = receiptsIn(b);
        return r?.[reply] && r[main] ? r : undefined;
      });
      expect(value[reply]['m.read'][bob.userId].thread_id).toBe(root);
      expect(value[main]['m.read'][bob.userId].thread_id).toBe('main');
    });

    it.each([
      ['a thread event receipted as main', () => reply, () => 'main'],
      ['a main-timeline event receipted in a thread', () => main, () => root],
      ['a thread_id that is not a thread root', () => main, () => main],
      ['a thread_id that is no event at all', () => main, () => '$nope:localhost'],
    ])('rejects %s', async (_name, event, thread) => {
      expectMatrixError(await sendReceipt(bob, 'm.read', event(), { thread_id: thread() }), 400, 'M_INVALID_PARAM');
    });

    it.each([
      ['empty', ''],
      ['not a string', 5],
      ['null', null],
    ])('rejects a thread_id that is %s', async (_name, threadId) => {
      expectMatrixError(await sendReceipt(bob, 'm.read', main, { thread_id: threadId }), 400, 'M_INVALID_PARAM');
    });

    it('rejects a thread_id on m.fully_read', async () => {
      expectMatrixError(await sendReceipt(bob, 'm.fully_read', main, { thread_id: 'main' }), 400, 'M_INVALID_PARAM');
    });
  });

  it('answers 404 for an event that does not exist or is in another room', async () => {
    expectMatrixError(await sendReceipt(bob, 'm.read', '$missing:localhost'), 404, 'M_NOT_FOUND');
    const elsewhere = await sendText(alice, otherRoom, 'elsewhere');
    expectMatrixError(await sendReceipt(bob, 'm.read', elsewhere), 404, 'M_NOT_FOUND');
  });

  it('refuses a user who is not in the room', async () => {
    const m = await sendText(alice, roomId, 'members only');
    expectMatrixError(await sendReceipt(charlie, 'm.read', m), 403, 'M_FORBIDDEN');
  });

  it('rejects an unknown receipt type, a malformed event id, and a body that is not JSON', async () => {
    const m = await sendText(alice, roomId, 'types');
    expectMatrixError(await sendReceipt(bob, 'm.seen', m), 400, 'M_INVALID_PARAM');
    expectMatrixError(await sendReceipt(bob, 'm.read', 'not-an-event'), 400, 'M_INVALID_PARAM');
    const raw = await bob.client.request('POST', receiptPath('m.read', m), undefined, {
      raw: 'nope',
      headers: { 'content-type': 'application/json' },
    });
    expectMatrixError(raw, 400, 'M_NOT_JSON');
  });
});

describe('POST /rooms/{roomId}/read_markers', () => {
  it('sets the fully-read marker and the public and private receipts at once', async () => {
    const m1 = await sendText(alice, roomId, 'marker one');
    const m2 = await sendText(alice, roomId, 'marker two');
    const m3 = await sendText(alice, roomId, 'marker three');
    const aliceSince = await syncToken(alice);
    const bobSince = await syncToken(bob);
    const r = await bob.client.post(roomPath(roomId, '/read_markers'), { 'm.fully_read': m1, 'm.read': m2, 'm.read.private': m3 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);

    const seen = await syncUntil(bob, bobSince, (b) => {
      const marker = roomEvents(b, roomId, 'account_data', 'm.fully_read')[0];
      const receipts = receiptsIn(b);
      return marker && receipts?.[m3] ? { marker, receipts } : undefined;
    });
    expect(seen.value.marker.content).toEqual({ event_id: m1 });
    expect(seen.value.receipts[m2]['m.read'][bob.userId]).toBeDefined();
    expect(seen.value.receipts[m3]['m.read.private'][bob.userId]).toBeDefined();
    expect(unreadIn(seen.body)).toBe(0);

    const others = await syncUntil(alice, aliceSince, (b) => receiptsIn(b));
    expect(Object.keys(others.value)).toEqual([m2]);
  });

  it('accepts m.fully_read alone, and an empty body', async () => {
    const m = await sendText(alice, roomId, 'alone');
    expect((await bob.client.post(roomPath(roomId, '/read_markers'), { 'm.fully_read': m })).status).toBe(200);
    expect((await bob.client.post(roomPath(roomId, '/read_markers'), {})).status).toBe(200);
    const marker = roomEvents(await syncOk(bob, { set_presence: 'offline' }), roomId, 'account_data', 'm.fully_read')[0];
    expect(marker?.content).toEqual({ event_id: m });
  });

  it('changes nothing when one of the events is unknown', async () => {
    const before = roomEvents(await syncOk(bob, { set_presence: 'offline' }), roomId, 'account_data', 'm.fully_read')[0];
    const m = await sendText(alice, roomId, 'not marked');
    expectMatrixError(
      await bob.client.post(roomPath(roomId, '/read_markers'), { 'm.fully_read': m, 'm.read': '$missing:localhost' }),
      404,
      'M_NOT_FOUND',
    );
    const after = roomEvents(await syncOk(bob, { set_presence: 'offline' }), roomId, 'account_data', 'm.fully_read')[0];
    expect(after).toEqual(before);
  });

  it('rejects malformed values and non-members', async () => {
    expectMatrixError(await bob.client.post(roomPath(roomId, '/read_markers'), { 'm.read': 5 }), 400, 'M_BAD_JSON');
    expectMatrixError(await bob.client.post(roomPath(roomId, '/read_markers'), { 'm.fully_read': 'no-dollar' }), 400, 'M_BAD_JSON');
    const m = await sendText(alice, roomId, 'x');
    expectMatrixError(await charlie.client.post(roomPath(roomId, '/read_markers'), { 'm.fully_read': m }), 403, 'M_FORBIDDEN');
  });

  it('refuses to set m.fully_read through the account data API', async () => {
    const put = await bob.client.put(`/_matrix/client/v3/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/m.fully_read`, {
      event_id: '$x',
    });
    expect(put.status).toBeGreaterThanOrEqual(400);
  });
});
