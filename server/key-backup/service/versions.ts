import type { Sql } from '../../db/database.ts';
import { transaction } from '../../db/transaction.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { deleteSessions } from '../storage/sessions.ts';
import {
  currentVersion,
  getVersion,
  insertVersion,
  lockCurrentVersion,
  lockUserBackups,
  lockVersion,
  markDeleted,
  updateAuthData,
  type VersionRow,
} from '../storage/versions.ts';

/** GET /room_keys/version[/{version}]: versions and etags are opaque strings to clients. */
export interface VersionInfo {
  algorithm: string;
  auth_data: Record<string, unknown>;
  count: number;
  etag: string;
  version: string;
}

export const unknownVersion = (): MatrixError => new MatrixError(404, 'M_NOT_FOUND', 'Unknown backup version');

/**
 * The number a version string names, or a 404 for one this server never hands out
 * (it writes versions as plain decimals, and a longer one could not be a bigint).
 */
export function versionNumber(raw: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(raw)) throw unknownVersion();
  return Number(raw);
}

export function infoOf(row: VersionRow): VersionInfo {
  return {
    algorithm: row.algorithm,
    auth_data: row.auth_data,
    count: row.key_count,
    etag: String(row.etag),
    version: String(row.version),
  };
}

/** Backup versions: one user's backups, the newest (not deleted) being the one keys are written to. */
export function createVersionService({ sql }: { sql: Sql }) {
  return {
    async create(userId: string, algorithm: string, authData: Record<string, unknown>): Promise<string> {
      return transaction(sql, async (tx) => {
        await lockUserBackups(tx, userId);
        // An upload holding the current version's row finishes into it first; one that
        // waits for the row finds, once this commits, that it is no longer current.
        await lockCurrentVersion(tx, userId);
        return String(await insertVersion(tx, userId, algorithm, authData));
      });
    },

    /** The given version, or the current one; a deleted version is not found. */
    async info(userId: string, rawVersion?: string): Promise<VersionInfo> {
      if (rawVersion === undefined) {
        const row = await currentVersion(sql, userId);
        if (!row) throw new MatrixError(404, 'M_NOT_FOUND', 'No current backup version');
        return infoOf(row);
      }
      const row = await getVersion(sql, userId, versionNumber(rawVersion));
      if (!row || row.deleted) throw unknownVersion();
      return infoOf(row);
    },

    /** Only auth_data changes; the algorithm named must be the version's own. */
    async update(userId: string, rawVersion: string, body: { algorithm: string; auth_data: Record<string, unknown>; version?: string }) {
      if (body.version !== undefined && body.version !== rawVersion)
        throw new MatrixError(400, 'M_INVALID_PARAM', 'Version in body does not match the version in the path');
      const version = versionNumber(rawVersion);
      await transaction(sql, async (tx) => {
        const row = await lockVersion(tx, userId, version);
        if (!row) throw unknownVersion();
        if (row.algorithm !== body.algorithm) throw new MatrixError(400, 'M_INVALID_PARAM', 'Algorithm does not match');
        await updateAuthData(tx, userId, version, body.auth_data);
      });
    },

    /** Deletes the version and its keys; deleting it again succeeds, as the spec asks. */
    async delete(userId: string, rawVersion: string): Promise<void> {
      const version = versionNumber(rawVersion);
      await transaction(sql, async (tx) => {
        const row = await lockVersion(tx, userId, version);
        if (row) {
          await deleteSessions(tx, userId, version, {});
          await markDeleted(tx, userId, version);
          return;
        }
        if (!(await getVersion(tx, userId, version))) throw unknownVersion();
      });
    },
  };
}

export type VersionService = ReturnType<typeof createVersionService>;
