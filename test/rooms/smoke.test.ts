import { describe, expect, it } from 'vitest';
import { untilPushEvaluated } from '../support/push.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

const {
  hs,
  users: [alice, bob],
} = withHomeserver({ users: ['alice', 'bob'] });

describe('room engine smoke', () => {
  it('creates a room, invites, joins, sends and syncs', async () => {
    const created = await alice.client.post('/_matrix/client/v3/createRoom', {
      name: 'Lisbon',
      preset: 'private_chat',
      invite: [bob.userId],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const roomId = created.body.room_id as string;
    const bobSync = await bob.client.get('/_matrix/client/v3/sync');
    expect(bobSync.status, JSON.stringify(bobSync.body)).toBe(200);
    expect(Object.keys(bobSync.body.rooms.invite)).toContain(roomId);
    const join = await bob.client.post(`/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {});
    expect(join.status, JSON.stringify(join.body)).toBe(200);
    const sent = await alice.client.put(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, {
      msgtype: 'm.text',
      body: 'hi',
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    const again = await alice.client.put(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, {
      msgtype: 'm.text',
      body: 'hi',
    });
    expect(again.body.event_id).toBe(sent.body.event_id);
    // Unread counts follow the event (the push consumer): once they are in, the next wake is the next event.
    await untilPushEvaluated(hs.hs.db.sql);
    const s2 = await bob.client.get(`/_matrix/client/v3/sync?since=${bobSync.body.next_batch}`);
    const tl = s2.body.rooms.join[roomId].timeline.events.map((e: { type: string }) => e.type);
    expect(tl).toContain('m.room.message');
    const msgs = await bob.client.get(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=50`);
    expect(msgs.status, JSON.stringify(msgs.body)).toBe(200);
    expect(msgs.body.chunk[0].content.body).toBe('hi');
    const waiting = bob.client.get(`/_matrix/client/v3/sync?since=${s2.body.next_batch}&timeout=10000`);
    await new Promise((r) => setTimeout(r, 200));
    await alice.client.put(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t2`, {
      msgtype: 'm.text',
      body: 'wake',
    });
    const woke = await waiting;
    expect(woke.body.rooms.join[roomId].timeline.events.at(-1).content.body).toBe('wake');
  });
});
