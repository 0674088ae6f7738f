import type { Sql } from '../../db/database.ts';
import { timeOutCurrentlyActive, timeOutToOffline, timeOutToUnavailable, type PresenceChange } from '../storage/timeouts.ts';
import { recordingLagMs, type PresenceTimeouts } from './timeouts.ts';

export interface SweeperDeps {
  sql: Sql;
  timeouts: PresenceTimeouts;
  /** Wakes the /syncs of the users whose presence changed and of those sharing a room with them. */
  announce: (changes: readonly PresenceChange[]) => Promise<void>;
  /** Records this process's own syncs and activity first, so its sweep judges on them. */
  flushOwn: () => Promise<void>;
  onError: (err: unknown) => void;
}

/** Users moved per statement: a backlog (a restart after long downtime) is worked off in several. */
const BATCH = 500;

/**
 * Times users out: every process runs one, every few seconds. Nothing is shared between them
 * but the database: each move is a conditional UPDATE that re-checks its rule on the locked row
 * (storage/timeouts.ts), so sweepers racing each other, or a heartbeat, move each user once and
 * only when the rule still holds. Offline first: a user both idle and gone goes straight offline.
 */
export function createPresenceSweeper({ sql, timeouts, announce, flushOwn, onError }: SweeperDeps) {
  const lag = recordingLagMs(timeouts);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  /** One pass of the rules; true when a rule met its batch limit and there is more to do. */
  async function pass(now: number): Promise<boolean> {
    const offline = await timeOutToOffline(sql, now, now - timeouts.syncOnlineTimeoutMs - lag, BATCH);
    const idle = await timeOutToUnavailable(sql, now - timeouts.idleTimeoutMs - lag, BATCH);
    const inactive = await timeOutCurrentlyActive(sql, now - timeouts.lastActiveGranularityMs - lag, BATCH);
    const changes = [...offline, ...idle, ...inactive];
    if (changes.length > 0) await announce(changes);
    return offline.length === BATCH || idle.length === BATCH || inactive.length === BATCH;
  }

  async function sweep(): Promise<void> {
    await flushOwn();
    while (!stopped && (await pass(Date.now())));
  }

  function schedule(): void {
    if (stopped) return;
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
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    /** No new sweep starts; one under way is finished (it holds rows and stream positions until it commits). */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
