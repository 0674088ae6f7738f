import type { Notifier } from './notifier.ts';

/**
 * Who is typing where. Ephemeral by nature: no stream position, a serial of its
 * own, and every start, stop or expiry wakes the room's syncs. Two engines: this
 * process's memory (one process), or Redis (several processes: redis-typing.ts).
 * Reads are synchronous (a /sync asks for every joined room), so each engine
 * answers them from this process's view.
 */
export interface Typing {
  /** The newest typing serial this process knows. */
  serial(): number;
  set(roomId: string, userId: string, typing: boolean, timeoutMs: number): Promise<void>;
  /** The room's typing users if they changed after `since`. */
  changedSince(roomId: string, since: number): string[] | undefined;
  current(roomId: string): string[];
  close(): Promise<void>;
}

/** How long a typing notice lasts, whatever the client asks: 1 s to 2 min. */
export function typingLifetimeMs(timeoutMs: number): number {
  return Math.min(Math.max(timeoutMs, 1000), 120_000);
}

export function createTyping(notifier: Notifier, startSerial = 0): Typing {
  let serial = startSerial;
  const rooms = new Map<string, { users: Map<string, NodeJS.Timeout>; serial: number }>();

  function bump(roomId: string): void {
    serial += 1;
    const r = rooms.get(roomId);
    if (r) r.serial = serial;
    notifier.deliver({ typing: serial, roomId });
  }

  function stop(roomId: string, userId: string): void {
    const r = rooms.get(roomId);
    const timer = r?.users.get(userId);
    if (!r || !timer) return;
    clearTimeout(timer);
    r.users.delete(userId);
    bump(roomId);
  }

  return {
    serial: () => serial,
    async set(roomId, userId, typing, timeoutMs) {
      if (!typing) return stop(roomId, userId);
      let r = rooms.get(roomId);
      if (!r) rooms.set(roomId, (r = { users: new Map(), serial }));
      const was = r.users.get(userId);
      if (was) clearTimeout(was);
      const timer = setTimeout(() => stop(roomId, userId), typingLifetimeMs(timeoutMs));
      timer.unref();
      r.users.set(userId, timer);
      // Refreshing an existing typing notice changes nothing a client sees.
      if (!was) bump(roomId);
    },
    changedSince(roomId, since) {
      const r = rooms.get(roomId);
      if (!r || r.serial <= since) return undefined;
      return [...r.users.keys()];
    },
    current(roomId) {
      return [...(rooms.get(roomId)?.users.keys() ?? [])];
    },
    async close() {
      for (const r of rooms.values()) for (const t of r.users.values()) clearTimeout(t);
      rooms.clear();
    },
  };
}
