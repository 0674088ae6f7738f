import type { RedisClientType } from 'redis';
import type { Bus } from '../redis/bus.ts';
import type { Notifier } from './notifier.ts';
import { typingLifetimeMs, type Typing } from './typing.ts';

const TOPIC = 'typing';
const keys = (namespace: string) => ({
  serial: `${namespace}typing:serial`,
  rooms: `${namespace}typing:rooms`,
  room: (roomId: string) => `${namespace}typing:room:${roomId}`,
});

// One atomic step: start, stop or expire typers in a room (a sorted set of user ->
// expiry ms) and, only if that changed who is typing, take the next serial and
// return it with the room's typers. ARGV: user ('' to only expire), expiry ms ('' to stop), now ms, room id.
const UPDATE = `
local changed = 0
if ARGV[1] ~= '' then
  if ARGV[2] ~= '' then changed = redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  else changed = redis.call('ZREM', KEYS[1], ARGV[1]) end
end
changed = changed + redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if changed == 0 then return false end
if redis.call('ZCARD', KEYS[1]) > 0 then redis.call('SADD', KEYS[3], ARGV[4]) else redis.call('SREM', KEYS[3], ARGV[4]) end
return {redis.call('INCR', KEYS[2]), redis.call('ZRANGE', KEYS[1], 0, -1)}
`;

/** The shared serial, started at the clock by the first process ever to run. */
export async function startingTypingSerial(client: RedisClientType, bus: Bus): Promise<number> {
  const { serial } = keys(bus.namespace);
  await client.set(serial, String(Date.now()), { NX: true });
  return Number(await client.get(serial));
}

interface RoomTyping {
  roomId: string;
  serial: number;
  users: string[];
}

export interface RedisTypingOptions {
  /** How often expired typers are swept (ms); every process sweeps, Redis makes it happen once. */
  sweepMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * Typing shared by every process: who is typing lives in Redis (expiries
 * included, so a process that dies leaves nobody typing for long), serials come
 * from one Redis counter, and each change is published so other processes wake
 * their syncs. Each process mirrors the rooms for its synchronous reads and
 * reloads the mirror when its subscription reconnects.
 */
export async function createRedisTyping(
  client: RedisClientType,
  bus: Bus,
  notifier: Notifier,
  opts: RedisTypingOptions = {},
): Promise<Typing> {
  const onError = opts.onError ?? (() => {});
  const k = keys(bus.namespace);
  const rooms = new Map<string, { users: string[]; serial: number }>();
  let serial = 0;

  function apply(t: RoomTyping): void {
    const had = rooms.get(t.roomId);
    if (had && had.serial >= t.serial) return;
    if (t.users.length > 0 || had) rooms.set(t.roomId, { users: t.users, serial: t.serial });
    if (t.serial > serial) serial = t.serial;
    notifier.deliver({ typing: t.serial, roomId: t.roomId });
  }

  async function update(roomId: string, userId: string, expiry: number | null): Promise<void> {
    const now = Date.now();
    const out = (await client.eval(UPDATE, {
      keys: [k.room(roomId), k.serial, k.rooms],
      arguments: [userId, expiry === null ? '' : String(expiry), String(now), roomId],
    })) as [number, string[]] | null;
    if (!out) return;
    const change: RoomTyping = { roomId, serial: Number(out[0]), users: out[1] };
    apply(change);
    await bus.publish(TOPIC, change);
  }

  /** Reads every room's typers again: messages may have been lost. */
  async function reload(): Promise<void> {
    const now = Date.now();
    const current = Number(await client.get(k.serial));
    const ids = new Set([...(await client.sMembers(k.rooms)), ...rooms.keys()]);
    for (const roomId of ids) {
      const users = await client.zRangeByScore(k.room(roomId), now, '+inf');
      const had = rooms.get(roomId);
      if (had && had.users.length === users.length && had.users.every((u) => users.includes(u))) continue;
      apply({ roomId, serial: Math.max(current, (had?.serial ?? 0) + 1), users });
    }
    if (current > serial) serial = current;
  }

  async function sweep(): Promise<void> {
    for (const roomId of await client.sMembers(k.rooms)) await update(roomId, '', null);
  }

  await startingTypingSerial(client, bus);
  await bus.subscribe(TOPIC, (m) => apply(m as RoomTyping));
  bus.onReconnect(() => void reload().catch(onError));
  await reload();
  const sweeper = setInterval(() => void sweep().catch(onError), opts.sweepMs ?? 1000);
  sweeper.unref();

  return {
    serial: () => serial,
    async set(roomId, userId, typing, timeoutMs) {
      await update(roomId, userId, typing ? Date.now() + typingLifetimeMs(timeoutMs) : null);
    },
    changedSince(roomId, since) {
      const r = rooms.get(roomId);
      if (!r || r.serial <= since) return undefined;
      return [...r.users];
    },
    current(roomId) {
      return [...(rooms.get(roomId)?.users ?? [])];
    },
    async close() {
      clearInterval(sweeper);
      rooms.clear();
    },
  };
}
