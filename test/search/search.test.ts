import { beforeAll, describe, expect, it } from 'vitest';
import { toTsQuery } from '../../server/search/service/query.ts';
import { searchRecent } from '../../server/search/storage/event-search.ts';
import { expectMatrixError } from '../support/accounts.ts';
import type { TestUser } from '../support/client.ts';
import { untilConsumed } from '../support/consumers.ts';
import {
  CS,
  createRoom,
  enc,
  inviteUser,
  joinRoom,
  leaveRoom,
  newTxnId,
  ok,
  roomPath,
  sendEvent,
  sendText,
  setState,
} from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * POST /search (room_events) through the API: what it finds, in which order, page by page, and
 * what it never shows (rooms left, history from before a `joined` member joined, redacted and
 * encrypted events, ignored senders).
 */

const {
  hs,
  users: [alice, bob, eve, mallory],
} = withHomeserver({ users: ['se_alice', 'se_bob', 'se_eve', 'se_mallory'] });

type Body = Record<string, any>;

const indexed = () => untilConsumed(hs.hs.db.sql, 'search.index_event');

async function search(user: TestUser, criteria: Body, nextBatch?: string) {
  const path = `${CS}/search${nextBatch !== undefined ? `?next_batch=${enc(nextBatch)}` : ''}`;
  const res = await user.client.post(path, { search_categories: { room_events: criteria } });
  if (res.status === 200) expectMatchesSpec('search.yaml', '/search', 'POST', 200, res.body);
  return res;
}

async function found(user: TestUser, criteria: Body, nextBatch?: string): Promise<Body> {
  await indexed();
  return ok(await search(user, criteria, nextBatch)).search_categories.room_events as Body;
}

const bodies = (r: Body): string[] => (r.results as Body[]).map((x) => x.result.content.body as string);
const ids = (r: Body): string[] => (r.results as Body[]).map((x) => x.result.event_id as string);

let shared: string;
let other: string;

beforeAll(async () => {
  shared = await createRoom(alice, { preset: 'private_chat', name: 'Orbital mechanics', topic: 'Talk about rockets and orbits' });
  await inviteUser(alice, shared, bob.userId);
  await joinRoom(bob, shared);
  other = await createRoom(bob, { preset: 'private_chat' });
});

describe('finding messages', () => {
  it('by a word in them, with the event, a rank, a count and the words to highlight', async () => {
    const id = await sendText(alice, shared, 'The Martians landed near the observatory');
    await sendText(alice, shared, 'Nothing to see here');
    const r = await found(bob, { search_term: 'martians' });
    expect(ids(r)).toEqual([id]);
    expect(r.count).toBe(1);
    expect(r.results[0].rank).toBeGreaterThan(0);
    expect(r.results[0].result).toMatchObject({ room_id: shared, sender: alice.userId, type: 'm.room.message' });
    expect(r.highlights).toEqual(['Martians']);
    expect(r.next_batch).toBeUndefined();
  });

  it('by a prefix of a word and by another form of it (English stemming)', async () => {
    const id = await sendText(bob, shared, 'We were jumping between geostationary satellites');
    expect(ids(await found(alice, { search_term: 'geostat' }))).toEqual([id]);
    const r = await found(alice, { search_term: 'jumped satellite' });
    expect(ids(r)).toEqual([id]);
    expect(r.highlights.sort()).toEqual(['jumping', 'satellites']);
  });

  it('by a phrase, excluding words, and with or', async () => {
    const a = await sendText(alice, shared, 'zebra crossing ahead');
    const b = await sendText(alice, shared, 'crossing the zebra');
    const c = await sendText(alice, shared, 'a giraffe crossing');
    expect(ids(await found(bob, { search_term: '"zebra crossing"' }))).toEqual([a]);
    expect(ids(await found(bob, { search_term: 'crossing -zebra', order_by: 'recent' }))).toEqual([c]);
    expect(ids(await found(bob, { search_term: 'zebra or giraffe', order_by: 'recent' }))).toEqual([c, b, a]);
  });

  it('room names and topics, under their keys only', async () => {
    const name = await found(bob, { search_term: 'orbital', keys: ['content.name'] });
    expect(name.results.map((x: Body) => x.result.type)).toEqual(['m.room.name']);
    const topic = await found(bob, { search_term: 'rockets', keys: ['content.topic'] });
    expect(topic.results.map((x: Body) => x.result.type)).toEqual(['m.room.topic']);
    expect((await found(bob, { search_term: 'rockets', keys: ['content.body'] })).results).toEqual([]);
  });

  it('ranks the closer match first, and recent puts the newest first', async () => {
    const loose = await sendText(alice, shared, 'telescope is here, and far below lies the long list of things, mirror');
    const close = await sendText(alice, shared, 'telescope mirror');
    expect(ids(await found(bob, { search_term: 'telescope mirror', order_by: 'rank' }))).toEqual([close, loose]);
    const r = await found(bob, { search_term: 'telescope', order_by: 'recent' });
    expect(ids(r)).toEqual([close, loose]);
  });

  it('an empty or punctuation-only term finds nothing, without an error', async () => {
    expect(await found(bob, { search_term: '' })).toEqual({ count: 0, results: [], highlights: [] });
    expect((await found(bob, { search_term: '?!* & |' })).results).toEqual([]);
    // Stop words are no words: "the -zebra" would be "anything but zebra", every message there is.
    expect(await found(bob, { search_term: 'the -zebra' })).toEqual({ count: 0, results: [], highlights: [] });
    expect(await found(bob, { search_term: 'the or -zebra' })).toEqual({ count: 0, results: [], highlights: [] });
  });
});

describe('paging', () => {
  let sent: string[];
  beforeAll(async () => {
    sent = [];
    for (let i = 0; i < 7; i++) sent.push(await sendText(alice, shared, `pagination probe number ${i}`));
  });

  for (const order of ['recent', 'rank'] as const) {
    it(`next_batch walks every result once (${order})`, async () => {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const r = await found(bob, { search_term: 'probe', order_by: order, filter: { limit: 3 } }, token);
        expect(r.count).toBe(7);
        seen.push(...ids(r));
        token = r.next_batch as string | undefined;
        pages++;
      } while (token !== undefined && pages < 10);
      expect(pages).toBe(3);
      expect([...seen].sort()).toEqual([...sent].sort());
      if (order === 'recent') expect(seen).toEqual([...sent].reverse());
    });
  }

  it('ranked pages stay the ranking of the first page while new matches arrive', async () => {
    const first = await found(bob, { search_term: 'probe', order_by: 'rank', filter: { limit: 3 } });
    // Equally ranked new matches would sort first (newest first among equals) and push the
    // next pages' offsets back onto results already shown.
    const newer: string[] = [];
    for (let i = 0; i < 3; i++) newer.push(await sendText(alice, shared, `pagination probe number late ${i}`));
    const seen = ids(first);
    let token = first.next_batch as string | undefined;
    while (token !== undefined) {
      const r = await found(bob, { search_term: 'probe', order_by: 'rank', filter: { limit: 3 } }, token);
      seen.push(...ids(r));
      token = r.next_batch as string | undefined;
    }
    expect([...seen].sort()).toEqual([...sent].sort());
    // A new search sees them.
    expect((await found(bob, { search_term: 'probe', order_by: 'rank', filter: { limit: 20 } })).results).toHaveLength(10);
    expect(newer).toHaveLength(3);
  });

  it('both plans of a recent-first page (walk the stream, or sort the matches) give the same rows', async () => {
    await indexed();
    const where = { query: toTsQuery('probe')!, roomIds: [shared], keys: ['content.body' as const] };
    const sql = hs.hs.db.sql;
    for (const before of [undefined, 1e15, Number.MAX_SAFE_INTEGER]) {
      const walked = await searchRecent(sql, where, before, 4, 'walk-stream');
      expect(walked).toHaveLength(4);
      expect(await searchRecent(sql, where, before, 4, 'sort-matches')).toEqual(walked);
      const next = walked.at(-1)!.stream_pos;
      expect(await searchRecent(sql, where, next, 4, 'sort-matches')).toEqual(await searchRecent(sql, where, next, 4, 'walk-stream'));
    }
  });

  it('a token for the other order, or one that is not ours, is refused', async () => {
    const r = await found(bob, { search_term: 'probe', order_by: 'recent', filter: { limit: 3 } });
    expectMatrixError(await search(bob, { search_term: 'probe', order_by: 'rank' }, r.next_batch as string), 400, 'M_INVALID_PARAM');
    expectMatrixError(await search(bob, { search_term: 'probe' }, 'not-a-token'), 400, 'M_INVALID_PARAM');
    expectMatrixError(
      await search(bob, { search_term: 'probe' }, Buffer.from('{"order":"rank","offset":-4}').toString('base64url')),
      400,
      'M_INVALID_PARAM',
    );
  });
});

describe('what is never shown', () => {
  it('rooms the searcher is not in, or left', async () => {
    const secret = await createRoom(mallory, { preset: 'public_chat' });
    await sendText(mallory, secret, 'plutonium shipment arrives tuesday');
    expect((await found(eve, { search_term: 'plutonium' })).results).toEqual([]);
    await joinRoom(eve, secret);
    expect(bodies(await found(eve, { search_term: 'plutonium' }))).toEqual(['plutonium shipment arrives tuesday']);
    await leaveRoom(eve, secret);
    expect((await found(eve, { search_term: 'plutonium' })).results).toEqual([]);
  });

  it('history from before joining a room whose visibility is `joined`', async () => {
    const room = await createRoom(mallory, { preset: 'public_chat' });
    await setState(mallory, room, 'm.room.history_visibility', '', { history_visibility: 'joined' });
    await sendText(mallory, room, 'kumquat before eve came');
    await joinRoom(eve, room);
    const after = await sendText(mallory, room, 'kumquat after eve came');
    expect(ids(await found(eve, { search_term: 'kumquat' }))).toEqual([after]);
    expect((await found(mallory, { search_term: 'kumquat' })).results).toHaveLength(2);
  });

  it('redacted events', async () => {
    const id = await sendText(alice, shared, 'accidentally pasted my passphrase hunter2');
    expect(ids(await found(bob, { search_term: 'passphrase' }))).toEqual([id]);
    ok(await alice.client.put(roomPath(shared, `/redact/${enc(id)}/${newTxnId()}`), { reason: 'oops' }));
    const r = await found(bob, { search_term: 'passphrase' });
    expect(r.results).toEqual([]);
    expect(r.count).toBe(0);
  });

  it('encrypted events', async () => {
    await sendEvent(alice, shared, 'm.room.encrypted', {
      algorithm: 'm.megolm.v1.aes-sha2',
      ciphertext: 'ciphertextwithwords hello',
      body: 'ciphertextwithwords',
      session_id: 's',
      sender_key: 'k',
      device_id: 'D',
    });
    expect((await found(bob, { search_term: 'ciphertextwithwords' })).results).toEqual([]);
  });

  it("an ignored user's messages", async () => {
    const room = await createRoom(mallory, { preset: 'public_chat' });
    await joinRoom(eve, room);
    await sendText(mallory, room, 'buy cheap watches');
    expect((await found(eve, { search_term: 'watches' })).results).toHaveLength(1);
    ok(await eve.client.put(`${CS}/user/${enc(eve.userId)}/account_data/m.ignored_user_list`, { ignored_users: { [mallory.userId]: {} } }));
    expect((await found(eve, { search_term: 'watches' })).results).toEqual([]);
  });
});

describe('filters, context, groups and state', () => {
  let pic: string;
  let inOther: string;
  beforeAll(async () => {
    pic = await sendEvent(bob, shared, 'm.room.message', { msgtype: 'm.image', body: 'nebula photo', url: 'mxc://localhost/abc' });
    await sendText(alice, shared, 'nebula is pretty');
    inOther = await sendText(bob, other, 'nebula in my own room');
  });

  it('by rooms, senders, types and contains_url', async () => {
    const all = await found(bob, { search_term: 'nebula', order_by: 'recent' });
    expect(all.results).toHaveLength(3);
    expect(ids(await found(bob, { search_term: 'nebula', filter: { rooms: [other] } }))).toEqual([inOther]);
    expect((await found(bob, { search_term: 'nebula', filter: { not_rooms: [other] } })).results).toHaveLength(2);
    expect(bodies(await found(bob, { search_term: 'nebula', filter: { senders: [alice.userId] } }))).toEqual(['nebula is pretty']);
    expect((await found(bob, { search_term: 'nebula', filter: { not_senders: [alice.userId] } })).results).toHaveLength(2);
    expect(ids(await found(bob, { search_term: 'nebula', filter: { contains_url: true } }))).toEqual([pic]);
    expect((await found(bob, { search_term: 'nebula', filter: { not_types: ['m.room.message'] } })).results).toEqual([]);
    expect((await found(bob, { search_term: 'nebula', filter: { types: ['m.room.*'] } })).results).toHaveLength(3);
  });

  it('event_context: events around each result, and their senders as they were then', async () => {
    // Her name in this room (a member event written now, not later by the profile's consumer).
    await setState(alice, shared, 'm.room.member', alice.userId, { membership: 'join', displayname: 'Alice of Mars' });
    const before = await sendText(alice, shared, 'context one');
    const hit = await sendText(bob, shared, 'context quasar');
    const after = await sendText(alice, shared, 'context three');
    const r = await found(alice, {
      search_term: 'quasar',
      event_context: { before_limit: 1, after_limit: 1, include_profile: true },
    });
    const ctx = r.results[0].context as Body;
    expect(ctx.events_before.map((e: Body) => e.event_id)).toEqual([before]);
    expect(ctx.events_after.map((e: Body) => e.event_id)).toEqual([after]);
    expect(typeof ctx.start).toBe('string');
    expect(typeof ctx.end).toBe('string');
    expect(ctx.profile_info[alice.userId]).toEqual({ displayname: 'Alice of Mars' });
    expect(ctx.profile_info[bob.userId]).toBeDefined();
    expect(r.results[0].result.event_id).toBe(hit);
  });

  it('groups by room and by sender; a group token pages that room only', async () => {
    const r = await found(bob, {
      search_term: 'nebula',
      order_by: 'recent',
      filter: { limit: 2 },
      groupings: { group_by: [{ key: 'room_id' }, { key: 'sender' }] },
    });
    const byRoom = r.groups.room_id as Record<string, Body>;
    const grouped = Object.values(byRoom).flatMap((g) => g.results as string[]);
    expect(grouped.sort()).toEqual(ids(r).sort());
    expect(
      Object.values(byRoom)
        .map((g) => g.order)
        .sort(),
    ).toEqual(Object.keys(byRoom).map((_, i) => i + 1));
    const bySender = r.groups.sender as Record<string, Body>;
    expect(
      Object.values(bySender)
        .flatMap((g) => g.results as string[])
        .sort(),
    ).toEqual(ids(r).sort());
    // The newest two are in `other` (bob's) and `shared` (alice's); the shared room's token continues there.
    const sharedGroup = byRoom[shared]!;
    const more = await found(bob, { search_term: 'nebula', order_by: 'recent', filter: { limit: 2 } }, sharedGroup.next_batch as string);
    expect(more.results.every((x: Body) => x.result.room_id === shared)).toBe(true);
    expect(ids(more)).toEqual([pic]);
  });

  it('include_state: the current state of each room with results', async () => {
    const r = await found(bob, { search_term: 'nebula', include_state: true, filter: { rooms: [shared] } });
    const state = r.state[shared] as Body[];
    expect(state.find((e) => e.type === 'm.room.name')?.content).toEqual({ name: 'Orbital mechanics' });
    expect(Object.keys(r.state)).toEqual([shared]);
  });
});

describe('bad input changes nothing and is told apart', () => {
  const post = (user: TestUser, body: unknown) => user.client.post(`${CS}/search`, body);

  it.each([
    ['no search_categories', {}, 'M_MISSING_PARAM'],
    ['no search_term', { search_categories: { room_events: {} } }, 'M_MISSING_PARAM'],
    ['a search_term that is not a string', { search_categories: { room_events: { search_term: 4 } } }, 'M_BAD_JSON'],
    ['an unknown key', { search_categories: { room_events: { search_term: 'x', keys: ['content.url'] } } }, 'M_BAD_JSON'],
    ['an unknown order', { search_categories: { room_events: { search_term: 'x', order_by: 'oldest' } } }, 'M_BAD_JSON'],
    ['a negative limit', { search_categories: { room_events: { search_term: 'x', filter: { limit: -1 } } } }, 'M_BAD_JSON'],
    [
      'a bad group key',
      { search_categories: { room_events: { search_term: 'x', groupings: { group_by: [{ key: 'type' }] } } } },
      'M_BAD_JSON',
    ],
    ['a negative context', { search_categories: { room_events: { search_term: 'x', event_context: { before_limit: -2 } } } }, 'M_BAD_JSON'],
  ])('%s', async (_name, body, errcode) => {
    expectMatrixError(await post(bob, body), 400, errcode);
  });

  it('not JSON, and no access token', async () => {
    const res = await fetch(`${hs.url}${CS}/search`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${bob.accessToken}`, 'Content-Type': 'application/json' },
      body: '{"search_categories":',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Body).errcode).toBe('M_NOT_JSON');
    const anon = await fetch(`${hs.url}${CS}/search`, { method: 'POST', body: '{"search_categories":{}}' });
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as Body).errcode).toBe('M_MISSING_TOKEN');
  });

  it('a category this server does not search answers with nothing', async () => {
    expect(ok(await post(bob, { search_categories: { other_things: { search_term: 'x' } } }))).toEqual({ search_categories: {} });
  });
});
