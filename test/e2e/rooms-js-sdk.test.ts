import {
  createClient as sdkClient,
  Direction,
  type ICreateClientOpts,
  type MatrixClient,
  type MatrixEvent,
  type Room,
} from 'matrix-js-sdk';
import { logger as sdkRootLogger } from 'matrix-js-sdk/lib/logger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, registerUser, type TestUser } from '../support/client.ts';
import { spawnServer, type SpawnedServer } from '../support/spawn-server.ts';
import { matrixError, quietLogger, startPrepared } from '../support/js-sdk.ts';

/**
 * The room engine driven by matrix-js-sdk (the library under Element Web): two
 * syncing clients against a homeserver process started as README says. Each
 * client learns of the other's events only through its own /sync.
 */

let server: SpawnedServer;
const clients: MatrixClient[] = [];
let alice: MatrixClient;
let bob: MatrixClient;
let aliceUser: TestUser;
let bobUser: TestUser;

// Parts of the SDK log through its root logger whatever the client's logger is: quietLogger that too.
if (!process.env.COMMCOMMS_TEST_LOG) (sdkRootLogger as unknown as { setLevel(level: string): void }).setLevel('silent');
const createClient = (opts: ICreateClientOpts): MatrixClient =>
  sdkClient({ ...(process.env.COMMCOMMS_TEST_LOG ? {} : { logger: quietLogger }), ...opts });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `probe` returns something truthy (a guard against hanging, not a timing check). */
async function until<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for: ${what}`);
    await sleep(50);
  }
}

/** A started client for a registered user, once its first sync is PREPARED. */
async function startedClient(user: TestUser): Promise<MatrixClient> {
  const client = createClient({ baseUrl: server.url, accessToken: user.accessToken, userId: user.userId, deviceId: user.deviceId });
  clients.push(client);
  await startPrepared(client);
  return client;
}

const roomOf = (client: MatrixClient, roomId: string, what = `${client.getUserId()} has room ${roomId}`) =>
  until(what, () => client.getRoom(roomId));
const eventIn = (client: MatrixClient, roomId: string, eventId: string) =>
  until(`${client.getUserId()} sees ${eventId}`, () => client.getRoom(roomId)?.findEventById(eventId));
const liveBodies = (room: Room) =>
  room
    .getLiveTimeline()
    .getEvents()
    .filter((e) => e.getType() === 'm.room.message')
    .map((e) => e.getContent().body as string);

beforeAll(async () => {
  server = await spawnServer();
  aliceUser = await registerUser(server.url, 'sdk_alice');
  bobUser = await registerUser(server.url, 'sdk_bob');
  alice = await startedClient(aliceUser);
  bob = await startedClient(bobUser);
}, 300_000);
afterAll(async () => {
  for (const c of clients) c.stopClient();
  await server?.dispose();
});

describe('two matrix-js-sdk clients in a room', () => {
  let roomId: string;

  it("create, invite, join and exchange messages, each seen through the other's sync", async () => {
    ({ room_id: roomId } = await alice.createRoom({ name: 'SDK room', preset: 'private_chat' as never }));
    await roomOf(alice, roomId);
    await alice.invite(roomId, bobUser.userId);
    const invited = await roomOf(bob, roomId, 'bob sees the invite');
    expect(invited.getMyMembership()).toBe('invite');
    await bob.joinRoom(roomId);
    const aliceRoom = await roomOf(alice, roomId);
    await until('alice sees bob joined', () => aliceRoom.getMember(bobUser.userId)?.membership === 'join');
    expect(aliceRoom.name).toBe('SDK room');

    const hi = await alice.sendTextMessage(roomId, 'hi bob');
    const seenByBob = await eventIn(bob, roomId, hi.event_id);
    expect(seenByBob.getSender()).toBe(aliceUser.userId);
    expect(seenByBob.getContent().body).toBe('hi bob');
    const reply = await bob.sendTextMessage(roomId, 'hi alice');
    expect((await eventIn(alice, roomId, reply.event_id)).getContent().body).toBe('hi alice');
    const bobRoom = bob.getRoom(roomId)!;
    expect(bobRoom.name).toBe('SDK room');
    expect(liveBodies(bobRoom).slice(-2)).toEqual(['hi bob', 'hi alice']);
  });

  it('edits (m.replace), reactions (m.annotation), thread replies (m.thread) and redactions reach the other client', async () => {
    const original = await alice.sendTextMessage(roomId, 'first draft');
    const edit = await alice.sendMessage(roomId, {
      msgtype: 'm.text',
      body: '* final text',
      'm.new_content': { msgtype: 'm.text', body: 'final text' },
      'm.relates_to': { rel_type: 'm.replace', event_id: original.event_id },
    } as never);
    const bobRoom = await roomOf(bob, roomId);
    await eventIn(bob, roomId, edit.event_id);
    const edits = await until('bob aggregates the edit', () =>
      bobRoom.relations.getChildEventsForEvent(original.event_id, 'm.replace', 'm.room.message'),
    );
    expect(edits.getRelations().map((e) => e.getId())).toEqual([edit.event_id]);
    const replacement = await edits.getLastReplacement();
    expect(replacement?.getContent()['m.new_content']).toEqual({ msgtype: 'm.text', body: 'final text' });

    const reaction = await bob.sendEvent(
      roomId,
      'm.reaction' as never,
      { 'm.relates_to': { rel_type: 'm.annotation', event_id: original.event_id, key: '👍' } } as never,
    );
    const aliceRoom = alice.getRoom(roomId)!;
    await eventIn(alice, roomId, reaction.event_id);
    const annotations = await until('alice aggregates the reaction', () =>
      aliceRoom.relations.getChildEventsForEvent(original.event_id, 'm.annotation', 'm.reaction')?.getSortedAnnotationsByKey(),
    );
    expect(annotations.map(([key, events]) => [key, [...events].map((e) => e.getSender())])).toEqual([['👍', [bobUser.userId]]]);

    const root = await alice.sendTextMessage(roomId, 'thread root');
    const inThread = await bob.sendMessage(roomId, root.event_id, {
      msgtype: 'm.text',
      body: 'in the thread',
      'm.relates_to': {
        rel_type: 'm.thread',
        event_id: root.event_id,
        is_falling_back: true,
        'm.in_reply_to': { event_id: root.event_id },
      },
    } as never);
    const threadReply = await until('alice sees the thread reply', () => {
      const r = alice.getRoom(roomId)!;
      return r.findEventById(inThread.event_id) ?? r.getThread(root.event_id)?.findEventById(inThread.event_id);
    });
    expect(threadReply.getContent()['m.relates_to']).toMatchObject({ rel_type: 'm.thread', event_id: root.event_id });
    // The server bundles the thread summary on the root.
    const rootFromServer = await alice.fetchRoomEvent(roomId, root.event_id);
    expect(rootFromServer.unsigned?.['m.relations']?.['m.thread']).toMatchObject({
      count: 1,
      latest_event: { event_id: inThread.event_id },
    });

    const doomed = await alice.sendTextMessage(roomId, 'regrettable');
    const bobCopy = await eventIn(bob, roomId, doomed.event_id);
    expect(bobCopy.isRedacted()).toBe(false);
    const redaction = await alice.redactEvent(roomId, doomed.event_id, undefined, { reason: 'regret' });
    await until('bob sees the redaction applied', () => bob.getRoom(roomId)!.findEventById(doomed.event_id)?.isRedacted());
    const redacted = bob.getRoom(roomId)!.findEventById(doomed.event_id)!;
    expect(redacted.getContent()).toEqual({});
    expect(redacted.getUnsigned().redacted_because?.event_id ?? redaction.event_id).toBe(redaction.event_id);
    const fromServer = await bob.fetchRoomEvent(roomId, doomed.event_id);
    expect(fromServer.content).toEqual({});
    expect(fromServer.unsigned?.redacted_because).toMatchObject({ event_id: redaction.event_id, content: { reason: 'regret' } });
  });

  it('typing notifications and read receipts reach the other client', async () => {
    const bobRoom = await roomOf(bob, roomId);
    await alice.sendTyping(roomId, true, 30_000);
    await until('bob sees alice typing', () => bobRoom.getMember(aliceUser.userId)?.typing);
    await alice.sendTyping(roomId, false, 0);
    await until('bob sees alice stop typing', () => bobRoom.getMember(aliceUser.userId)?.typing === false);

    const msg = await alice.sendTextMessage(roomId, 'please read me');
    const bobEvent: MatrixEvent = await eventIn(bob, roomId, msg.event_id);
    await bob.sendReadReceipt(bobEvent);
    const aliceRoom = alice.getRoom(roomId)!;
    const receipt = await until("alice sees bob's read receipt", () => {
      const r = aliceRoom.getReadReceiptForUserId(bobUser.userId, true);
      return r?.eventId === msg.event_id ? r : undefined;
    });
    expect(receipt.data.ts).toEqual(expect.any(Number));
  });

  it('searches the room with searchRoomEvents and pages back with backPaginateRoomEventsSearch', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 12; i++) sent.push((await alice.sendTextMessage(roomId, `aardvark sighting ${i}`)).event_id);
    // The index is written just after each send commits: ask until the last one is there.
    const first = await (async () => {
      for (const deadline = Date.now() + 30_000; ; await sleep(50)) {
        const r = await bob.searchRoomEvents({ term: 'aardvark' });
        if (r.count === 12 || Date.now() > deadline) return r;
      }
    })();
    expect(first.count).toBe(12);
    expect(first.highlights).toEqual(['aardvark']);
    expect(first.results).toHaveLength(10);
    // Newest first, each with the event before and after it (Element shows them around the hit).
    expect(first.results[0]!.context.getEvent().getId()).toBe(sent[11]);
    expect(first.results[1]!.context.getTimeline().map((e) => e.getId())).toEqual([sent[9], sent[10], sent[11]]);
    const all = await bob.backPaginateRoomEventsSearch(first);
    expect(all.results.map((r) => r.context.getEvent().getId())).toEqual([...sent].reverse());
    expect(all.next_batch).toBeUndefined();
  });

  it('scrolls back through 500 events with client.scrollback', { timeout: 600_000 }, async () => {
    const { room_id: longRoom } = await alice.createRoom({ name: 'Long', preset: 'public_chat' as never });
    await bob.joinRoom(longRoom);
    // Sent over the raw API with alice's token, as fast as the server takes them.
    const raw = new ApiClient(server.url, aliceUser.accessToken);
    const expected: string[] = [];
    for (let i = 0; i < 500; i++) {
      const body = `long ${String(i).padStart(3, '0')}`;
      for (;;) {
        const res = await raw.put(`/_matrix/client/v3/rooms/${encodeURIComponent(longRoom)}/send/m.room.message/long-${i}`, {
          msgtype: 'm.text',
          body,
        });
        if (res.status === 200) break;
        if (res.status !== 429) throw new Error(`send ${i}: ${res.status} ${JSON.stringify(res.body)}`);
        await sleep(Number(res.body.retry_after_ms ?? 100));
      }
      expected.push(body);
    }
    const room = await roomOf(bob, longRoom);
    await until('bob synced the last message', () => liveBodies(room).at(-1) === expected.at(-1));

    let rounds = 0;
    while (room.oldState.paginationToken !== null) {
      await bob.scrollback(room, 50);
      if (++rounds > 100) throw new Error('scrollback never reached the start of the room');
    }
    const events = room.getLiveTimeline().getEvents();
    expect(events[0]!.getType()).toBe('m.room.create');
    expect(liveBodies(room)).toEqual(expected);
    const ids = events.map((e) => e.getId());
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a third user sees nothing of a `joined`-visibility room', async () => {
    const { room_id: secretRoom } = await alice.createRoom({
      name: 'Members only',
      preset: 'private_chat' as never,
      initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
      invite: [bobUser.userId],
    });
    await bob.joinRoom(secretRoom);
    const secret = await alice.sendTextMessage(secretRoom, 'the secret');
    await eventIn(bob, secretRoom, secret.event_id);

    const carolUser = await registerUser(server.url, 'sdk_carol');
    const carol = await startedClient(carolUser);
    // Something carol does see arrives after the secret, so her sync has caught up past it.
    const { room_id: carolsOwn } = await carol.createRoom({ name: 'carol alone' });
    await roomOf(carol, carolsOwn);
    expect(carol.getRoom(secretRoom)).toBeNull();
    expect(carol.getRooms().map((r) => r.roomId)).not.toContain(secretRoom);
    const denied = await matrixError(() => carol.createMessagesRequest(secretRoom, null, 10, Direction.Backward));
    expect([denied.httpStatus, denied.errcode]).toEqual([403, 'M_FORBIDDEN']);
    const state = await matrixError(() => carol.roomState(secretRoom));
    expect([state.httpStatus, state.errcode]).toEqual([403, 'M_FORBIDDEN']);
    const event = await matrixError(() => carol.fetchRoomEvent(secretRoom, secret.event_id));
    expect([event.httpStatus, event.errcode]).toEqual([404, 'M_NOT_FOUND']);
  });

  it('a space with child rooms is created and its state read by another member', async () => {
    const { room_id: spaceId } = await alice.createRoom({
      name: 'SDK space',
      preset: 'public_chat' as never,
      creation_content: { type: 'm.space' },
    });
    const children: string[] = [];
    for (const name of ['space child A', 'space child B']) {
      const { room_id: child } = await alice.createRoom({ name, preset: 'public_chat' as never });
      await alice.sendStateEvent(spaceId, 'm.space.child' as never, { via: ['localhost'] } as never, child);
      await alice.sendStateEvent(child, 'm.space.parent' as never, { via: ['localhost'], canonical: true } as never, spaceId);
      children.push(child);
    }
    await bob.joinRoom(spaceId);
    const space = await roomOf(bob, spaceId);
    await until('bob has both children in the space state', () => space.currentState.getStateEvents('m.space.child').length === 2);
    expect(space.isSpaceRoom()).toBe(true);
    expect(
      space.currentState
        .getStateEvents('m.space.child')
        .map((e) => e.getStateKey())
        .sort(),
    ).toEqual([...children].sort());
    const fromServer = await bob.roomState(spaceId);
    const childEvents = fromServer.filter((e) => e.type === 'm.space.child');
    expect(childEvents.map((e) => e.state_key).sort()).toEqual([...children].sort());
    for (const e of childEvents) expect(e.content).toEqual({ via: ['localhost'] });
  });
});
