import { beforeAll, describe, expect, it } from 'vitest';
import { passwordAuth } from '../support/accounts.ts';
import type { TestUser } from '../support/client.ts';
import { CS, createRoom, enc, ok } from '../support/rooms.ts';
import { expectMatchesSpec } from '../support/spec-schema.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * POST /user_directory/search with user_directory.search_all_users on (Synapse's option of the
 * same name): every local user is found, whatever rooms they are in, but the searcher (as in
 * Synapse) and deactivated users. Without the option, search.test.ts shows the same users hidden.
 */

const {
  users: [searcher, hermit, quiet, leaver],
} = withHomeserver({
  users: ['sa_searcher', 'sa_hermit', 'sa_quiet', 'sa_leaver'],
  config: { user_directory: { search_all_users: true } },
});

beforeAll(async () => {
  ok(await hermit.client.put(`${CS}/profile/${enc(hermit.userId)}/displayname`, { displayname: 'Hermit Crab' }));
  ok(await leaver.client.put(`${CS}/profile/${enc(leaver.userId)}/displayname`, { displayname: 'Hermit Leaving' }));
  // The hermit is alone in a private room; the others are in no room at all. Nobody shares a room.
  await createRoom(hermit, { preset: 'private_chat' });
  const challenge = await leaver.client.post(`${CS}/account/deactivate`, {});
  ok(await leaver.client.post(`${CS}/account/deactivate`, { auth: passwordAuth(leaver.userId, leaver.password, challenge.body.session) }));
});

const search = async (user: TestUser, body: Record<string, unknown>) => {
  const res = ok(await user.client.post(`${CS}/user_directory/search`, body));
  expectMatchesSpec('users.yaml', '/user_directory/search', 'POST', 200, res);
  return res;
};
const ids = (body: Record<string, unknown>) => (body.results as Array<{ user_id: string }>).map((r) => r.user_id).sort();

describe('user_directory.search_all_users', () => {
  it('finds a user who shares no room with the searcher and is in no public room', async () => {
    expect(await search(searcher, { search_term: 'hermit crab' })).toEqual({
      results: [{ user_id: hermit.userId, display_name: 'Hermit Crab' }],
      limited: false,
    });
    // One in no room at all, by a part of the user ID.
    expect(ids(await search(searcher, { search_term: 'sa_qui' }))).toEqual([quiet.userId]);
  });

  it('never finds a deactivated user, nor the searcher', async () => {
    expect(ids(await search(searcher, { search_term: 'hermit' }))).toEqual([hermit.userId]);
    expect(ids(await search(quiet, { search_term: 'sa_' }))).toEqual([searcher.userId, hermit.userId].sort());
  });

  it('still limits the results and says so', async () => {
    const one = await search(quiet, { search_term: 'sa_', limit: 1 });
    expect(one.results).toHaveLength(1);
    expect(one.limited).toBe(true);
    expect((await search(quiet, { search_term: 'sa_', limit: 2 })).limited).toBe(false);
    expect((await search(quiet, { search_term: '  ' })).results).toEqual([]);
  });
});
