import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import {
  bodiesOf,
  createRoom,
  enc,
  joinRoom,
  messages,
  ok,
  paginate,
  roomPath,
  sendEvent,
  sendText,
  setState,
  typesOf,
} from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/** GET /messages (both directions, tokens, filters), /context and /event. */

const {
  users: [alice, bob, eve],
} = withHomeserver({ users: ['ms_alice', 'ms_bob', 'ms_eve'] });

const label = (i: number) => `m-${String(i).padStart(3, '0')}`;

describe('paginating 500 events', () => {
  const N = 500;
  let roomId: string;
  const sent: string[] = [];
  beforeAll(async () => {
    roomId = await createRoom(alice, { preset: 'public_chat', name: 'Long history' });
    await joinRoom(bob, roomId);
    for (let i = 0; i < N; i++) sent.push(await sendText(i % 2 ? bob : alice, roomId, label(i)));
  }, 600_000);

  it('backwards with limit 50 returns every event once, newest first, and no `end` at the start of the room', async () => {
    const { events, pages } = await paginate(bob, roomId, { dir: 'b', limit: 50 });
    const msgs = events.filter((e) => e.type === 'm.room.message');
    expect(msgs.map((e) => e.event_id)).toEqual([...sent].reverse());
    expect(bodiesOf(msgs)).toEqual(sent.map((_, i) => label(i)).reverse());
    // Everything before the messages is the room's creation, ending at m.room.create.
    expect(events.at(-1)!.type).toBe('m.room.create');
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(events.length / 50));
    // The last page has no `end`: asking again from the start gives nothing.
    const first = ok(await messages(bob, roomId, { dir: 'b', limit: 50 }));
    expectMatchesSpec('message_pagination.yaml', '/rooms/{roomId}/messages', 'GET', 200, first);
    expect(first.chunk).toHaveLength(50);
    expect(first.end).toEqual(expect.any(String));
  });

  it('forwards from the start returns the same events oldest first', async () => {
    const { events } = await paginate(bob, roomId, { dir: 'f', limit: 50 });
    expect(events[0]!.type).toBe('m.room.create');
    expect(events.filter((e) => e.type === 'm.room.message').map((e) => e.event_id)).toEqual(sent);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
  });

  it('tokens from one direction work in the other, and pages meet without gaps or overlaps', async () => {
    const back1 = ok(await messages(bob, roomId, { dir: 'b', limit: 30 }));
    const back2 = ok(await messages(bob, roomId, { dir: 'b', limit: 30, from: back1.end }));
    expect(bodiesOf(back1.chunk)).toEqual(sent.slice(N - 30).map((_, i) => label(N - 1 - i)));
    expect(bodiesOf(back2.chunk)).toEqual(sent.slice(N - 60, N - 30).map((_, i) => label(N - 31 - i)));
    // Forward from the end of page 2 gives page 2's... successors: the first page, oldest first.
    const fwd = ok(await messages(bob, roomId, { dir: 'f', limit: 30, from: back2.end }));
    expect(bodiesOf(fwd.chunk)).toEqual(bodiesOf(back2.chunk).reverse());
    // `to` stops the walk.
    const bounded = ok(await messages(bob, roomId, { dir: 'b', limit: 100, to: back1.end }));
    expect(bodiesOf(bounded.chunk)).toEqual(bodiesOf(back1.chunk));
  });

  it('a filter narrows the walk without losing events across pages', async () => {
    const { events } = await paginate(alice, roomId, { dir: 'b', limit: 25, filter: { senders: [bob.userId] } });
    expect(events.every((e) => e.sender === bob.userId)).toBe(true);
    expect(bodiesOf(events)).toEqual(
      sent
        .map((_, i) => i)
        .filter((i) => i % 2)
        .map(label)
        .reverse(),
    );
  });
});

describe('GET /messages', () => {
  let roomId: string;
  beforeAll(async () => {
    roomId = await createRoom(alice, { preset: 'public_chat' });
    await joinRoom(bob, roomId);
    await sendText(alice, roomId, 'a1');
    await sendEvent(bob, roomId, 'm.room.message', { msgtype: 'm.image', body: 'pic', url: 'mxc://localhost/abc' });
    await sendEvent(alice, roomId, 'org.example.custom', { n: 1 });
    await sendText(bob, roomId, 'b2');
    await setState(alice, roomId, 'm.room.topic', '', { topic: 'a topic' });
  });

  it('filters by types, not_types, senders, not_senders and contains_url', async () => {
    const page = async (filter: object) =>
      ok(await messages(alice, roomId, { dir: 'b', limit: 50, filter })).chunk as Array<Record<string, any>>;
    expect(typesOf(await page({ types: ['org.example.*'] }))).toEqual(['org.example.custom']);
    expect(typesOf(await page({ not_types: ['m.room.*'] }))).toEqual(['org.example.custom']);
    expect(bodiesOf(await page({ types: ['m.room.message'], senders: [bob.userId] }))).toEqual(['b2', 'pic']);
    expect(bodiesOf(await page({ types: ['m.room.message'], not_senders: [bob.userId] }))).toEqual(['a1']);
    expect(bodiesOf(await page({ types: ['m.room.message'], contains_url: true }))).toEqual(['pic']);
    expect(bodiesOf(await page({ types: ['m.room.message'], contains_url: false }))).toEqual(['b2', 'a1']);
    // The filter's limit applies when the query has none.
    expect(ok(await messages(alice, roomId, { dir: 'b', filter: { limit: 2 } })).chunk).toHaveLength(2);
    // And the query's limit wins over the filter's.
    expect(ok(await messages(alice, roomId, { dir: 'b', limit: 3, filter: { limit: 2 } })).chunk).toHaveLength(3);
  });

  it('with lazy_load_members, returns the member events of the senders on the page', async () => {
    const res = ok(await messages(alice, roomId, { dir: 'b', limit: 1, filter: { lazy_load_members: true, types: ['m.room.message'] } }));
    expectMatchesSpec('message_pagination.yaml', '/rooms/{roomId}/messages', 'GET', 200, res);
    expect(res.chunk.map((e: Record<string, any>) => e.sender)).toEqual([bob.userId]);
    const members = (res.state ?? []) as Array<Record<string, any>>;
    expect(members.map((e) => `${e.type}|${e.state_key}`)).toEqual([`m.room.member|${bob.userId}`]);
  });

  it('going back from the start gives an empty chunk and no end', async () => {
    const res = ok(await messages(alice, roomId, { dir: 'b', limit: 10, from: 's0' }));
    expect(res.chunk).toEqual([]);
    expect(res).not.toHaveProperty('end');
  });

  it('rejects a bad dir, bad tokens, a bad limit and bad filters with M_INVALID_PARAM', async () => {
    const bad = async (params: Record<string, string | number>) =>
      expectMatrixError(await messages(alice, roomId, params), 400, 'M_INVALID_PARAM');
    await bad({ dir: 'x' });
    await bad({ dir: 'backwards' });
    await bad({ dir: 'b', from: 'garbage' });
    await bad({ dir: 'b', from: 's-1' });
    await bad({ dir: 'f', to: 'not-a-token' });
    await bad({ dir: 'b', limit: 'ten' });
    await bad({ dir: 'b', limit: -5 });
    await bad({ dir: 'b', filter: '{"types": ' });
    await bad({ dir: 'b', filter: '{"types": "m.room.message"}' });
    await bad({ dir: 'b', filter: '{"limit": "5"}' });
  });

  it('is M_FORBIDDEN for a user who never joined a private room', async () => {
    const priv = await createRoom(alice, { preset: 'private_chat' });
    await sendText(alice, priv, 'private');
    expectMatrixError(await messages(eve, priv, { dir: 'b' }), 403, 'M_FORBIDDEN');
    expectMatrixError(await messages(eve, '!nope:localhost', { dir: 'b' }), 403, 'M_FORBIDDEN');
    expectMatrixError(await messages(eve, 'nope', { dir: 'b' }), 400, 'M_INVALID_PARAM');
  });
});

describe('GET /context/{eventId}', () => {
  let roomId: string;
  const ids: string[] = [];
  beforeAll(async () => {
    roomId = await createRoom(alice, { preset: 'public_chat', name: 'Context' });
    await joinRoom(bob, roomId);
    for (let i = 0; i < 20; i++) ids.push(await sendText(i % 2 ? bob : alice, roomId, `c${i}`));
  });

  it('returns the event with the events around it, the state, and tokens that continue both ways', async () => {
    const res = await alice.client.get(roomPath(roomId, `/context/${enc(ids[10]!)}?limit=6`));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectMatchesSpec('event_context.yaml', '/rooms/{roomId}/context/{eventId}', 'GET', 200, res.body);
    const body = res.body;
    expect(body.event.event_id).toBe(ids[10]);
    expect(body.events_before.map((e: Record<string, any>) => e.event_id)).toEqual([ids[9], ids[8], ids[7]]);
    expect(body.events_after.map((e: Record<string, any>) => e.event_id)).toEqual([ids[11], ids[12], ids[13]]);
    const state = body.state as Array<Record<string, any>>;
    expect(state.find((e) => e.type === 'm.room.name')?.content).toEqual({ name: 'Context' });
    expect(
      state
        .filter((e) => e.type === 'm.room.member')
        .map((e) => e.state_key)
        .sort(),
    ).toEqual([alice.userId, bob.userId].sort());

    const before = ok(await messages(alice, roomId, { dir: 'b', limit: 2, from: body.start }));
    expect(before.chunk.map((e: Record<string, any>) => e.event_id)).toEqual([ids[6], ids[5]]);
    const after = ok(await messages(alice, roomId, { dir: 'f', limit: 2, from: body.end }));
    expect(after.chunk.map((e: Record<string, any>) => e.event_id)).toEqual([ids[14], ids[15]]);
  });

  it('applies a filter, and lazy_load_members narrows the state to the senders', async () => {
    const res = ok(
      await alice.client.get(
        roomPath(
          roomId,
          `/context/${enc(ids[10]!)}?limit=4&filter=${enc(JSON.stringify({ senders: [alice.userId], lazy_load_members: true }))}`,
        ),
      ),
    );
    for (const e of [...res.events_before, ...res.events_after]) expect(e.sender).toBe(alice.userId);
    expect(res.events_before.map((e: Record<string, any>) => e.event_id)).toEqual([ids[8], ids[6]]);
    const members = (res.state as Array<Record<string, any>>).filter((e) => e.type === 'm.room.member').map((e) => e.state_key);
    expect(members).toEqual([alice.userId]);
  });

  it('is M_NOT_FOUND for an unknown event or one from another room', async () => {
    expectMatrixError(await alice.client.get(roomPath(roomId, `/context/${enc('$nosuchevent')}`)), 404, 'M_NOT_FOUND');
    const other = await createRoom(alice, {});
    const elsewhere = await sendText(alice, other, 'elsewhere');
    expectMatrixError(await alice.client.get(roomPath(roomId, `/context/${enc(elsewhere)}`)), 404, 'M_NOT_FOUND');
    expectMatrixError(await alice.client.get(roomPath(roomId, `/context/${enc(ids[0]!)}?limit=x`)), 400, 'M_INVALID_PARAM');
  });

  it('is refused to a user who cannot see the room', async () => {
    const priv = await createRoom(alice, { preset: 'private_chat' });
    const id = await sendText(alice, priv, 'hidden');
    const res = await eve.client.get(roomPath(priv, `/context/${enc(id)}`));
    expect([403, 404]).toContain(res.status);
    expect(res.body).not.toHaveProperty('event');
  });
});

describe('GET /event/{eventId}', () => {
  it('returns one event matching the spec, and M_NOT_FOUND for unknown, foreign or hidden ones', async () => {
    const roomId = await createRoom(alice, { preset: 'private_chat', invite: [bob.userId] });
    await joinRoom(bob, roomId);
    const id = await sendText(bob, roomId, 'the event');
    const res = await alice.client.get(roomPath(roomId, `/event/${enc(id)}`));
    expect(res.status).toBe(200);
    expectMatchesSpec('rooms.yaml', '/rooms/{roomId}/event/{eventId}', 'GET', 200, res.body);
    expect(res.body).toMatchObject({
      event_id: id,
      sender: bob.userId,
      room_id: roomId,
      content: { body: 'the event' },
      unsigned: { age: expect.any(Number) },
    });

    expectMatrixError(await alice.client.get(roomPath(roomId, `/event/${enc('$doesnotexist')}`)), 404, 'M_NOT_FOUND');
    const other = await createRoom(alice, {});
    expectMatrixError(await alice.client.get(roomPath(other, `/event/${enc(id)}`)), 404, 'M_NOT_FOUND');
    expectMatrixError(await eve.client.get(roomPath(roomId, `/event/${enc(id)}`)), 404, 'M_NOT_FOUND');
    expectMatrixError(await alice.client.get(roomPath(roomId, `/event/${enc(id)}`), { token: null }), 401, 'M_MISSING_TOKEN');
  });
});
