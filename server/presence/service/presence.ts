import { batchedOn, direct, type KeyedReads } from '../../db/batch.ts';
import { transaction } from '../../db/transaction.ts';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql, Tx } from '../../db/database.ts';
import { nextStreamPosition } from '../../db/stream.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { Notifier } from '../../notifier/index.ts';
import {
  getPresence,
  presenceChangedBetween,
  presenceChangedSince,
  presenceOfUsers,
  upsertPresence,
  type PresenceRow,
  type PresenceState,
} from '../storage/presence.ts';
import type { PresenceChange } from '../storage/timeouts.ts';
import type { SyncTracker } from './sync-tracker.ts';

export interface PresenceDeps {
  sql: Sql;
  notifier: Notifier;
  /** Rooms: users joined to a room the user is joined to (of `among`, when given). */
  usersSharingRoomWith: (tx: Tx, userId: string, among?: readonly string[]) => Promise<string[]>;
  /** Rooms: for each (user, since), the users who came to share a joined room with the user after `since`. */
  usersNewlySharingRoomWithEach: (tx: Tx, keys: readonly { userId: string; since: number }[]) => Promise<string[][]>;
  shareARoom: (tx: Tx, a: string, b: string) => Promise<boolean>;
  /** Accounts: whether a (local, active) user exists. */
  userExists: (userId: string) => Promise<boolean>;
}

export interface PresenceServiceDeps extends PresenceDeps {
  /** This process's /syncs and the activity it saw, recorded by heartbeat (sync-tracker.ts). */
  tracker: SyncTracker;
}

export interface PresenceStatus {
  presence: PresenceState;
  last_active_ago?: number;
  status_msg?: string | null;
  currently_active?: boolean;
}

/** The presence content a client sees; last_active_ago is computed when read. */
function contentOf(row: PresenceRow | undefined, now: number): PresenceStatus {
  if (!row) return { presence: 'offline' };
  return {
    presence: row.presence,
    ...(row.last_active_ts !== null ? { last_active_ago: Math.max(0, now - row.last_active_ts) } : {}),
    ...(row.status_msg !== null ? { status_msg: row.status_msg } : {}),
    ...(row.presence === 'online' ? { currently_active: row.currently_active } : {}),
  };
}

/** Past this many presence changes in a sync's window, they are matched against the member list instead. */
const CHANGED_CAP = 200;

/**
 * Presence: each change takes a stream position, so /sync delivers it to the
 * user and to everyone sharing a room with them.
 */
export function createPresenceService({
  sql,
  notifier,
  usersSharingRoomWith,
  usersNewlySharingRoomWithEach,
  shareARoom,
  userExists,
  tracker,
}: PresenceServiceDeps) {
  /**
   * Presence changed in (since, upTo] of the user and those sharing a room with them. A
   * long-poll asks this each time it wakes, and a presence change wakes everyone in the
   * user's rooms: listing the room's members each time made every wake-up cost a scan
   * of them (5 ms of PGlite for 1,000 members) and a query naming all 1,000, which at
   * 1,000 clients coming online is 1,000 x 1,000 of them. So an incremental sync starts
   * from what changed in its window (few rows, by index) and asks which of those share
   * a room; past CHANGED_CAP changes (an old token), the member list is cheaper again.
   * `window` is the first CHANGED_CAP + 1 changes of anyone in (since, upTo].
   */
  async function changedSince(tx: Tx, window: PresenceRow[], userId: string, since: number, upTo: number): Promise<PresenceRow[]> {
    if (window.length <= CHANGED_CAP) {
      const others = [...new Set(window.map((r) => r.user_id).filter((u) => u !== userId))];
      const sharing = new Set(await usersSharingRoomWith(tx, userId, others));
      return window.filter((r) => r.user_id === userId || sharing.has(r.user_id));
    }
    const users = [...new Set([userId, ...(await usersSharingRoomWith(tx, userId))])];
    return presenceChangedSince(tx, users, since, upTo);
  }

  /**
   * m.presence events for /sync: the user and those sharing a room with them, changed
   * in (since, upTo]; and, in an incremental sync, the current presence of users who
   * came to share a room since, which the client has not seen however old it is.
   */
  function presenceSinceOver(k: KeyedReads) {
    // The passes one event woke ask for the same window: it is read once.
    const changedBetween = k.one(
      (w: { since: number; upTo: number }) => `${w.since}\n${w.upTo}`,
      (tx, windows) => Promise.all(windows.map((w) => presenceChangedBetween(tx, w.since, w.upTo, CHANGED_CAP + 1))),
    );
    const newlySharing = k.one((n: { userId: string; since: number }) => `${n.userId}\n${n.since}`, usersNewlySharingRoomWithEach);
    return async (tx: Tx, userId: string, since: number | undefined, upTo: number): Promise<JsonObject[]> => {
      const window = await changedBetween(tx, { since: since ?? 0, upTo });
      const changed = await changedSince(tx, window, userId, since ?? 0, upTo);
      const seen = new Set(changed.map((r) => r.user_id));
      const newcomers = since === undefined ? [] : (await newlySharing(tx, { userId, since })).filter((u) => !seen.has(u));
      const rows = [...changed, ...(await presenceOfUsers(tx, newcomers)).filter((r) => r.stream_pos <= upTo)];
      const now = Date.now();
      return rows.map((r) => ({ type: 'm.presence', sender: r.user_id, content: contentOf(r, now) }) as unknown as JsonObject);
    };
  }

  // Every /sync asks whether its set_presence changes anything: the requests of one turn of the
  // event loop (the re-polls of the clients one event answered) read it in one query.
  const presenceNow = batchedOn(sql).one(
    (u: string) => u,
    async (tx, userIds: string[]) => {
      const byUser = new Map((await presenceOfUsers(tx, userIds)).map((r) => [r.user_id, r]));
      return userIds.map((u) => byUser.get(u));
    },
  );

  /** Wakes the /syncs of the users whose presence changed and of everyone sharing a room with them. */
  async function announce(changes: readonly PresenceChange[]): Promise<void> {
    if (changes.length === 0) return;
    const userIds = new Set<string>();
    for (const { user_id } of changes) {
      userIds.add(user_id);
      for (const u of await usersSharingRoomWith(sql, user_id)) userIds.add(u);
    }
    notifier.notify({ pos: Math.max(...changes.map((c) => c.stream_pos)), userIds: [...userIds] });
  }

  async function write(
    userId: string,
    presence: PresenceState,
    statusMsg: string | null,
    active: boolean,
    previous: PresenceRow | undefined,
    synced?: { lastSyncTs: number },
  ): Promise<void> {
    const now = Date.now();
    const pos = await transaction(sql, async (tx) => {
      const p = await nextStreamPosition(tx);
      await upsertPresence(
        tx,
        {
          userId,
          presence,
          statusMsg,
          // Setting a state or coming online is activity; a sync going idle is not.
          lastActiveTs: active ? now : (previous?.last_active_ts ?? null),
          currentlyActive: presence === 'online',
          ...(synced ? { synced } : {}),
        },
        p,
      );
      return p;
    });
    await announce([{ user_id: userId, stream_pos: pos }]);
  }

  return {
    /** PUT /presence/{userId}/status: an explicit state (itself activity, says the spec); an absent status_msg clears it. */
    async set(userId: string, presence: PresenceState, statusMsg: string | null): Promise<void> {
      await write(userId, presence, statusMsg, true, await getPresence(sql, userId));
    },

    /**
     * A /sync begins, with its set_presence; returns what to call when it ends. `online` (the
     * default) or `unavailable` marks the user so when they are not already, and the sync
     * counts as the user syncing (it keeps them from going offline); `online` is also activity
     * (Synapse's reading: it keeps them from going idle). `offline` leaves presence alone and
     * does not count at all (the spec: the client is not marked online). Writes only on a
     * change (or when an online user was no longer currently active), not once per sync: the
     * rest is counted in memory and recorded by the heartbeat (sync-tracker.ts).
     * A sweeper may set the user offline just after the read below found them as asked (so
     * nothing is written here): the tracker, told of the sync only after that read, then claims
     * the user with its next heartbeat and sets them back (sync-tracker.ts explains the race).
     */
    async syncing(userId: string, setPresence: PresenceState): Promise<() => void> {
      if (setPresence === 'offline') return () => {};
      const online = setPresence === 'online';
      const current = await presenceNow(sql, userId);
      if (current?.presence === setPresence && (!online || current.currently_active)) {
        const lastSeen = Math.max(current.last_sync_ts ?? 0, current.last_active_ts ?? 0);
        return tracker.started(userId, { presence: setPresence, active: online, lastSeen });
      }
      // The write records this sync's start too: under the row's lock, as a claim (see above).
      const now = Date.now();
      await write(userId, setPresence, current?.status_msg ?? null, online, current, { lastSyncTs: now });
      return tracker.started(userId, { presence: setPresence, active: online, lastSeen: now });
    },

    /**
     * The user did something (sent a message): activity, recorded with the next heartbeat.
     * Brings an unavailable user back online, and an online one back to currently active, at
     * once; leaves an offline user offline (as Synapse does: activity is not a connection).
     */
    async active(userId: string): Promise<void> {
      tracker.active(userId, Date.now());
      const current = await presenceNow(sql, userId);
      if (!current || current.presence === 'offline') return;
      if (current.presence === 'online' && current.currently_active) return;
      await write(userId, 'online', current.status_msg, true, current);
    },

    /** GET /presence/{userId}/status: for oneself, or a user sharing a room. */
    async get(viewer: string, userId: string): Promise<PresenceStatus> {
      if (viewer !== userId) {
        if (!(await userExists(userId))) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown user');
        if (!(await shareARoom(sql, viewer, userId)))
          throw new MatrixError(403, 'M_FORBIDDEN', 'You are not allowed to see their presence');
      }
      return contentOf(await getPresence(sql, userId), Date.now());
    },

    announce,
    presenceSince: presenceSinceOver(direct),
    /** The same read for /sync passes batched per tick (the passes one event woke read it as one). */
    batched: () => ({ presenceSince: presenceSinceOver(batchedOn(sql)) }),
  };
}

export type PresenceService = ReturnType<typeof createPresenceService>;
