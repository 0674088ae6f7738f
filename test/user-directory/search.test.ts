import { beforeAll, describe, expect, it } from 'vitest';
import { expectMatrixError } from '../support/accounts.ts';
import { ApiClient, type TestUser } from '../support/client.ts';
import { CS, createRoom, enc, inviteUser, joinRoom, ok, roomPath } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * POST /user_directory/search: who a search finds (room co-members, members of public or
 * world_readable rooms) and by what (user ID or global display name, never a room-specific name).
 * The scenario of Complement's TestRoomSpecificUsernameChange.
 */

const {
  hs,
  users: [alice, bob, eve, carol],
} = withHomeserver({ users: ['ud_alice', 'ud_bob', 'ud_eve', 'ud_carol'] });

beforeAll(async () => {
  ok(await alice.client.put(`${CS}/profile/${enc(alice.userId)}/displayname`, { displayname: 'Alice Cooper' }));
  ok(await carol.client.put(`${CS}/profile/${enc(carol.userId)}/displayname`, { displayname: 'Carol Cooper' }));
  // Alice is in a public room; bob shares a private room with her, where she goes by "Freddy".
  await createRoom(alice, { preset: 'public_chat' });
  const shared = await createRoom(bob, { preset: 'private_chat' });
  await inviteUser(bob, shared, alice.userId);
  await joinRoom(alice, shared);
  ok(await alice.client.put(roomPath(shared, `/state/m.room.member/${enc(alice.userId)}`), { membership: 'join', displayname: 'Freddy' }));
  // Carol is in a private room of her own only, with nobody.
  await createRoom(carol, { preset: 'private_chat' });
});

const search = async (user: TestUser, body: Record<string, unknown>) => {
  const res = await user.client.post(`${CS}/user_directory/search`, body);
  if (res.status === 200) expectMatchesSpec('users.yaml', '/user_directory/search', 'POST', 200, res.body);
  return res;
};
const ids = (body: Record<string, any>) => (body.results as Array<{ user_id: string }>).map((r) => r.user_id);

describe('POST /user_directory/search', () => {
  it('finds a member of a public room by display name, case-insensitively, with her global profile', async () => {
    const body = ok(await search(eve, { search_term: 'alice coop' }));
    expect(body).toEqual({ results: [{ user_id: alice.userId, display_name: 'Alice Cooper' }], limited: false });
  });

  it('finds her by a part of her user ID', async () => {
    expect(ids(ok(await search(eve, { search_term: '@ud_ali' })))).toEqual([alice.userId]);
  });

  it('never by a room-specific display name, not even for the room-mate who was told it', async () => {
    expect(ok(await search(eve, { search_term: 'Freddy' })).results).toEqual([]);
    expect(ok(await search(bob, { search_term: 'Freddy' })).results).toEqual([]);
  });

  it('finds a room-mate who is in no public room, and no one else who is not', async () => {
    // bob is in a private room only: alice, who shares it, finds him; eve does not.
    expect(ids(ok(await search(alice, { search_term: 'ud_bob' })))).toEqual([bob.userId]);
    expect(ok(await search(eve, { search_term: 'ud_bob' })).results).toEqual([]);
    // carol shares no room with anyone and is in no public room.
    expect(ok(await search(alice, { search_term: 'Carol' })).results).toEqual([]);
    // A searcher in no public room does not find themselves.
    expect(ok(await search(bob, { search_term: 'ud_bob' })).results).toEqual([]);
  });

  it('a user who joins a world_readable room becomes findable', async () => {
    const open = await createRoom(carol, {
      preset: 'private_chat',
      initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: 'world_readable' } }],
    });
    expect(ids(ok(await search(eve, { search_term: 'carol cooper' })))).toEqual([carol.userId]);
    ok(await carol.client.post(roomPath(open, '/leave'), {}));
    expect(ok(await search(eve, { search_term: 'carol cooper' })).results).toEqual([]);
  });

  it('limits the results and says so', async () => {
    const both = ok(await search(bob, { search_term: 'ud_' }));
    expect(ids(both)).toEqual([alice.userId]);
    const room = await createRoom(eve, { preset: 'public_chat' });
    await joinRoom(bob, room);
    const all = ok(await search(eve, { search_term: 'ud_' }));
    expect(ids(all).sort()).toEqual([alice.userId, bob.userId, eve.userId].sort());
    const one = ok(await search(eve, { search_term: 'ud_', limit: 1 }));
    expect(one.results).toHaveLength(1);
    expect(one.limited).toBe(true);
    expect(ok(await search(eve, { search_term: 'ud_', limit: 3 })).limited).toBe(false);
  });

  it('treats LIKE wildcards in the term as plain characters', async () => {
    expect(ok(await search(eve, { search_term: '%' })).results).toEqual([]);
    expect(ok(await search(eve, { search_term: 'ud_alice' })).results).toHaveLength(1);
    expect(ok(await search(eve, { search_term: 'u_' })).results).toEqual([]);
  });

  it('needs a token and a search_term', async () => {
    expectMatrixError(await new ApiClient(hs.url).post(`${CS}/user_directory/search`, { search_term: 'a' }), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await eve.client.post(`${CS}/user_directory/search`, {}), 400, 'M_MISSING_PARAM');
    expectMatrixError(await eve.client.post(`${CS}/user_directory/search`, { search_term: 7 }), 400, 'M_BAD_JSON');
    expectMatrixError(await eve.client.post(`${CS}/user_directory/search`, { search_term: 'a', limit: -1 }), 400, 'M_BAD_JSON');
  });
});
