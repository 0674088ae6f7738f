import type { Sql } from '../../db/database.ts';
import { transaction } from '../../db/transaction.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import {
  deleteSessions,
  readSessions,
  storedMeta,
  upsertSessions,
  type SessionKey,
  type SessionRow,
  type SessionScope,
} from '../storage/sessions.ts';
import { bumpVersion, currentVersion, getVersion, lockVersion } from '../storage/versions.ts';
import { replacesStored } from './replace.ts';
import { unknownVersion, versionNumber } from './versions.ts';

/** Keys by room, then by session: the shape of the upload bodies and of GET /room_keys/keys. */
export type RoomKeys = Record<string, Record<string, SessionKey>>;

/** PUT and DELETE /room_keys/keys...: the version's keys as they stand after the change. */
export interface KeysUpdate {
  etag: string;
  count: number;
}

/**
 * The keys of a backup version. Every change to them holds the version's row lock,
 * so two uploads at once apply one after the other: neither's etag bump or count is
 * lost, and the second judges its keys against what the first stored.
 */
export function createSessionService({ sql }: { sql: Sql }) {
  return {
    /** Stores the keys that beat (replace.ts) what the version holds; only the current version takes keys. */
    async upload(userId: string, rawVersion: string, rooms: RoomKeys): Promise<KeysUpdate> {
      const version = versionNumber(rawVersion);
      return transaction(sql, async (tx) => {
        const row = await lockVersion(tx, userId, version);
        if (!row) throw unknownVersion();
        // Read after the lock: a backup created while this waited is seen, and wins.
        const current = await currentVersion(tx, userId);
        if (current && current.version !== version)
          throw new MatrixError(403, 'M_WRONG_ROOM_KEYS_VERSION', 'Wrong backup version', { current_version: String(current.version) });

        const uploaded: SessionRow[] = Object.entries(rooms).flatMap(([room_id, sessions]) =>
          Object.entries(sessions).map(([session_id, key]) => ({ room_id, session_id, ...key })),
        );
        const wanted = uploaded.map((k) => ({ roomId: k.room_id, sessionId: k.session_id }));
        const stored = new Map((await storedMeta(tx, userId, version, wanted)).map((m) => [`${m.room_id}\n${m.session_id}`, m]));
        let added = 0;
        const changed = uploaded.filter((k) => {
          const old = stored.get(`${k.room_id}\n${k.session_id}`);
          if (!old) added++;
          return !old || replacesStored(old, k);
        });
        if (changed.length === 0) return { etag: String(row.etag), count: row.key_count };
        await upsertSessions(tx, userId, version, changed);
        const after = await bumpVersion(tx, userId, version, added);
        return { etag: String(after.etag), count: after.count };
      });
    },

    /** The version's keys in `scope` (of any version not deleted, current or not). */
    async get(userId: string, rawVersion: string, scope: SessionScope): Promise<RoomKeys> {
      const version = versionNumber(rawVersion);
      const row = await getVersion(sql, userId, version);
      if (!row || row.deleted) throw unknownVersion();
      // Without a prototype: a room or session named "__proto__" is a key like any other.
      const rooms: RoomKeys = Object.create(null) as RoomKeys;
      for (const { room_id, session_id, ...key } of await readSessions(sql, userId, version, scope)) {
        (rooms[room_id] ??= Object.create(null) as Record<string, SessionKey>)[session_id] = key;
      }
      return rooms;
    },

    /** Deletes the version's keys in `scope`; the etag moves only if a key went. */
    async delete(userId: string, rawVersion: string, scope: SessionScope): Promise<KeysUpdate> {
      const version = versionNumber(rawVersion);
      return transaction(sql, async (tx) => {
        const row = await lockVersion(tx, userId, version);
        if (!row) throw unknownVersion();
        const removed = await deleteSessions(tx, userId, version, scope);
        if (removed === 0) return { etag: String(row.etag), count: row.key_count };
        const after = await bumpVersion(tx, userId, version, -removed);
        return { etag: String(after.etag), count: after.count };
      });
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
