import type { Notifier } from './notifier.ts';

/**
 * Who is typing where. Ephemeral by nature: kept in memory with a serial of
 * its own, and every start, stop or expiry wakes the room's syncs.
 */
export function createTyping(notifier: Notifier, startSerial = 0) {
  let serial = startSerial;
  const rooms = new Map<string, { users: Map<string, NodeJS.Timeout>; serial: number }>();

  function bump(roomId: string): void {
    serial += 1;
    const r = rooms.get(roomId);
    if (r) r.serial = serial;
    notifier.notify({ typing: serial, roomId });
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
    set(roomId: string, userId: string, typing: boolean, timeoutMs: number): void {
      if (!typing) return stop(roomId, userId);
      let r = rooms.get(roomId);
      if (!r) rooms.set(roomId, (r = { users: new Map(), serial }));
      const was = r.users.get(userId);
      if (was) clearTimeout(was);
      const timer = setTimeout(() => stop(roomId, userId), Math.min(Math.max(timeoutMs, 1000), 120_000));
      timer.unref();
      r.users.set(userId, timer);
      // Refreshing an existing typing notice changes nothing a client sees.
      if (!was) bump(roomId);
    },
    /** The room's typing users if they changed after `since`. */
    changedSince(roomId: string, since: number): string[] | undefined {
      const r = rooms.get(roomId);
      if (!r || r.serial <= since) return undefined;
      return [...r.users.keys()];
    },
    current(roomId: string): string[] {
      return [...(rooms.get(roomId)?.users.keys() ?? [])];
    },
    close(): void {
      for (const r of rooms.values()) for (const t of r.users.values()) clearTimeout(t);
      rooms.clear();
    },
  };
}

export type Typing = ReturnType<typeof createTyping>;
