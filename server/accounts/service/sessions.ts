import { batchedOn } from '../../db/batch.ts';
import { transaction } from '../../db/transaction.ts';
import type { Config } from '../../config/load.ts';
import type { Sql, Tx } from '../../db/database.ts';
import type { Requester } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { upsertDevice, touchDevice } from '../storage/devices.ts';
import {
  deleteTokensOfDevice,
  findAccessTokensEach,
  findRefreshTokenForUpdate,
  insertAccessToken,
  insertRefreshToken,
  markRefreshTokenUsed,
} from '../storage/tokens.ts';
import { newToken, randomId, secretsEqual, tokenHash } from './secrets.ts';

export interface IssuedSession {
  user_id: string;
  device_id: string;
  access_token: string;
  refresh_token?: string;
  expires_in_ms?: number;
}

export interface SessionDeps {
  sql: Sql;
  config: Config;
}

/** Logging in, refreshing, and turning a bearer token back into a requester. */
export function createSessions({ sql, config }: SessionDeps) {
  const lifetime = config.auth.refreshable_access_token_lifetime_ms;
  const refreshLifetime = config.auth.refresh_token_lifetime_ms;
  // last_seen is advisory: write it at most once a minute per token, not per request.
  const lastTouched = new Map<number, number>();
  // Every request looks its token up: the requests of one turn of the event loop (the re-polls of
  // the clients one event answered, a burst of sends) do it in one query. Nothing is cached.
  const findAccessToken = batchedOn(sql).one((hex: string) => hex, findAccessTokensEach);

  async function issue(
    tx: Tx,
    userId: string,
    opts: { deviceId?: string | undefined; displayName?: string | undefined; refreshable: boolean },
  ): Promise<IssuedSession> {
    const deviceId = opts.deviceId ?? randomId(10);
    if (opts.deviceId !== undefined) {
      // Logging in again as an existing device replaces that device's old tokens but keeps
      // the device: a client back from a soft logout keeps its name (and, later, its keys).
      await deleteTokensOfDevice(tx, userId, deviceId);
    }
    await upsertDevice(tx, userId, deviceId, opts.displayName ?? null);
    const access = newToken('cca');
    if (!opts.refreshable) {
      await insertAccessToken(tx, { userId, deviceId, hash: tokenHash(access), refreshTokenId: null, expiresAt: null });
      return { user_id: userId, device_id: deviceId, access_token: access };
    }
    const refresh = newToken('ccr');
    const refreshId = await insertRefreshToken(tx, {
      userId,
      deviceId,
      hash: tokenHash(refresh),
      expiresAt: refreshLifetime ? new Date(Date.now() + refreshLifetime) : null,
    });
    await insertAccessToken(tx, {
      userId,
      deviceId,
      hash: tokenHash(access),
      refreshTokenId: refreshId,
      expiresAt: new Date(Date.now() + lifetime),
    });
    return { user_id: userId, device_id: deviceId, access_token: access, refresh_token: refresh, expires_in_ms: lifetime };
  }

  async function authenticate(token: string, seen?: { ip: string | null; userAgent: string | null }): Promise<Requester> {
    const hash = tokenHash(token);
    const row = await findAccessToken(sql, Buffer.from(hash).toString('hex'));
    if (!row || !secretsEqual(row.token_hash, hash) || row.deactivated) {
      throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown access token', { soft_logout: false });
    }
    if (row.expires_at && row.expires_at.getTime() <= Date.now()) {
      throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Access token has expired', { soft_logout: true });
    }
    if (seen) {
      const now = Date.now();
      if ((lastTouched.get(row.id) ?? 0) < now - 60_000) {
        lastTouched.set(row.id, now);
        if (lastTouched.size > 100_000) lastTouched.clear();
        await touchDevice(sql, row.user_id, row.device_id, seen.ip, seen.userAgent, now);
      }
    }
    return { userId: row.user_id, deviceId: row.device_id, isAdmin: row.is_admin, accessTokenId: row.id };
  }

  async function refresh(refreshToken: string): Promise<Omit<IssuedSession, 'user_id' | 'device_id'>> {
    return transaction(sql, async (tx) => {
      const hash = tokenHash(refreshToken);
      const row = await findRefreshTokenForUpdate(tx, hash);
      if (!row || !secretsEqual(row.token_hash, hash)) {
        throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown refresh token', { soft_logout: false });
      }
      if (row.used_at) {
        // A second use of a rotated token means it leaked or a client is confused;
        // either way it must not mint another pair.
        throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Refresh token has already been used', { soft_logout: false });
      }
      if (row.expires_at && row.expires_at.getTime() <= Date.now()) {
        throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Refresh token has expired', { soft_logout: false });
      }
      await markRefreshTokenUsed(tx, row.id);
      const access = newToken('cca');
      const next = newToken('ccr');
      const nextId = await insertRefreshToken(tx, {
        userId: row.user_id,
        deviceId: row.device_id,
        hash: tokenHash(next),
        expiresAt: refreshLifetime ? new Date(Date.now() + refreshLifetime) : null,
      });
      await insertAccessToken(tx, {
        userId: row.user_id,
        deviceId: row.device_id,
        hash: tokenHash(access),
        refreshTokenId: nextId,
        expiresAt: new Date(Date.now() + lifetime),
      });
      return { access_token: access, refresh_token: next, expires_in_ms: lifetime };
    });
  }

  return { issue, authenticate, refresh };
}

export type Sessions = ReturnType<typeof createSessions>;
