import { oneByKeyIndex } from '../../db/batch.ts';
import type { Tx } from '../../db/database.ts';

export interface AccessTokenRow {
  id: number;
  token_hash: Uint8Array;
  user_id: string;
  device_id: string;
  expires_at: Date | null;
  is_admin: boolean;
  deactivated: boolean;
}

export async function insertAccessToken(
  tx: Tx,
  t: { userId: string; deviceId: string; hash: Uint8Array; refreshTokenId: number | null; expiresAt: Date | null },
): Promise<number> {
  const [row] = await tx<{ id: number }[]>`
    insert into access_tokens (user_id, device_id, token_hash, refresh_token_id, expires_at)
    values (${t.userId}, ${t.deviceId}, ${Buffer.from(t.hash)}, ${t.refreshTokenId}, ${t.expiresAt})
    returning id`;
  return row!.id;
}

/** The access token rows of several token hashes (hex) in one query, in order: undefined where there is none. */
export async function findAccessTokensEach(tx: Tx, hexHashes: readonly string[]): Promise<(AccessTokenRow | undefined)[]> {
  if (hexHashes.length === 0) return [];
  const rows = await tx<(AccessTokenRow & { i: number })[]>`
    select s.i::int as i, t.id, t.token_hash, t.user_id, t.device_id, t.expires_at, u.is_admin, u.deactivated
    from unnest(${hexHashes as string[]}::text[]) with ordinality as s(hash, i)
    join access_tokens t on t.token_hash = decode(s.hash, 'hex')
    join users u on u.user_id = t.user_id`;
  return oneByKeyIndex(hexHashes.length, rows);
}

export async function deleteAccessToken(tx: Tx, id: number): Promise<void> {
  await tx`delete from access_tokens where id = ${id}`;
}

export interface RefreshTokenRow {
  id: number;
  token_hash: Uint8Array;
  user_id: string;
  device_id: string;
  expires_at: Date | null;
  used_at: Date | null;
}

export async function insertRefreshToken(
  tx: Tx,
  t: { userId: string; deviceId: string; hash: Uint8Array; expiresAt: Date | null },
): Promise<number> {
  const [row] = await tx<{ id: number }[]>`
    insert into refresh_tokens (user_id, device_id, token_hash, expires_at)
    values (${t.userId}, ${t.deviceId}, ${Buffer.from(t.hash)}, ${t.expiresAt})
    returning id`;
  return row!.id;
}

/** Locks the row so two concurrent refreshes with one token cannot both succeed. */
export async function findRefreshTokenForUpdate(tx: Tx, hash: Uint8Array): Promise<RefreshTokenRow | undefined> {
  const [row] = await tx<RefreshTokenRow[]>`
    select id, token_hash, user_id, device_id, expires_at, used_at
    from refresh_tokens where token_hash = ${Buffer.from(hash)} for update`;
  return row;
}

export async function markRefreshTokenUsed(tx: Tx, id: number): Promise<void> {
  await tx`update refresh_tokens set used_at = now() where id = ${id}`;
}

/** Every access and refresh token of one device; the device itself stays. */
export async function deleteTokensOfDevice(tx: Tx, userId: string, deviceId: string): Promise<void> {
  await tx`delete from access_tokens where user_id = ${userId} and device_id = ${deviceId}`;
  await tx`delete from refresh_tokens where user_id = ${userId} and device_id = ${deviceId}`;
}

/** The access tokens issued with a refresh token die with its rotation. */
export async function deleteAccessTokensOfRefreshToken(tx: Tx, refreshTokenId: number): Promise<void> {
  await tx`delete from access_tokens where refresh_token_id = ${refreshTokenId}`;
}
