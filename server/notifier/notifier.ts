/**
 * Wakes long-polling /sync requests. Every committed change announces where it
 * moved the streams and whom it concerns (a room's members, or named users); a
 * waiter sleeps until something concerning it arrives or its timeout passes.
 *
 * Two counters: `pos`, the persisted global stream (events, receipts, account
 * data, presence), and `typing`, the ephemeral typing serial.
 *
 * Writers commit in any order (server/db/stream.ts), so a committed change can
 * carry a position above the watermark W while an earlier position is still in
 * flight. The notifier never moves `current().pos` past W: such a change is held
 * and delivered when W passes it, and a /sync reading up to `current()` never
 * skips an event that commits late.
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
  /** Newest point this process knows to be persisted (`pos` never above the watermark). */
  current(): StreamPoint;
  /**
   * Resolves once every change announced here so far is in `current()`, as far as
   * W allows. A change announced after a position nobody announces (an outbox id,
   * a rolled-back one) waits for a read of W, and so does every call when other
   * processes write (`othersWrite`); a /sync that starts after a write returned
   * awaits this first, so it sees that write.
   */
  settled(): Promise<void>;
  /** A change committed by this process: wake local waiters and tell the other processes. */
  notify(change: Change): void;
  /** A change committed by another process: wake local waiters only. */
  deliver(change: Change): void;
  /** Resolves once a change concerning the waiter moves past `since`, or at timeout/abort. */
  wait(waiter: Waiter, since: StreamPoint, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /**
   * The periodic check: read W; a position it passed that no change announced
   * within the grace period (a lost cross-process message) wakes every waiter.
   */
  refresh(): Promise<void>;
  /**
   * Changes may have been missed just now (the cross-process channel reconnected):
   * read W and wake every waiter behind it, and behind any unannounced position.
   */
  catchUp(): Promise<void>;
  /** Number of waiting requests (for metrics). */
  waiting(): number;
  close(): void;
}

interface Pending {
  waiter: Waiter;
  since: StreamPoint;
  done: () => void;
}

export interface NotifierOptions {
  /** Carries local changes to other processes (Redis pub/sub when configured). */
  publish?: (change: Change) => void;
  /**
   * Reads the watermark W from the database. Without it every announced position
   * is taken as persisted (one writer, in order: tests of the wake-up logic only).
   */
  watermark?: () => Promise<number>;
  /**
   * Other processes write to the stream too. Their changes are announced here
   * asynchronously (and not at all while the channel is down), so `settled()`
   * reads W every time: a /sync on this process then sees a write another process
   * returned before it started.
   */
  othersWrite?: boolean;
  /** How often W is read again while a change is held or a position went unannounced (ms). */
  recheckMs?: number;
  /**
   * How long a position W passed, but no change announced, may stay unannounced
   * before every waiter is woken for it (its message was lost, or it rolled back).
   */
  graceMs?: number;
  onError?: (err: unknown) => void;
}

/** How many delivered changes are remembered for waiters that register late. */
const RECENT_CHANGES = 1024;
/** Past this many unannounced positions at once, waiters are woken without waiting. */
const MAX_SUSPECTS = 1024;

export function createNotifier(start: StreamPoint, opts: NotifierOptions = {}): Notifier {
  const recheckMs = opts.recheckMs ?? 50;
  const graceMs = opts.graceMs ?? 1000;
  const current: StreamPoint = { ...start };
  const pending = new Set<Pending>();
  // A /sync takes its `since` point, computes (finding nothing), then waits: a change
  // delivered in between must still wake it. Recent changes are kept for that check;
  // `forgotten` is the newest point among those dropped from the window (or woken wholesale).
  const recent: Change[] = [];
  const forgotten: StreamPoint = { ...start };
  // Changes above W, in no particular order, and the positions among them.
  let held: Change[] = [];
  const heard = new Set<number>();
  // Positions W passed that no change announced (yet): position -> deadline.
  const suspects = new Map<number, number>();
  let reading: Promise<void> | undefined;
  let readAgain = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const movedPast = (c: Change | StreamPoint, since: StreamPoint) => (c.pos ?? 0) > since.pos || (c.typing ?? 0) > since.typing;

  function missed(waiter: Waiter, since: StreamPoint): boolean {
    if (movedPast(forgotten, since)) return true;
    return recent.some((c) => movedPast(c, since) && concerns(waiter, c));
  }

  function concerns(w: Waiter, c: Change): boolean {
    if (c.userIds?.includes(w.userId)) return true;
    return c.roomId !== undefined && w.rooms.has(c.roomId);
  }

  /** Wakes the waiters a persisted change concerns. */
  function release(change: Change): void {
    if (change.typing !== undefined && change.typing > current.typing) current.typing = change.typing;
    recent.push(change);
    if (recent.length > RECENT_CHANGES) {
      const old = recent.shift()!;
      if (old.pos !== undefined && old.pos > forgotten.pos) forgotten.pos = old.pos;
      if (old.typing !== undefined && old.typing > forgotten.typing) forgotten.typing = old.typing;
    }
    for (const p of pending) if (movedPast(change, p.since) && concerns(p.waiter, change)) p.done();
  }

  /** Every position up to `w` is persisted: release what was held below it. */
  function advance(w: number, fromRead: boolean): void {
    if (w <= current.pos) return;
    if (fromRead) {
      const now = Date.now();
      if (w - current.pos > MAX_SUSPECTS) wakeAll(w);
      else for (let p = current.pos + 1; p <= w; p++) if (!heard.has(p)) suspects.set(p, now + graceMs);
    }
    current.pos = w;
    const ready = held.filter((c) => c.pos! <= w).sort((a, b) => a.pos! - b.pos!);
    held = held.filter((c) => c.pos! > w);
    for (const p of heard) if (p <= w) heard.delete(p);
    for (const c of ready) release(c);
  }

  /** Changes up to `pos` may have gone unannounced: wake everyone behind it. */
  function wakeAll(pos: number): void {
    if (pos > forgotten.pos) forgotten.pos = pos;
    for (const p of pending) if (p.since.pos < pos) p.done();
  }

  function schedule(): void {
    if (closed || timer || (held.length === 0 && suspects.size === 0)) return;
    timer = setTimeout(tick, recheckMs);
    timer.unref();
  }

  function tick(): void {
    timer = undefined;
    const now = Date.now();
    let expired = 0;
    for (const [p, deadline] of suspects) if (deadline <= now && p > expired) expired = p;
    if (expired > 0) {
      for (const p of [...suspects.keys()]) if (p <= expired) suspects.delete(p);
      wakeAll(expired);
    }
    if (held.length > 0) void readWatermark();
    schedule();
  }

  /** One read of W at a time; a request during a read runs one more after it. */
  function readWatermark(): Promise<void> {
    if (!opts.watermark || closed) return Promise.resolve();
    if (reading) {
      readAgain = true;
      return reading;
    }
    reading = (async () => {
      try {
        do {
          readAgain = false;
          advance(await opts.watermark!(), true);
        } while (readAgain && !closed);
      } catch (err) {
        opts.onError?.(err);
      } finally {
        reading = undefined;
        schedule();
      }
    })();
    return reading;
  }

  function deliver(change: Change): void {
    const pos = change.pos;
    if (pos === undefined || pos <= current.pos) {
      // Persisted already (or no position at all): an announcement W passed before it came.
      if (pos !== undefined) suspects.delete(pos);
      release(change);
      return;
    }
    if (!opts.watermark || pos === current.pos + 1) {
      // Announced after its commit, right after the watermark: W is at least `pos` now.
      advance(pos, false);
      release(change);
      while (held.some((c) => c.pos === current.pos + 1)) advance(current.pos + 1, false);
      return;
    }
    held.push(change);
    heard.add(pos);
    void readWatermark();
  }

  return {
    current: () => ({ ...current }),
    settled: () => (opts.othersWrite || held.length > 0 ? readWatermark() : Promise.resolve()),
    waiting: () => pending.size,
    deliver,
    refresh: readWatermark,
    notify(change) {
      deliver(change);
      opts.publish?.(change);
    },
    async catchUp() {
      if (!opts.watermark || closed) return;
      try {
        const before = current.pos;
        const w = await opts.watermark();
        advance(w, false);
        let behind = w > before ? w : 0;
        for (const p of suspects.keys()) if (p > behind) behind = p;
        suspects.clear();
        if (behind > 0) wakeAll(behind);
      } catch (err) {
        opts.onError?.(err);
      }
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
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
