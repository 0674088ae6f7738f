/**
 * Wakes long-polling /sync requests. Every committed change announces where it
 * moved the streams and whom it concerns (a room's members, or named users); a
 * waiter sleeps until something concerning it arrives or its timeout passes.
 *
 * Two counters: `pos`, the persisted global stream (events, receipts, account
 * data, presence), and `typing`, the ephemeral typing serial.
 */
export interface StreamPoint {
  pos: number;
  typing: number;
}

export interface Change {
  pos?: number;
  typing?: number;
  roomId?: string;
  userIds?: readonly string[];
}

export interface Waiter {
  userId: string;
  rooms: ReadonlySet<string>;
}

export interface Notifier {
  /** Newest point this process knows to be committed. */
  current(): StreamPoint;
  /** A change committed by this process: wake local waiters and tell the other processes. */
  notify(change: Change): void;
  /** A change committed by another process: wake local waiters only. */
  deliver(change: Change): void;
  /** Resolves once a change concerning the waiter moves past `since`, or at timeout/abort. */
  wait(waiter: Waiter, since: StreamPoint, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Number of waiting requests (for metrics). */
  waiting(): number;
}

interface Pending {
  waiter: Waiter;
  since: StreamPoint;
  done: () => void;
}

export interface NotifierOptions {
  /** Carries local changes to other processes (Redis pub/sub when configured). */
  publish?: (change: Change) => void;
}

/** How many delivered changes are remembered for waiters that register late. */
const RECENT_CHANGES = 1024;

export function createNotifier(start: StreamPoint, opts: NotifierOptions = {}): Notifier {
  const current: StreamPoint = { ...start };
  const pending = new Set<Pending>();
  // A /sync takes its `since` point, computes (finding nothing), then waits: a change
  // delivered in between must still wake it. Recent changes are kept for that check;
  // `forgotten` is the newest point among those dropped from the window.
  const recent: Change[] = [];
  const forgotten: StreamPoint = { ...start };

  const movedPast = (c: Change | StreamPoint, since: StreamPoint) => (c.pos ?? 0) > since.pos || (c.typing ?? 0) > since.typing;

  function missed(waiter: Waiter, since: StreamPoint): boolean {
    if (movedPast(forgotten, since)) return true;
    return recent.some((c) => movedPast(c, since) && concerns(waiter, c));
  }

  function concerns(w: Waiter, c: Change): boolean {
    if (c.userIds?.includes(w.userId)) return true;
    return c.roomId !== undefined && w.rooms.has(c.roomId);
  }

  function deliver(change: Change): void {
    if (change.pos !== undefined && change.pos > current.pos) current.pos = change.pos;
    if (change.typing !== undefined && change.typing > current.typing) current.typing = change.typing;
    recent.push(change);
    if (recent.length > RECENT_CHANGES) {
      const old = recent.shift()!;
      if (old.pos !== undefined && old.pos > forgotten.pos) forgotten.pos = old.pos;
      if (old.typing !== undefined && old.typing > forgotten.typing) forgotten.typing = old.typing;
    }
    for (const p of pending) {
      const moved = (change.pos ?? 0) > p.since.pos || (change.typing ?? 0) > p.since.typing;
      if (moved && concerns(p.waiter, change)) p.done();
    }
  }

  return {
    current: () => ({ ...current }),
    waiting: () => pending.size,
    deliver,
    notify(change) {
      deliver(change);
      opts.publish?.(change);
    },
    wait(waiter, since, timeoutMs, signal) {
      if (missed(waiter, since)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const entry: Pending = {
          waiter,
          since,
          done: () => {
            pending.delete(entry);
            clearTimeout(timer);
            signal?.removeEventListener('abort', entry.done);
            resolve();
          },
        };
        const timer = setTimeout(entry.done, timeoutMs);
        signal?.addEventListener('abort', entry.done, { once: true });
        pending.add(entry);
      });
    },
  };
}
