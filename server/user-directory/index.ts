import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { DirectoryEntry } from '../accounts/index.ts';
import type { Sql, Tx } from '../db/database.ts';
import { readBody } from '../http/body.ts';
import type { AppEnv } from '../http/hono-env.ts';

export interface UserDirectoryDeps {
  sql: Sql;
  auth: MiddlewareHandler<AppEnv>;
  /** From rooms: whom a user's search may find (room co-members, members of public rooms). */
  usersVisibleInDirectory: (tx: Tx, userId: string) => Promise<string[]>;
  /** From accounts: the matching profiles among those users (or all local users but one), best first. */
  searchProfiles: (term: string, scope: string[] | { allBut: string }, limit: number) => Promise<DirectoryEntry[]>;
  /**
   * homeserver.yaml user_directory.search_all_users: a search finds every local user (but the
   * searcher, as in Synapse), not only those sharing a room or in a public room. Deactivated
   * users are never found either way.
   */
  searchAllUsers: boolean;
}

const searchBody = z
  .object({
    search_term: z.string().max(1024),
    limit: z.number().int().min(0).optional(),
  })
  .loose();

/** Default and largest number of results, as Synapse has them. */
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 50;

/**
 * The user directory (POST /user_directory/search) over local users' global profiles. Room-specific
 * display names are not searched: they were told to that room only. The visible set is read per
 * search, which is fine while rooms are small; a projection kept by membership events replaces it
 * when they are not.
 */
export function createUserDirectory({ sql, auth, usersVisibleInDirectory, searchProfiles, searchAllUsers }: UserDirectoryDeps) {
  async function find(searcher: string, term: string, limit: number): Promise<DirectoryEntry[]> {
    if (term === '') return [];
    if (searchAllUsers) return searchProfiles(term, { allBut: searcher }, limit);
    const visible = await usersVisibleInDirectory(sql, searcher);
    return visible.length === 0 ? [] : searchProfiles(term, visible, limit);
  }

  return {
    mount(app: Hono<AppEnv>): void {
      app.post('/_matrix/client/v3/user_directory/search', auth, async (c) => {
        const body = await readBody(c, searchBody);
        const limit = Math.min(body.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
        const found = await find(c.get('requester').userId, body.search_term.trim(), limit + 1);
        return c.json({ results: found.slice(0, limit), limited: found.length > limit });
      });
    },
  };
}
