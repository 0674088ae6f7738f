import type { Tx } from '../../db/database.ts';

export interface VersionRow {
  version: number;
  algorithm: string;
  auth_data: Record<string, unknown>;
  etag: number;
  key_count: number;
  deleted: boolean;
}

const COLUMNS = 'version, algorithm, auth_data, etag, key_count, deleted';

/**
 * Serialises the creation of a user's backups (held to the end of the transaction):
 * the next version number is read from the rows, and two creations at once would
 * both read the same one.
 */
export async function lockUserBackups(tx: Tx, userId: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${'key_backup:' + userId}, 0))`;
}

/** The user's newest backup that is not deleted. */
export async function currentVersion(tx: Tx, userId: string): Promise<VersionRow | undefined> {
  const [row] = await tx<VersionRow[]>`select ${tx.unsafe(COLUMNS)} from key_backup_versions
    where user_id = ${userId} and not deleted order by version desc limit 1`;
  return row;
}

/** currentVersion, its row locked until the transaction ends. */
export async function lockCurrentVersion(tx: Tx, userId: string): Promise<VersionRow | undefined> {
  const [row] = await tx<VersionRow[]>`select ${tx.unsafe(COLUMNS)} from key_backup_versions
    where user_id = ${userId} and not deleted order by version desc limit 1 for update`;
  return row;
}

/** A version, deleted or not. */
export async function getVersion(tx: Tx, userId: string, version: number): Promise<VersionRow | undefined> {
  const [row] = await tx<VersionRow[]>`select ${tx.unsafe(COLUMNS)} from key_backup_versions
    where user_id = ${userId} and version = ${version}`;
  return row;
}

/**
 * A version that is not deleted, its row locked until the transaction ends. A writer
 * that waited for the lock reads the row as the previous holder left it: a version
 * deleted meanwhile is not returned.
 */
export async function lockVersion(tx: Tx, userId: string, version: number): Promise<VersionRow | undefined> {
  const [row] = await tx<VersionRow[]>`select ${tx.unsafe(COLUMNS)} from key_backup_versions
    where user_id = ${userId} and version = ${version} and not deleted for update`;
  return row;
}

/** Adds a version numbered one past the user's highest, deleted ones included; call under lockUserBackups. */
export async function insertVersion(tx: Tx, userId: string, algorithm: string, authData: Record<string, unknown>): Promise<number> {
  const [row] = await tx<{ version: number }[]>`insert into key_backup_versions (user_id, version, algorithm, auth_data)
    select ${userId}, coalesce(max(version), 0) + 1, ${algorithm}, ${tx.json(authData as never)}
    from key_backup_versions where user_id = ${userId}
    returning version`;
  return row!.version;
}

export async function updateAuthData(tx: Tx, userId: string, version: number, authData: Record<string, unknown>): Promise<void> {
  await tx`update key_backup_versions set auth_data = ${tx.json(authData as never)}
    where user_id = ${userId} and version = ${version}`;
}

/** Marks a version deleted; its keys are deleted separately (deleteSessions). */
export async function markDeleted(tx: Tx, userId: string, version: number): Promise<void> {
  await tx`update key_backup_versions set deleted = true, key_count = 0, etag = etag + 1
    where user_id = ${userId} and version = ${version}`;
}

/** Records a change to a version's keys: a new etag, and the count moved by `countDelta`. */
export async function bumpVersion(tx: Tx, userId: string, version: number, countDelta: number): Promise<{ etag: number; count: number }> {
  const [row] = await tx<{ etag: number; count: number }[]>`update key_backup_versions
    set etag = etag + 1, key_count = key_count + ${countDelta}
    where user_id = ${userId} and version = ${version}
    returning etag, key_count as count`;
  return row!;
}
