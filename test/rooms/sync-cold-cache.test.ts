import { describe, expect, it } from 'vitest';
import { createRoom, enc, joinRoom, ok, roomPath, sendText, sync } from '../support/rooms.ts';
import { withHomeserver } from '../support/with-homeserver.ts';
import { untilPushEvaluated } from '../support/push.ts';

/**
 * A /sync pass reads timeline ids from the database and the events and state groups from the
 * process's caches, reading what they miss for all its rooms at once. After a restart the caches
 * are empty, so every event and every state group (snapshots and delta chains alike) comes from
 * those batched reads: the answer must be the one the warm server gave.
 */

const {
  hs,
  users: [alice, bob],
} = withHomeserver({ users: ['cc_alice', 'cc_bob'] });

type Body = Record<string, any>;

/** Everything but the ages (of the events and of those bundled in them), which move between two requests. */
function withoutAges(events: Body[]): Body[] {
  return JSON.parse(JSON.stringify(events, (key, value) => (key === 'age' ? undefined : value)));
}

function comparable(b: Body) {
  return Object.fromEntries(
    Object.entries(b.rooms.join as Record<string, Body>).map(([id, r]) => [
      id,
      {
        timeline: withoutAges(r.timeline.events),
        limited: r.timeline.limited,
        state: withoutAges(r.state.events).sort((x, y) => (x.event_id < y.event_id ? -1 : 1)),
        summary: r.summary,
        unread: r.unread_notifications,
      },
    ]),
  );
}

describe('initial sync with cold caches', () => {
  it(
    'after a restart gives what the warm server gave, across state snapshots, delta chains, edits and redactions',
    { timeout: 120_000 },
    async () => {
      // More state changes than a delta chain holds (64): the room's groups are a snapshot plus deltas.
      const busy = await createRoom(alice, { preset: 'public_chat', name: 'busy' });
      await joinRoom(bob, busy);
      for (let i = 0; i < 70; i++) ok(await alice.client.put(roomPath(busy, '/state/m.room.topic/'), { topic: `topic ${i}` }));
      await sendText(bob, busy, 'after the topics');

      const quiet = await createRoom(alice, { preset: 'private_chat', name: 'quiet' });
      ok(await alice.client.post(roomPath(quiet, '/invite'), { user_id: bob.userId }));
      await joinRoom(bob, quiet);
      const original = await sendText(alice, quiet, 'first draft');
      ok(
        await alice.client.put(roomPath(quiet, '/send/m.room.message/edit1'), {
          msgtype: 'm.text',
          body: '* final',
          'm.new_content': { msgtype: 'm.text', body: 'final' },
          'm.relates_to': { rel_type: 'm.replace', event_id: original },
        }),
      );
      const doomed = await sendText(bob, quiet, 'to be redacted');
      ok(await bob.client.put(roomPath(quiet, `/redact/${enc(doomed)}/r1`), { reason: 'oops' }));
      ok(await bob.client.post(roomPath(quiet, `/receipt/m.read/${enc(original)}`), {}));
      await sendText(alice, quiet, 'unread by bob');

      const left = await createRoom(alice, { preset: 'public_chat', name: 'left' });
      await joinRoom(bob, left);
      ok(await bob.client.post(roomPath(left, '/leave'), {}));
      await joinRoom(bob, left);

      await untilPushEvaluated(hs.hs.db.sql);
      const warm = ok(await sync(bob, {}));
      const warmLimited = ok(await sync(bob, { filter: JSON.stringify({ room: { timeline: { limit: 1 } } }) }));
      expect(Object.keys(warm.rooms.join).sort()).toEqual([busy, quiet, left].sort());
      const topic = (b: Body) => b.rooms.join[busy].state.events.find((e: Body) => e.type === 'm.room.topic')?.content.topic;
      expect(topic(warmLimited)).toBe('topic 69');

      await hs.restart();
      const cold = ok(await sync(bob, {}));
      expect(comparable(cold)).toEqual(comparable(warm));
      const coldLimited = ok(await sync(bob, { filter: JSON.stringify({ room: { timeline: { limit: 1 } } }) }));
      expect(comparable(coldLimited)).toEqual(comparable(warmLimited));
      expect(topic(coldLimited)).toBe('topic 69');
      // The edit is bundled, the redaction applied, and the unread count kept, from the database alone.
      const quietTimeline = cold.rooms.join[quiet].timeline.events as Body[];
      expect(
        quietTimeline.find((e) => e.event_id === original)?.unsigned['m.relations']?.['m.replace']?.content['m.new_content'].body,
      ).toBe('final');
      expect(quietTimeline.find((e) => e.event_id === doomed)?.content).toEqual({});
      expect(cold.rooms.join[quiet].unread_notifications.notification_count).toBeGreaterThan(0);
    },
  );
});
