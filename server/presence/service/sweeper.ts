import type { Sql } from '../../db/database.ts';
import type { SyncLiveness } from '../liveness/sync-liveness.ts';
import {
  offlineCandidates,
  timeOutCurrentlyActive,
  timeOutToOffline,
  timeOutToUnavailable,
  type PresenceChange,
} from '../storage/timeouts.ts';
import { recordingLagMs, type PresenceTimeouts } from './timeouts.ts';

export interface SweeperDeps {
  sql: Sql;
  /** Who has a /sync in flight on some process (liveness/). */
  liveness: SyncLiveness;
  timeouts: PresenceTimeouts;
  /** Wakes the /syncs of the users whose presence changed and of those sharing a room with them. */
  announce: (changes: readonly PresenceChange[]) => Promise<void>;
  /** Records this process's own syncs and activity first, so its sweep judges on them. */
  flushOwn: () => Promise<void>;
  onError: (err: unknown) => void;
}

/** Users moved (or looked at) per statement: a backlog (a restart after long downtime) is worked off in several. */
const BATCH = 500;

/**
 * Times users out: every process runs one, every few seconds. Nothing is shared between them
 * but the database and the sync liveness: each move is a conditional UPDATE that re-checks its
 * rule on the locked row (storage/timeouts.ts), so sweepers racing each other, or a heartbeat,
 * move each user once and only when the rule still holds. Offline first: a user both idle and
 * gone goes straight offline.
 */
export function createPresenceSweeper({ sql, liveness, timeouts, announce, flushOwn, onError }: SweeperDeps) {
  const lag = recordingLagMs(timeouts);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let started = false;
  // Set by stop(): a sweep under way finishes the page it is on and looks no further.
  let stopping = false;

  /**
   * Offline: no sync or activity in PostgreSQL for the sync timeout (plus the recording lag), and
   * no live lease. Candidates come from PostgreSQL page by page in user order (users with a sync
   * in flight stay candidates while their lease keeps them, so a page may move nobody and the
   * next must still be read); the liveness says which are syncing somewhere; the others are
   * moved by an UPDATE that re-checks the PostgreSQL part on the locked row. A lease renewed
   * between the look-up and the UPDATE is not seen: sync-tracker.ts says why that cannot leave a
   * user offline while a sync is in flight.
   */
  async function timeOutGone(now: number): Promise<void> {
    const syncedBefore = now - timeouts.syncOnlineTimeoutMs - lag;
    let after = '';
    while (!stopping) {
      const candidates = await offlineCandidates(sql, syncedBefore, after, BATCH);
      if (candidates.length === 0) return;
      const live = await liveness.live(candidates, now);
      const gone = await timeOutToOffline(
        sql,
        candidates.filter((u) => !live.has(u)),
        syncedBefore,
      );
      if (gone.length > 0) await announce(gone);
      if (candidates.length < BATCH) return;
      after = candidates[candidates.length - 1]!;
    }
  }

  /** One pass of the idle rules; true when a rule met its batch limit and there is more to do. */
  async function timeOutIdle(now: number): Promise<boolean> {
    const idle = await timeOutToUnavailable(sql, now - timeouts.idleTimeoutMs - lag, BATCH);
    const inactive = await timeOutCurrentlyActive(sql, now - timeouts.lastActiveGranularityMs - lag, BATCH);
    const changes = [...idle, ...inactive];
    if (changes.length > 0) await announce(changes);
    return idle.length === BATCH || inactive.length === BATCH;
  }

  async function sweep(): Promise<void> {
    await flushOwn();
    // The liveness unreachable (Redis down) keeps anyone from going offline, not idle.
    await timeOutGone(Date.now()).catch(onError);
    while (!stopping && (await timeOutIdle(Date.now())));
  }

  function schedule(): void {
    if (!started) return;
    timer = setTimeout(() => {
      running = sweep()
        .catch(onError)
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, timeouts.sweepIntervalMs);
    timer.unref();
  }

  return {
    sweep,
    start(): void {
      if (started) return;
      started = true;
      stopping = false;
      schedule();
    },
    /** No new sweep starts; one under way is finished (it holds rows and stream positions until it commits). */
    async stop(): Promise<void> {
      started = false;
      stopping = true;
      clearTimeout(timer);
      await running;
    },
  };
}
