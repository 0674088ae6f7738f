import { transaction } from '../../db/transaction.ts';
import type { PublishDomainEvent } from '../../domain-events/index.ts';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql } from '../../db/database.ts';
import { nextStreamPosition } from '../../db/stream.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { accountDataSinceEach, getAccountData, getAccountDataEach, lockAccountData, putAccountData } from '../storage/account-data.ts';
import type { Tx } from '../../db/database.ts';
import { getFilter, insertFilter } from '../storage/filters.ts';
import { getUser, searchUsers, setProfileField, type DirectoryScope } from '../storage/users.ts';

export interface Profile {
  displayname?: string;
  avatar_url?: string;
}

/** One result of a user-directory search (note: display_name, where a profile says displayname). */
export interface DirectoryEntry {
  user_id: string;
  display_name?: string;
  avatar_url?: string;
}

export interface UserDataDeps {
  sql: Sql;
  /** Wakes the owner's waiting /sync after an account data change commits (not a domain event: nothing to retry). */
  wakeSync: (userId: string, streamPos: number) => void;
  /** account.profile_changed goes out in the transaction that changes the profile. */
  publish: PublishDomainEvent;
}

/** Profile, account data and filters: what a user keeps about themselves. */
export function createUserData({ sql, wakeSync, publish }: UserDataDeps) {
  async function getProfile(userId: string, tx: Tx = sql): Promise<Profile> {
    const u = await getUser(tx, userId);
    if (!u || u.deactivated) throw new MatrixError(404, 'M_NOT_FOUND', 'Profile not found');
    return {
      ...(u.display_name !== null ? { displayname: u.display_name } : {}),
      ...(u.avatar_url !== null ? { avatar_url: u.avatar_url } : {}),
    };
  }

  return {
    getProfile: (userId: string) => getProfile(userId),

    /** User-directory entries (spec field names) in `scope` that match `term`, best first. */
    async searchProfiles(term: string, scope: DirectoryScope, limit: number): Promise<DirectoryEntry[]> {
      const rows = await searchUsers(sql, term, scope, limit);
      return rows.map((r) => ({
        user_id: r.user_id,
        ...(r.display_name !== null ? { display_name: r.display_name } : {}),
        ...(r.avatar_url !== null ? { avatar_url: r.avatar_url } : {}),
      }));
    },

    /** The rooms component hears of the change (account.profile_changed) and updates member events. */
    async setProfileField(userId: string, field: 'displayname' | 'avatar_url', value: string | null): Promise<void> {
      await transaction(sql, async (tx) => {
        await setProfileField(tx, userId, field, value);
        const profile = await getProfile(userId, tx);
        await publish(tx, { type: 'account.profile_changed', payload: { userId, ...profile } });
      });
    },

    async getAccountData(userId: string, roomId: string, type: string): Promise<JsonObject> {
      const content = await getAccountData(sql, userId, roomId, type);
      if (!content) throw new MatrixError(404, 'M_NOT_FOUND', 'Account data not found');
      return content;
    },

    async putAccountData(userId: string, roomId: string, type: string, content: JsonObject): Promise<number> {
      const pos = await transaction(sql, async (tx) => {
        const p = await nextStreamPosition(tx);
        await putAccountData(tx, userId, roomId, type, content, p);
        return p;
      });
      wakeSync(userId, pos);
      return pos;
    },

    /**
     * Read-modify-write of one entry under a lock, for documents several requests
     * edit (the m.tag map, the m.fully_read marker). `update` returns the new
     * content, or undefined to leave it as it is (no stream position is taken).
     */
    async updateAccountData(
      userId: string,
      roomId: string,
      type: string,
      update: (current: JsonObject | undefined, tx: Tx) => Promise<JsonObject | undefined>,
    ): Promise<number | undefined> {
      const pos = await transaction(sql, async (tx) => {
        await lockAccountData(tx, userId, roomId, type);
        const next = await update(await getAccountData(tx, userId, roomId, type), tx);
        if (next === undefined) return undefined;
        const p = await nextStreamPosition(tx);
        await putAccountData(tx, userId, roomId, type, next, p);
        return p;
      });
      if (pos !== undefined) wakeSync(userId, pos);
      return pos;
    },

    /** One entry, or undefined when absent (getAccountData answers 404 instead). */
    findAccountData: (tx: Tx, userId: string, roomId: string, type: string) => getAccountData(tx, userId, roomId, type),

    /** For /sync: each (user, since) key's account data changed after `since`, in one query. */
    accountDataSinceEach: (tx: Tx, keys: readonly { userId: string; since: number }[]) => accountDataSinceEach(tx, keys),

    /** Users whose events this user does not want to see (m.ignored_user_list). */
    ignoredUsers: async (tx: Tx, userId: string): Promise<Set<string>> => (await ignoredUsersEach(tx, [userId]))[0]!,
    ignoredUsersEach,

    createFilter: (userId: string, filter: JsonObject) => insertFilter(sql, userId, filter),

    async getFilter(userId: string, filterId: string): Promise<JsonObject> {
      const f = await getFilter(sql, userId, filterId);
      if (!f) throw new MatrixError(404, 'M_NOT_FOUND', 'No such filter');
      return f;
    },
  };
}

export type UserData = ReturnType<typeof createUserData>;

/** `ignoredUsers` of several users in one query, in order. */
async function ignoredUsersEach(tx: Tx, userIds: readonly string[]): Promise<Set<string>[]> {
  return (await getAccountDataEach(tx, userIds, '', 'm.ignored_user_list')).map((content) => {
    const ignored = content?.ignored_users;
    return new Set(ignored && typeof ignored === 'object' && !Array.isArray(ignored) ? Object.keys(ignored) : []);
  });
}
