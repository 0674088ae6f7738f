import { createClient, type MatrixClient } from 'matrix-js-sdk';
import { logger as sdkRootLogger } from 'matrix-js-sdk/lib/logger.js';
import { afterAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import type { Reply, TestUser } from '../support/client.ts';
import { quietLogger } from '../support/js-sdk.ts';
import { createRoom, enc, inviteUser, joinRoom, ok, query, roomPath, setState } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * GET /_matrix/client/v1/rooms/{roomId}/hierarchy over local rooms: the walk (depth first,
 * children in the spec's order, each room once), who sees which room, and pagination.
 */

const {
  hs,
  users: [alice, bob, carol, dave],
} = withHomeserver({ users: ['sh_alice', 'sh_bob', 'sh_carol', 'sh_dave'] });

type Params = Record<string, string | number | boolean | undefined>;
/** A room of the response, as far as these tests read it (the schema check covers the rest). */
interface Chunk {
  room_id: string;
  children_state: Array<{ state_key: string }>;
  [field: string]: unknown;
}

const serverOf = (user: TestUser) => user.userId.slice(user.userId.indexOf(':') + 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The request, its body checked against the spec's schema for the status it came with. */
async function hierarchy(user: TestUser, roomId: string, params: Params = {}): Promise<Reply> {
  const res = await user.client.get(`/_matrix/client/v1/rooms/${enc(roomId)}/hierarchy${query(params)}`);
  if ([200, 400, 403].includes(res.status))
    expectMatchesSpec('space_hierarchy.yaml', '/rooms/{roomId}/hierarchy', 'GET', res.status, res.body);
  return res;
}
const roomsOf = async (user: TestUser, roomId: string, params: Params = {}): Promise<Chunk[]> =>
  ok(await hierarchy(user, roomId, params)).rooms as Chunk[];
const idsOf = (rooms: Array<{ room_id: string }>) => rooms.map((r) => r.room_id);

/** Every page from the first, following next_batch; each page at most `limit` rooms. */
async function allPages(user: TestUser, roomId: string, params: Params & { limit: number }): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let from: string | undefined;
  for (let pages = 1; ; pages++) {
    const body = ok(await hierarchy(user, roomId, { ...params, from }));
    expect(body.rooms.length).toBeGreaterThan(0);
    expect(body.rooms.length).toBeLessThanOrEqual(params.limit);
    ids.push(...idsOf(body.rooms));
    if (body.next_batch === undefined) return { ids, pages };
    from = body.next_batch;
    if (pages > 100) throw new Error('pagination did not end');
  }
}

const space = (user: TestUser, body: Record<string, unknown> = {}) =>
  createRoom(user, { preset: 'public_chat', ...body, creation_content: { type: 'm.space' } });
const plainRoom = (user: TestUser, body: Record<string, unknown> = {}) => createRoom(user, { preset: 'public_chat', ...body });
/** An m.space.child in `parent` naming `child`, reachable through alice's server unless `content` says otherwise. */
const addChild = (user: TestUser, parent: string, child: string, content: Record<string, unknown> = {}) =>
  setState(user, parent, 'm.space.child', child, { via: [serverOf(user)], ...content });

describe('the rooms of a space', () => {
  it('lists the space and its rooms with the fields of the spec, children_state as stripped events', async () => {
    const root = await space(alice, { name: 'Garden', topic: 'Everything green', room_alias_name: 'sh_garden' });
    const child = await plainRoom(alice, {
      name: 'Roses',
      topic: 'Thorny',
      room_alias_name: 'sh_roses',
      initial_state: [
        { type: 'm.room.history_visibility', content: { history_visibility: 'world_readable' } },
        { type: 'm.room.guest_access', content: { guest_access: 'can_join' } },
        { type: 'm.room.avatar', content: { url: 'mxc://example.org/rose' } },
        { type: 'm.room.encryption', content: { algorithm: 'm.megolm.v1.aes-sha2' } },
      ],
    });
    await joinRoom(bob, child);
    const grandchild = await plainRoom(alice, { name: 'Behind the roses' });
    await addChild(alice, root, child);
    // A plain room's own m.space.child events are not followed: only a space has children.
    await addChild(alice, child, grandchild);

    const rooms = await roomsOf(bob, root);
    expect(idsOf(rooms)).toEqual([root, child]);
    const [spaceChunk, roomChunk] = rooms as [Chunk, Chunk];
    expect(spaceChunk).toMatchObject({
      room_id: root,
      name: 'Garden',
      topic: 'Everything green',
      canonical_alias: `#sh_garden:${serverOf(alice)}`,
      num_joined_members: 1,
      join_rule: 'public',
      world_readable: false,
      guest_can_join: false,
      room_type: 'm.space',
      room_version: '11',
    });
    expect(spaceChunk.encryption).toBeUndefined();
    expect(spaceChunk.children_state).toEqual([
      {
        type: 'm.space.child',
        state_key: child,
        content: { via: [serverOf(alice)] },
        sender: alice.userId,
        origin_server_ts: expect.any(Number),
      },
    ]);
    expect(roomChunk).toEqual({
      room_id: child,
      name: 'Roses',
      topic: 'Thorny',
      canonical_alias: `#sh_roses:${serverOf(alice)}`,
      avatar_url: 'mxc://example.org/rose',
      num_joined_members: 2,
      join_rule: 'public',
      world_readable: true,
      guest_can_join: true,
      encryption: 'm.megolm.v1.aes-sha2',
      room_version: '11',
      children_state: [],
    });
  });

  it('counts only children with a non-empty via; an unknown (remote) child is skipped but stays in children_state', async () => {
    const root = await space(alice);
    const [listed, noVia, emptyVia, badVia] = [
      await plainRoom(alice),
      await plainRoom(alice),
      await plainRoom(alice),
      await plainRoom(alice),
    ];
    await addChild(alice, root, listed);
    await setState(alice, root, 'm.space.child', noVia, {});
    await setState(alice, root, 'm.space.child', emptyVia, { via: [] });
    await setState(alice, root, 'm.space.child', badVia, { via: 'example.org' });
    const remote = '!elsewhere:remote.example.org';
    await setState(alice, root, 'm.space.child', remote, { via: ['remote.example.org'] });

    const rooms = await roomsOf(alice, root);
    expect(idsOf(rooms)).toEqual([root, listed]);
    expect(rooms[0]!.children_state.map((e) => e.state_key)).toEqual([listed, remote]);
  });

  it('orders children by a valid order, then by the child event timestamp (the spec example, with invalid orders)', async () => {
    const root = await space(alice);
    const [a, b, c, d, e, long, nonAscii, sameOrder1, sameOrder2] = await Promise.all(Array.from({ length: 9 }, () => plainRoom(alice)));
    // Sent in this order, a few milliseconds apart: the timestamps increase.
    const sends: Array<[string, Record<string, unknown>]> = [
      [long!, { order: 'x'.repeat(51) }],
      [a!, { order: 'aaaa' }],
      [e!, {}],
      [sameOrder2!, { order: 'same' }],
      [c!, { order: 'first' }],
      [d!, {}],
      [sameOrder1!, { order: 'same' }],
      [b!, { order: ' ' }],
      [nonAscii!, { order: 'ä' }],
    ];
    for (const [child, content] of sends) {
      await addChild(alice, root, child, content);
      await sleep(3);
    }
    const expected = [b, a, c, sameOrder2, sameOrder1, long, e, d, nonAscii];
    const rooms = await roomsOf(alice, root);
    expect(idsOf(rooms)).toEqual([root, ...expected]);
    expect(rooms[0]!.children_state.map((ev) => ev.state_key)).toEqual(expected);
  });

  it('walks depth first: a subspace and its rooms come before its next sibling', async () => {
    const root = await space(alice);
    const sub = await space(alice);
    const [x, y, z] = [await plainRoom(alice), await plainRoom(alice), await plainRoom(alice)];
    await addChild(alice, root, sub, { order: 'a' });
    await addChild(alice, root, z, { order: 'b' });
    await addChild(alice, sub, x, { order: '1' });
    await addChild(alice, sub, y, { order: '2' });
    expect(idsOf(await roomsOf(alice, root))).toEqual([root, sub, x, y, z]);
  });

  it('max_depth stops the walk: 0 is the root only, 1 its children (their children_state still shown)', async () => {
    const root = await space(alice);
    const sub = await space(alice);
    const leaf = await plainRoom(alice);
    await addChild(alice, root, sub);
    await addChild(alice, sub, leaf);
    expect(idsOf(await roomsOf(alice, root, { max_depth: 0 }))).toEqual([root]);
    const one = await roomsOf(alice, root, { max_depth: 1 });
    expect(idsOf(one)).toEqual([root, sub]);
    expect(one[1]!.children_state.map((e) => e.state_key)).toEqual([leaf]);
    expect(idsOf(await roomsOf(alice, root, { max_depth: 2 }))).toEqual([root, sub, leaf]);
  });

  it('suggested_only keeps suggested children only, at every level and in children_state', async () => {
    const root = await space(alice);
    const sub = await space(alice);
    const [picked, skipped, subPicked, subSkipped] = await Promise.all(Array.from({ length: 4 }, () => plainRoom(alice)));
    await addChild(alice, root, sub, { suggested: true, order: '1' });
    await addChild(alice, root, picked!, { suggested: true, order: '2' });
    await addChild(alice, root, skipped!, { suggested: false, order: '3' });
    await addChild(alice, sub, subPicked!, { suggested: true });
    await addChild(alice, sub, subSkipped!);
    const rooms = await roomsOf(alice, root, { suggested_only: true });
    expect(idsOf(rooms)).toEqual([root, sub, subPicked, picked]);
    expect(rooms[0]!.children_state.map((e) => e.state_key)).toEqual([sub, picked]);
    expect(idsOf(await roomsOf(alice, root, { suggested_only: false }))).toEqual([root, sub, subPicked, subSkipped, picked, skipped]);
  });

  it('does not loop on cycles and lists each room once (a room that is a child of two spaces too)', async () => {
    const a = await space(alice);
    const b = await space(alice);
    const shared = await plainRoom(alice);
    await addChild(alice, a, b, { order: '1' });
    await addChild(alice, a, shared, { order: '2' });
    await addChild(alice, a, a, { order: '3' });
    await addChild(alice, b, a, { order: '1' });
    await addChild(alice, b, shared, { order: '2' });
    const rooms = await roomsOf(alice, a);
    expect(idsOf(rooms)).toEqual([a, b, shared]);
    expect(rooms[1]!.children_state.map((e) => e.state_key)).toEqual([a, shared]);
    expect(idsOf(await roomsOf(alice, b))).toEqual([b, a, shared]);
  });
});

describe('who sees which room', () => {
  it('a restricted child is shown to a member of the space it allows, not to an outsider (nor what is below it)', async () => {
    const root = await space(alice);
    await joinRoom(bob, root);
    const restricted = await space(alice, {
      preset: 'private_chat',
      initial_state: [
        { type: 'm.room.join_rules', content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: root }] } },
      ],
    });
    const below = await plainRoom(alice);
    await addChild(alice, root, restricted);
    await addChild(alice, restricted, below);

    const seen = await roomsOf(bob, root);
    expect(idsOf(seen)).toEqual([root, restricted, below]);
    expect(seen[1]).toMatchObject({ join_rule: 'restricted', allowed_room_ids: [root] });
    // carol may see the public space, not the restricted room, nor the public room reached only through it.
    expect(idsOf(await roomsOf(carol, root))).toEqual([root]);
    expectMatrixError(await hierarchy(carol, restricted), 403, 'M_FORBIDDEN');
  });

  it('shows knockable and world_readable rooms to anyone, an invite-only room to members and invitees only', async () => {
    const root = await space(alice);
    const knock = await createRoom(alice, {
      preset: 'private_chat',
      initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'knock' } }],
    });
    const readable = await createRoom(alice, {
      preset: 'private_chat',
      initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: 'world_readable' } }],
    });
    const invite = await createRoom(alice, { preset: 'private_chat' });
    // knock in a room version without knocking (v6) is no join rule a user can use.
    const oldKnock = await createRoom(alice, {
      preset: 'private_chat',
      room_version: '6',
      initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'knock' } }],
    });
    for (const [i, child] of [knock, readable, invite, oldKnock].entries()) await addChild(alice, root, child, { order: String(i) });

    expect(idsOf(await roomsOf(alice, root))).toEqual([root, knock, readable, invite, oldKnock]);
    expect(idsOf(await roomsOf(carol, root))).toEqual([root, knock, readable]);
    await inviteUser(alice, invite, dave.userId);
    expect(idsOf(await roomsOf(dave, root))).toEqual([root, knock, readable, invite]);
  });

  it('403 for a root the requester may not see, an unknown room, and a banned user', async () => {
    const secret = await space(alice, { preset: 'private_chat' });
    expectMatrixError(await hierarchy(carol, secret), 403, 'M_FORBIDDEN');
    expectMatrixError(await hierarchy(carol, `!nowhere:${serverOf(alice)}`), 403, 'M_FORBIDDEN');
    // An invitee may look before joining.
    await inviteUser(alice, secret, carol.userId);
    expect(idsOf(await roomsOf(carol, secret))).toEqual([secret]);

    const open = await space(alice);
    ok(await alice.client.post(roomPath(open, '/ban'), { user_id: dave.userId }));
    expectMatrixError(await hierarchy(dave, open), 403, 'M_FORBIDDEN');
    expect(idsOf(await roomsOf(carol, open))).toEqual([open]);
  });

  it('401 without an access token', async () => {
    const root = await space(alice);
    expectMatrixError(await alice.client.get(`/_matrix/client/v1/rooms/${enc(root)}/hierarchy`, { token: null }), 401, 'M_MISSING_TOKEN');
  });
});

describe('pagination', () => {
  let root: string;
  let full: string[];

  it('pages in any size give the one-page walk, without repeats or gaps', async () => {
    root = await space(alice);
    const sub = await space(alice);
    const children = await Promise.all(Array.from({ length: 6 }, () => plainRoom(alice)));
    const subChildren = await Promise.all(Array.from({ length: 3 }, () => plainRoom(alice)));
    await addChild(alice, root, sub, { order: 'c' });
    for (const [i, c] of children.entries()) await addChild(alice, root, c, { order: i < 3 ? `a${i}` : `d${i}` });
    for (const c of subChildren) await addChild(alice, sub, c);

    full = idsOf(await roomsOf(alice, root));
    expect(full).toHaveLength(11);
    expect(new Set(full).size).toBe(11);
    for (const limit of [1, 2, 3, 4, 10, 11, 12]) {
      const { ids, pages } = await allPages(alice, root, { limit });
      expect(ids, `limit ${limit}`).toEqual(full);
      expect(pages).toBe(Math.ceil(11 / limit));
    }
    // The limit may change between pages; suggested_only and max_depth may not.
    const first = ok(await hierarchy(alice, root, { limit: 2 }));
    const second = ok(await hierarchy(alice, root, { limit: 5, from: first.next_batch }));
    expect(idsOf([...first.rooms, ...second.rooms])).toEqual(full.slice(0, 7));
  });

  it('a room removed before the resume point between pages makes the next page skip nothing', async () => {
    const first = ok(await hierarchy(alice, root, { limit: 3 }));
    expect(idsOf(first.rooms)).toEqual(full.slice(0, 3));
    // Take the second room (a child of the root) out of the space.
    await setState(alice, root, 'm.space.child', full[1]!, {});
    const rest = ok(await hierarchy(alice, root, { limit: 50, from: first.next_batch }));
    expect(idsOf(rest.rooms)).toEqual(full.slice(3));
    await addChild(alice, root, full[1]!, { order: 'a0' });
  });

  it('the last room of a page removed between pages: the next page starts right after it', async () => {
    const first = ok(await hierarchy(alice, root, { limit: 3 }));
    expect(idsOf(first.rooms)).toEqual(full.slice(0, 3));
    await setState(alice, root, 'm.space.child', full[2]!, {});
    const rest = ok(await hierarchy(alice, root, { limit: 50, from: first.next_batch }));
    expect(idsOf(rest.rooms)).toEqual(full.slice(3));
    await addChild(alice, root, full[2]!, { order: 'a1' });
    expect(idsOf(await roomsOf(alice, root))).toEqual(full);
  });

  it('rejects a malformed token, or one made for another root, user, suggested_only or max_depth', async () => {
    const token = ok(await hierarchy(alice, root, { limit: 1 })).next_batch as string;
    expect(token).toEqual(expect.any(String));
    const other = await space(alice);
    const bad: Array<[TestUser, string, Params]> = [
      [alice, root, { from: 'not a token' }],
      [alice, root, { from: Buffer.from('[1,2,3]').toString('base64url') }],
      [alice, root, { from: token.slice(0, -2) }],
      [alice, root, { from: Buffer.from(JSON.stringify(['someone else', 1, root])).toString('base64url') }],
      [alice, other, { from: token }],
      [alice, root, { from: token, max_depth: 1 }],
      [alice, root, { from: token, suggested_only: true }],
      [bob, root, { from: token }],
    ];
    for (const [user, roomId, params] of bad) expectMatrixError(await hierarchy(user, roomId, params), 400, 'M_INVALID_PARAM');
    // The same parameters, spelt out, are the same request.
    expect(ok(await hierarchy(alice, root, { from: token, suggested_only: false, limit: 1 })).rooms).toHaveLength(1);
  });
});

describe('bad input', () => {
  it('400 M_INVALID_PARAM for a bad limit, max_depth, suggested_only or room ID', async () => {
    const root = await space(alice);
    for (const params of [
      { limit: 0 },
      { limit: -1 },
      { limit: 'ten' },
      { limit: 1.5 },
      { max_depth: -1 },
      { max_depth: 'deep' },
      { max_depth: 0.5 },
      { suggested_only: 'yes' },
    ] as Params[]) {
      expectMatrixError(await hierarchy(alice, root, params), 400, 'M_INVALID_PARAM');
    }
    expectMatrixError(await hierarchy(alice, 'not-a-room'), 400, 'M_INVALID_PARAM');
    // Nothing changed: the same request still answers as before.
    expect(idsOf(await roomsOf(alice, root))).toEqual([root]);
  });
});

describe('matrix-js-sdk getRoomHierarchy', () => {
  const clients: MatrixClient[] = [];
  afterAll(() => {
    for (const c of clients) c.stopClient();
  });

  it('pages through a space as Element does, suggested_only and max_depth included', async () => {
    if (!process.env.COMMCOMMS_TEST_LOG) (sdkRootLogger as unknown as { setLevel(level: string): void }).setLevel('silent');
    const client = createClient({
      baseUrl: hs.url,
      accessToken: bob.accessToken,
      userId: bob.userId,
      deviceId: bob.deviceId,
      logger: quietLogger,
    });
    clients.push(client);
    const root = await space(alice, { name: 'SDK space' });
    const sub = await space(alice, { name: 'SDK subspace' });
    const rooms = await Promise.all(['one', 'two', 'three'].map((name) => plainRoom(alice, { name })));
    await addChild(alice, root, sub, { order: '0', suggested: true });
    for (const [i, r] of rooms.entries()) await addChild(alice, root, r, { order: String(i + 1), suggested: i === 0 });
    const deep = await plainRoom(alice, { name: 'deep' });
    await addChild(alice, sub, deep);

    const seen: string[] = [];
    let from: string | undefined;
    do {
      const page = await client.getRoomHierarchy(root, 2, undefined, false, from);
      expectMatchesSpec('space_hierarchy.yaml', '/rooms/{roomId}/hierarchy', 'GET', 200, page);
      seen.push(...page.rooms.map((r) => r.room_id));
      from = page.next_batch;
    } while (from);
    expect(seen).toEqual([root, sub, deep, ...rooms]);

    const suggested = await client.getRoomHierarchy(root, 50, 1, true);
    expect(suggested.rooms.map((r) => r.name)).toEqual(['SDK space', 'SDK subspace', 'one']);
    expect(suggested.next_batch).toBeUndefined();
  });
});
