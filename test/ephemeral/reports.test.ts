import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { createRoom, enc, joinRoom, ok, roomPath, sendText } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const {
  hs,
  users: [alice, bob, charlie],
} = withHomeserver({ users: ['alice', 'bob', 'charlie'] });
let roomId: string;
let privateRoom: string;
let eventId: string;

beforeAll(async () => {
  roomId = await createRoom(alice, { preset: 'public_chat' });
  privateRoom = await createRoom(alice, { preset: 'private_chat' });
  await joinRoom(bob, roomId);
  eventId = await sendText(alice, roomId, 'something objectionable');
});

const reportPath = (room: string, event?: string) => roomPath(room, event === undefined ? '/report' : `/report/${enc(event)}`);

async function reportsOf(userId: string) {
  return hs.hs.db.sql<{ room_id: string; event_id: string | null; reason: string | null; score: number | null }[]>`
    select room_id, event_id, reason, score from event_reports where user_id = ${userId} order by id`;
}

describe('POST /rooms/{roomId}/report/{eventId}', () => {
  it('stores a report of an event by a member who can see it', async () => {
    const r = await bob.client.post(reportPath(roomId, eventId), { reason: 'spam', score: -100 });
    expect(ok(r)).toEqual({});
    expectMatchesSpec('report_content.yaml', '/rooms/{roomId}/report/{eventId}', 'POST', 200, r.body);
    ok(await bob.client.post(reportPath(roomId, eventId), {}));
    expect(await reportsOf(bob.userId)).toEqual([
      { room_id: roomId, event_id: eventId, reason: 'spam', score: -100 },
      { room_id: roomId, event_id: eventId, reason: null, score: null },
    ]);
  });

  it('answers 404 to a reporter who is not in the room', async () => {
    const r = await charlie.client.post(reportPath(roomId, eventId), { reason: 'nosy' });
    expectMatrixError(r, 404, 'M_NOT_FOUND');
    expectMatchesSpec('report_content.yaml', '/rooms/{roomId}/report/{eventId}', 'POST', 404, r.body);
    expect(await reportsOf(charlie.userId)).toEqual([]);
  });

  it('answers 404 for an unknown event, an event of another room, and a redacted one', async () => {
    expectMatrixError(await bob.client.post(reportPath(roomId, '$missing:localhost'), { reason: 'x' }), 404, 'M_NOT_FOUND');
    const elsewhere = await sendText(alice, privateRoom, 'other room');
    expectMatrixError(await bob.client.post(reportPath(roomId, elsewhere), { reason: 'x' }), 404, 'M_NOT_FOUND');
    const gone = await sendText(alice, roomId, 'soon gone');
    ok(await alice.client.put(roomPath(roomId, `/redact/${enc(gone)}/r1`), {}));
    expectMatrixError(await bob.client.post(reportPath(roomId, gone), { reason: 'x' }), 404, 'M_NOT_FOUND');
  });

  it.each([
    ['a reason that is not a string', { reason: 5 }],
    ['a score above 0', { reason: 'x', score: 5 }],
    ['a score below -100', { reason: 'x', score: -101 }],
    ['a fractional score', { reason: 'x', score: -1.5 }],
  ])('rejects %s', async (_name, body) => {
    expectMatrixError(await bob.client.post(reportPath(roomId, eventId), body), 400, 'M_BAD_JSON');
  });

  it('needs an access token', async () => {
    expectMatrixError(await bob.client.post(reportPath(roomId, eventId), { reason: 'x' }, { token: null }), 401, 'M_MISSING_TOKEN');
  });
});

describe('POST /rooms/{roomId}/report', () => {
  it('stores a report of a room, even from someone who is not in it', async () => {
    const r = await charlie.client.post(reportPath(privateRoom), { reason: 'bad room' });
    expect(ok(r)).toEqual({});
    expectMatchesSpec('report_content.yaml', '/rooms/{roomId}/report', 'POST', 200, r.body);
    expect(await reportsOf(charlie.userId)).toEqual([{ room_id: privateRoom, event_id: null, reason: 'bad room', score: null }]);
  });

  it('accepts a blank reason', async () => {
    ok(await bob.client.post(reportPath(roomId), { reason: '' }));
  });

  it('answers 404 for a room that does not exist', async () => {
    const r = await charlie.client.post(reportPath('!nowhere:localhost'), { reason: 'x' });
    expectMatrixError(r, 404, 'M_NOT_FOUND');
    expectMatchesSpec('report_content.yaml', '/rooms/{roomId}/report', 'POST', 404, r.body);
  });

  it('requires a reason', async () => {
    expectMatrixError(await charlie.client.post(reportPath(roomId), {}), 400, 'M_MISSING_PARAM');
    expectMatrixError(await charlie.client.post(reportPath(roomId), { reason: ['x'] }), 400, 'M_BAD_JSON');
  });
});
