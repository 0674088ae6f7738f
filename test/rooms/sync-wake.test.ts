import { describe, expect, it } from 'vitest';
import type { TestUser } from '../support/client.ts';
import { untilPushEvaluated } from '../support/push.ts';
import { bodiesOf, createRoom, CS, enc, joinRoom, ok, roomPath, sendEvent, sendText, sync } from '../support/rooms.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * The /sync passes one event wakes read their per-user data together (memberships, ignored users,
 * read positions, presence newcomers, account data, push rules: one query per kind for all of
 * them). Each waiter must still get its own answer: the same as its sync asked again alone.
 */

const {
  hs,
  users: [sender, w1, w2, w3, w4, w5],
} = withHomeserver({ users: ['wk_sender', 'wk_w1', 'wk_w2', 'wk_w3', 'wk_w4', 'wk_w5'] });

type Body = Record<string, any>;
const LONG = 20_000;

async function syncBody(user: TestUser, params: Record<string, string | number>): Promise<Body> {
  return ok(await sync(user, params));
}

/** Starts every waiter's long-poll, then gives them time to park, so that one event wakes them all in one tick. */
async function parkAll(waiters: Array<[TestUser, string]>): Promise<Array<Promise<Body>>> {
  const polls = waiters.map(([u, since]) => syncBody(u, { since, timeout: LONG }));
  await new Promise((resolve) => setTimeout(resolve, 500));
  return polls;
}

const timeline = (b: Body, roomId: string): Body[] => b.rooms.join[roomId]?.timeline.events ?? [];
const unread = (b: Body, roomId: string): number | undefined => b.rooms.join[roomId]?.unread_notifications.notification_count;
const presenceSenders = (b: Body): string[] => (b.presence.events as Body[]).map((e) => e.sender).sort();
/** What must not differ between a woken pass and the same sync asked alone (presence ages move). */
function comparable(b: Body) {
  const rooms = Object.fromEntries(
    Object.entries(b.rooms.join as Record<string, Body>).map(([id, r]) => [
      id,
      {
        timeline: r.timeline.events.map((e: Body) => e.event_id),
        state: r.state.events.map((e: Body) => e.event_id).sort(),
        unread: r.unread_notifications,
        summary: r.summary,
        accountData: r.account_data.events,
      },
    ]),
  );
  return { rooms, accountData: b.account_data.events, presence: presenceSenders(b), next: b.next_batch };
}

describe('the passes one event wakes', () => {
  it('each waiter gets its own timeline, unread count, ignored senders, presence and account data', async () => {
    const everyone = [sender, w1, w2, w3, w4, w5];
    for (const u of everyone) ok(await u.client.put(`${CS}/presence/${enc(u.userId)}/status`, { presence: 'online' }));
    const roomId = await createRoom(sender, { preset: 'public_chat' });
    for (const w of [w1, w2, w3, w4]) await joinRoom(w, roomId);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push(await sendText(sender, roomId, `m${i}`));
    // Unread counts come from the push consumer, after commit: let it judge m0..m4 (before w3
    // ignores the sender) so the counts stand still while the waiters are compared.
    await untilPushEvaluated(hs.hs.db.sql);
    // w1..w4 have read up to different messages: their unread counts differ.
    for (const [i, w] of [w1, w2, w3, w4].entries()) ok(await w.client.post(roomPath(roomId, `/receipt/m.read/${enc(sent[i]!)}`), {}));
    ok(await w3.client.put(`${CS}/user/${enc(w3.userId)}/account_data/m.ignored_user_list`, { ignored_users: { [sender.userId]: {} } }));
    const waiters = [w1, w2, w3, w4];
    const start = await Promise.all(waiters.map((w) => syncBody(w, {})));

    // Round 1: a message from the sender wakes w1..w4: a notice, which notifies no one (the
    // .m.rule.suppress_notices rule), so no count moves after the wake.
    const round1 = await parkAll(waiters.map((w, i) => [w, start[i]!.next_batch]));
    await sendEvent(sender, roomId, 'm.room.message', { msgtype: 'm.notice', body: 'wake' });
    const woke1 = await Promise.all(round1);
    for (const [i, w] of waiters.entries()) {
      const b = woke1[i]!;
      // m(i+1)..m4 are unread: 4 - i.
      expect(unread(b, roomId), w.userId).toBe(4 - i);
      expect(bodiesOf(timeline(b, roomId)), w.userId).toEqual(w === w3 ? [] : ['wake']);
      const alone = await syncBody(w, { since: start[i]!.next_batch });
      expect(comparable(b), w.userId).toEqual(comparable(alone));
    }

    // Round 2: w5 joins. It wakes itself (its own membership) and w1..w4 (their room) in one tick;
    // w5 and the others came to share a room, so each side now sees the other's presence, and
    // each waiter's own room account data (written before, outside the window) stays out.
    const s5 = await syncBody(w5, {});
    for (const w of waiters)
      ok(await w.client.put(`${CS}/user/${enc(w.userId)}/rooms/${enc(roomId)}/account_data/org.example.mine`, { owner: w.userId }));
    const before = await Promise.all(waiters.map((w) => syncBody(w, { since: woke1[waiters.indexOf(w)]!.next_batch })));
    const round2 = await parkAll([...waiters.map((w, i): [TestUser, string] => [w, before[i]!.next_batch]), [w5, s5.next_batch]]);
    await joinRoom(w5, roomId);
    const woke2 = await Promise.all(round2);
    const joinedTypes = (b: Body) => timeline(b, roomId).map((e) => `${e.type} ${e.state_key ?? ''}`);
    for (const [i, w] of waiters.entries()) {
      const b = woke2[i]!;
      expect(joinedTypes(b), w.userId).toEqual([`m.room.member ${w5.userId}`]);
      expect(b.rooms.join[roomId].summary['m.joined_member_count'], w.userId).toBe(6);
      expect(b.rooms.join[roomId].account_data.events, w.userId).toEqual([]);
      expect(presenceSenders(b), w.userId).toContain(w5.userId);
      expect(unread(b, roomId), w.userId).toBe(4 - i);
      const alone = await syncBody(w, { since: before[i]!.next_batch });
      expect(comparable(b), w.userId).toEqual(comparable(alone));
    }
    const b5 = woke2[4]!;
    // A new member gets the room whole: its state, and everyone it now shares the room with.
    expect((b5.rooms.join[roomId].state.events as Body[]).map((e) => e.type)).toContain('m.room.create');
    expect(presenceSenders(b5)).toEqual(expect.arrayContaining(everyone.filter((u) => u !== w5).map((u) => u.userId)));
    const alone5 = await syncBody(w5, { since: s5.next_batch });
    expect(comparable(b5)).toEqual(comparable(alone5));
  });
});
