import type { Tx } from '../../db/database.ts';

export interface UserRow {
  user_id: string;
  handle: string;
  password_hash: string | null;
  display_name: string | null;
  avatar_url: string | null;
  is_admin: boolean;
  user_type: string | null;
  deactivated: boolean;
}

export async function insertUser(
  tx: Tx,
  u: { userId: string; handle: string; passwordHash: string | null; displayName: string | null; isAdmin: boolean; userType: string | null },
): Promise<boolean> {
  const rows = await tx`
    insert into users (user_id, handle, password_hash, display_name, is_admin, user_type)
    values (${u.userId}, ${u.handle}, ${u.passwordHash}, ${u.displayName}, ${u.isAdmin}, ${u.userType})
    on conflict do nothing
    returning user_id`;
  return rows.length === 1;
}

export async function getUser(tx: Tx, userId: string): Promise<UserRow | undefined> {
  const [row] = await tx<UserRow[]>`
    select user_id, handle, password_hash, display_name, avatar_url, is_admin, user_type, deactivated
    from users where user_id = ${userId}`;
  return row;
}

export async function handleExists(tx: Tx, handle: string): Promise<boolean> {
  const rows = await tx`select 1 from users where handle = ${handle}`;
  return rows.length > 0;
}

export async function setPasswordHash(tx: Tx, userId: string, hash: string | null): Promise<void> {
  await tx`update users set password_hash = ${hash} where user_id = ${userId}`;
}

export async function setDeactivated(tx: Tx, userId: string): Promise<void> {
  await tx`update users set deactivated = true, email = null where user_id = ${userId}`;
}

export async function setProfileField(tx: Tx, userId: string, field: 'displayname' | 'avatar_url', value: string | null): Promise<void> {
  if (field === 'displayname') await tx`update users set display_name = ${value} where user_id = ${userId}`;
  else await tx`update users set avatar_url = ${value} where user_id = ${userId}`;
}

export interface DirectoryUserRow {
  user_id: string;
  display_name: string | null;
  avatar_url: string | null;
}

/** Whom a directory search looks among: the given users, or every local user but one (the searcher). */
export type DirectoryScope = readonly string[] | { allBut: string };

/**
 * Active accounts in `scope` whose user ID or display name contains `term`, case-insensitively:
 * prefix matches (of the localpart or the display name) first, then users with a display name.
 */
export async function searchUsers(tx: Tx, term: string, scope: DirectoryScope, limit: number): Promise<DirectoryUserRow[]> {
  const needle = term.toLowerCase();
  const pattern = `%${needle.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
  const among = 'allBut' in scope ? tx`user_id <> ${scope.allBut}` : tx`user_id = any(${scope as string[]}::text[])`;
  return tx<DirectoryUserRow[]>`
    select user_id, display_name, avatar_url from users
    where ${among} and not deactivated
      and (lower(user_id) like ${pattern} or lower(coalesce(display_name, '')) like ${pattern})
    order by
      (starts_with(lower(handle), ${needle}) or starts_with(lower(user_id), ${needle}) or starts_with(lower(coalesce(display_name, '')), ${needle})) desc,
      (display_name is null), lower(coalesce(display_name, handle)), user_id
    limit ${limit}`;
}
