import type { Sql } from '../../db/database.ts';
import { recordSyncs, type SyncRecord } from '../storage/timeouts.ts';
import type { PresenceRow } from '../storage/presence.ts';
import { recordingLagMs, syncLeaseMs, type PresenceTimeouts } from './timeouts.ts';

/** What this process has seen of one user since its last heartbeat. */
interface Seen {
  /** Its /syncs of the user now in flight. */
  inFlight: number;
  /** The lease on "syncing" this process last wrote for the user (0: none). */
  leaseUntil: number;
  /** The end of the user's last /sync here, not yet recorded. */
  syncEndedTs?: number;
  /** The user's last activity seen here, not yet recorded. */
  activeTs?: number;
}

export interface SyncTrackerDeps {
  sql: Sql;
  timeouts: PresenceTimeouts;
  onError: (err: unknown) => void;
}

/**
 * Who is syncing, as this process sees it, told to the database in one statement per heartbeat.
 *
 * /sync is the hottest path, so a request writes nothing itself: it counts in memory, and the
 * heartbeat renews a lease ("syncing until") for every user with a sync in flight here, records
 * when the last sync of the others ended, and the activity seen. The sweepers of every process
 * read those, so a user with a long-poll here is not timed out by another process, and one whose
 * process died times out once its lease runs out. One exception: a user whom nothing in the
 * database protects any more (their last sync ended nearly a timeout ago) is recorded at once,
 * batched with the others starting in the same turn, so no sweeper can catch them in between.
 */
export function createSyncTracker({ sql, timeouts, onError }: SyncTrackerDeps) {
  const leaseMs = syncLeaseMs(timeouts);
  const lagMs = recordingLagMs(timeouts);
  // A lease with less than this left is renewed: it must outlast the next heartbeat even if late.
  const renewWithinMs = 2 * timeouts.syncHeartbeatIntervalMs;
  const seen = new Map<string, Seen>();
  let flushing: Promise<void> | undefined;
  let again = false;
  let soon = false;
  let timer: NodeJS.Timeout | undefined;

  function of(userId: string): Seen {
    let s = seen.get(userId);
    if (!s) seen.set(userId, (s = { inFlight: 0, leaseUntil: 0 }));
    return s;
  }

  /** Takes what is due for the database out of `seen`; what is recorded no longer needs keeping. */
  function take(now: number): SyncRecord[] {
    const records: SyncRecord[] = [];
    for (const [userId, s] of seen) {
      const renew = s.inFlight > 0 && s.leaseUntil < now + renewWithinMs;
      // While a sync is in flight its lease speaks for it; the end of the last one is what counts after.
      const ended = s.inFlight === 0 ? (s.syncEndedTs ?? null) : null;
      const active = s.activeTs ?? null;
      if (renew || ended !== null || active !== null)
        records.push({ userId, syncingUntil: renew ? now + leaseMs : null, lastSyncTs: ended, lastActiveTs: active });
      if (renew) s.leaseUntil = now + leaseMs;
      delete s.syncEndedTs;
      delete s.activeTs;
      if (s.inFlight === 0) seen.delete(userId);
    }
    return records;
  }

  /** A heartbeat that failed: its news is kept for the next one, and its leases count as not written. */
  function putBack(records: readonly SyncRecord[]): void {
    for (const r of records) {
      const s = of(r.userId);
      if (r.syncingUntil !== null) s.leaseUntil = 0;
      if (r.lastSyncTs !== null) s.syncEndedTs = Math.max(s.syncEndedTs ?? 0, r.lastSyncTs);
      if (r.lastActiveTs !== null) s.activeTs = Math.max(s.activeTs ?? 0, r.lastActiveTs);
    }
  }

  async function heartbeat(): Promise<void> {
    const records = take(Date.now());
    try {
      await recordSyncs(sql, records);
    } catch (err) {
      putBack(records);
      onError(err);
    }
  }

  /** One heartbeat at a time; one asked for meanwhile runs right after. Never rejects. */
  function flush(): Promise<void> {
    if (flushing) {
      again = true;
      return flushing;
    }
    flushing = (async () => {
      do {
        again = false;
        await heartbeat();
      } while (again);
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  function flushSoon(): void {
    if (soon) return;
    soon = true;
    // After the I/O of this turn, so the syncs starting together are recorded together.
    setImmediate(() => {
      soon = false;
      void flush();
    });
  }

  /** Whether what the database holds keeps the user from timing out until well after the next heartbeat. */
  function protectedByDatabase(row: PresenceRow | undefined, now: number): boolean {
    if (!row) return false;
    const lastSeen = Math.max(row.last_sync_ts ?? 0, row.last_active_ts ?? 0);
    const until = Math.max(row.syncing_until ?? 0, lastSeen + timeouts.syncOnlineTimeoutMs + lagMs);
    return until >= now + renewWithinMs;
  }

  return {
    /**
     * A /sync of the user that affects presence begins; call the returned function when it ends.
     * `active`: it is activity (set_presence=online). `row`: the user's presence as just read,
     * which tells whether the database protects them until the next heartbeat. `leaseWritten`:
     * the lease a presence write for this sync already recorded (see leaseFrom).
     */
    started(userId: string, opts: { active: boolean; row?: PresenceRow | undefined; leaseWritten?: number }): () => void {
      const now = Date.now();
      const s = of(userId);
      s.inFlight++;
      if (opts.active) s.activeTs = now;
      if (opts.leaseWritten !== undefined) s.leaseUntil = Math.max(s.leaseUntil, opts.leaseWritten);
      if (s.leaseUntil < now + renewWithinMs && !protectedByDatabase(opts.row, now)) flushSoon();
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        // Still in `seen`: an entry goes only once nothing is in flight.
        s.inFlight--;
        s.syncEndedTs = Date.now();
      };
    },

    /** Activity of the user seen here (a message), recorded with the next heartbeat. */
    active(userId: string, ts: number): void {
      const s = of(userId);
      s.activeTs = Math.max(s.activeTs ?? 0, ts);
    },

    /** The lease to record when a /sync starting writes the user's presence anyway. */
    leaseFrom(now: number): number {
      return now + leaseMs;
    },

    start(): void {
      timer ??= setInterval(() => void flush(), timeouts.syncHeartbeatIntervalMs);
      timer.unref();
    },

    /** Stops the heartbeat after recording what is left (the ends of the syncs the server just answered). */
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await flush();
    },

    flush,
  };
}

export type SyncTracker = ReturnType<typeof createSyncTracker>;
