import type { Sql } from '../../db/database.ts';
import type { SyncLease, SyncLiveness } from '../liveness/sync-liveness.ts';
import { recordSyncs, type PresenceChange, type SyncRecord } from '../storage/timeouts.ts';
import { recordingLagMs, syncLeaseMs, type PresenceTimeouts } from './timeouts.ts';

/** What a /sync that counts asks for (set_presence), and what a claim sets back. */
export type SyncPresence = 'online' | 'unavailable';

/** What this process has seen of one user since its last heartbeat. */
interface Seen {
  /** Its /syncs of the user now in flight. */
  inFlight: number;
  /** The set_presence of the last of them to start. */
  presence: SyncPresence;
  /** The lease last asked for here, written or being written (0: none, or its write failed). */
  leaseUntil: number;
  /** Until when what the sweepers see keeps the user from timing out, as far as this process knows. */
  coveredUntil: number;
  /** A claim a failed heartbeat left for the next one. */
  claim?: boolean;
  /** The end of the user's last /sync here, not yet recorded. */
  syncEndedTs?: number;
  /** The user's last activity seen here, not yet recorded. */
  activeTs?: number;
}

export interface SyncTrackerDeps {
  sql: Sql;
  /** Where the leases go: PostgreSQL or Redis (liveness/). */
  liveness: SyncLiveness;
  timeouts: PresenceTimeouts;
  /** Wakes the /syncs concerned by a presence change: a claim that set a user back online. */
  announce: (changes: readonly PresenceChange[]) => Promise<void>;
  onError: (err: unknown) => void;
}

/**
 * Who is syncing, as this process sees it, told to the other processes once per heartbeat.
 *
 * /sync is the hottest path, so a request writes nothing itself: it counts in memory, and the
 * heartbeat renews a lease in the sync liveness (liveness/: PostgreSQL, or Redis) for every user
 * with a sync in flight here, and records in PostgreSQL when the last sync of the others ended
 * and the activity seen. Sweepers (sweeper.ts) time out only users with no recent sync or
 * activity in PostgreSQL and no live lease, so a user with a long-poll here is not timed out by
 * another process, and one whose process died times out once their lease has ended.
 *
 * Coverage. A user with a sync in flight here must at every moment be kept from timing out by
 * something every sweeper sees: the last sync or activity PostgreSQL holds (for the sync timeout
 * plus the recording lag after it), or a live lease. `coveredUntil` is what this process knows of
 * that. Writes are taken to land within one heartbeat interval: a lease is renewed while two
 * intervals are left, and a sync that starts with less than that covered is recorded at once,
 * batched with the others starting in the same turn.
 *
 * The race at the edge, and the claim that closes it. A sweeper looks up which of its candidates
 * are live, then moves the others with an UPDATE in PostgreSQL. The look-up and the UPDATE are not
 * one transaction (the leases may not even be in PostgreSQL), so a lease written between them is
 * not seen; and a sync that starts meanwhile and finds its user still online writes no presence.
 * That user would stay offline for as long as the sync lasts. So whenever this process cannot be
 * sure a lease lands before what covers the user ends (a sync that started with less than one
 * interval covered, or a lease that lapsed because heartbeats failed), its heartbeat also claims
 * the user in PostgreSQL (recordSyncs): last_sync_ts becomes now and, if the user is offline, they
 * are set back to the presence the sync asked for. The claim and the sweeper's UPDATE lock the
 * same row, so one of them goes first:
 *  - the claim: the sweeper's UPDATE re-checks last_sync_ts on the locked row, finds it recent,
 *    and leaves the user alone;
 *  - the sweeper: the claim finds the user offline and sets them back (a stream position of its
 *    own, announced): followers see offline then online, and the user is online while the sync
 *    is in flight, which is what matters.
 * The claim always comes after the sync read the user's presence (the tracker hears of a sync
 * only once that read is done), so a sweeper's move is either seen by that read (and the sync
 * writes its presence itself, service/presence.ts, with last_sync_ts, under the same row lock:
 * the same two cases) or undone by the claim. A user who set themselves offline in those few
 * milliseconds is set back too, as if their sync had started just after.
 */
export function createSyncTracker({ sql, liveness, timeouts, announce, onError }: SyncTrackerDeps) {
  const leaseMs = syncLeaseMs(timeouts);
  const lagMs = recordingLagMs(timeouts);
  const intervalMs = timeouts.syncHeartbeatIntervalMs;
  // A lease with less than this left is renewed: it must outlast the next heartbeat even if late.
  const renewWithinMs = 2 * intervalMs;
  // How long a sync or activity PostgreSQL holds keeps the user from timing out.
  const seenCoversMs = timeouts.syncOnlineTimeoutMs + lagMs;
  const seen = new Map<string, Seen>();
  let flushing: Promise<void> | undefined;
  let again = false;
  let soon = false;
  let timer: NodeJS.Timeout | undefined;

  function of(userId: string): Seen {
    let s = seen.get(userId);
    if (!s) seen.set(userId, (s = { inFlight: 0, presence: 'online', leaseUntil: 0, coveredUntil: 0 }));
    return s;
  }

  /** Takes what is due out of `seen`: the leases to renew and the records for PostgreSQL. */
  function take(now: number): { leases: SyncLease[]; records: SyncRecord[] } {
    const leases: SyncLease[] = [];
    const records: SyncRecord[] = [];
    for (const [userId, s] of seen) {
      const renew = s.inFlight > 0 && s.leaseUntil < now + renewWithinMs;
      // Not sure this lease lands before the coverage ends (see above): claim the user too.
      const claim = s.inFlight > 0 && (s.claim === true || (renew && s.coveredUntil < now + intervalMs));
      // While a sync is in flight its lease speaks for it; the end of the last one is what counts after.
      const ended = s.inFlight === 0 ? (s.syncEndedTs ?? null) : null;
      const active = s.activeTs ?? null;
      if (renew) {
        leases.push({ userId, until: now + leaseMs });
        s.leaseUntil = now + leaseMs;
      }
      if (claim || ended !== null || active !== null)
        records.push({ userId, lastSyncTs: claim ? now : ended, lastActiveTs: active, resume: claim ? s.presence : null });
      delete s.claim;
      delete s.syncEndedTs;
      delete s.activeTs;
      if (s.inFlight === 0) seen.delete(userId);
    }
    return { leases, records };
  }

  /** Leases written: they cover their users. Not written: renewed by the next heartbeat. */
  async function renewLeases(leases: readonly SyncLease[]): Promise<void> {
    if (leases.length === 0) return;
    try {
      await liveness.renew(leases);
    } catch (err) {
      for (const l of leases) {
        const s = seen.get(l.userId);
        if (s?.leaseUntil === l.until) s.leaseUntil = 0;
      }
      onError(err);
      return;
    }
    for (const l of leases) {
      const s = seen.get(l.userId);
      if (s) s.coveredUntil = Math.max(s.coveredUntil, l.until);
    }
  }

  /** Records written: they cover their users too. Not written: their news is kept for the next heartbeat. */
  async function record(records: readonly SyncRecord[]): Promise<void> {
    if (records.length === 0) return;
    let resumed: PresenceChange[];
    try {
      resumed = await recordSyncs(sql, records);
    } catch (err) {
      for (const r of records) {
        const s = of(r.userId);
        if (r.resume !== null) s.claim = true;
        else if (r.lastSyncTs !== null) s.syncEndedTs = Math.max(s.syncEndedTs ?? 0, r.lastSyncTs);
        if (r.lastActiveTs !== null) s.activeTs = Math.max(s.activeTs ?? 0, r.lastActiveTs);
      }
      onError(err);
      return;
    }
    for (const r of records) {
      const s = seen.get(r.userId);
      const last = Math.max(r.lastSyncTs ?? 0, r.lastActiveTs ?? 0);
      if (s && last > 0) s.coveredUntil = Math.max(s.coveredUntil, last + seenCoversMs);
    }
    if (resumed.length > 0) await announce(resumed).catch(onError);
  }

  async function heartbeat(): Promise<void> {
    const { leases, records } = take(Date.now());
    await Promise.all([renewLeases(leases), record(records)]);
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

  return {
    /**
     * A /sync of the user that affects presence begins, once it has read (or written) the user's
     * presence; call the returned function when it ends. `presence`: its set_presence. `active`:
     * it is activity (set_presence=online). `lastSeen`: the latest of last_sync_ts and
     * last_active_ts PostgreSQL holds for the user (as just read, or just written), 0 if none.
     */
    started(userId: string, opts: { presence: SyncPresence; active: boolean; lastSeen: number }): () => void {
      const now = Date.now();
      const s = of(userId);
      s.inFlight++;
      s.presence = opts.presence;
      if (opts.active) s.activeTs = now;
      if (opts.lastSeen > 0) s.coveredUntil = Math.max(s.coveredUntil, opts.lastSeen + seenCoversMs);
      if (s.leaseUntil < now + renewWithinMs && s.coveredUntil < now + renewWithinMs) flushSoon();
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

    start(): void {
      timer ??= setInterval(() => void flush(), intervalMs);
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
