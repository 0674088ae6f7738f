import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { createClient, type RedisClientType } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Sql } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';
import { createPostgresSyncLiveness } from '../../server/presence/liveness/postgres.ts';
import { createRedisSyncLiveness, syncLeasesKey } from '../../server/presence/liveness/redis.ts';
import type { SyncLiveness } from '../../server/presence/liveness/sync-liveness.ts';
import { createPresenceSweeper } from '../../server/presence/service/sweeper.ts';
import { createSyncTracker } from '../../server/presence/service/sync-tracker.ts';
import type { PresenceTimeouts } from '../../server/presence/service/timeouts.ts';
import { timeOutToOffline, type PresenceChange } from '../../server/presence/storage/timeouts.ts';
import { disconnectRedis } from '../../server/redis/disconnect.ts';
import { sleep } from '../support/accounts.ts';
import { scratchDatabase } from '../support/homeserver.ts';
import { openScratchPglite } from '../support/scratch-pglite.ts';

/**
 * The edge of sync liveness (server/presence/service/sync-tracker.ts): a sweeper looks up who is
 * live, then moves the others in PostgreSQL, and a /sync may start in between. Driven here step
 * by step, the heartbeat and the sweeper called by hand, with each liveness engine this run has:
 * PostgreSQL always, Redis with REDIS_URL.
 */

const TIMEOUTS: PresenceTimeouts = {
  idleTimeoutMs: 60_000,
  syncOnlineTimeoutMs: 400,
  lastActiveGranularityMs: 30_000,
  sweepIntervalMs: 50,
  syncHeartbeatIntervalMs: 50,
};
/** What the sweeper allows: the sync timeout plus one heartbeat of recording lag. */
const SYNCED_WITHIN_MS = TIMEOUTS.syncOnlineTimeoutMs + TIMEOUTS.syncHeartbeatIntervalMs;

const log = pino({ level: 'silent' });
let sql: Sql;
let closeDb: () => Promise<void>;
let redis: RedisClientType | undefined;
const namespace = `commcomms:test-claims-${randomUUID()}:`;

beforeAll(async () => {
  const scratch = await scratchDatabase();
  if (scratch) {
    const db = await openDatabase({ url: scratch.url, maxConnections: 4, dataDir: '', log });
    sql = db.sql;
    closeDb = async () => {
      await db.close();
      await scratch.drop();
    };
  } else {
    const p = await openScratchPglite('sync-claims');
    sql = p.db.sql;
    closeDb = () => p.close();
  }
  await migrate(sql, readMigrations(MIGRATIONS_DIR), log);
  if (process.env.REDIS_URL) {
    redis = createClient({ url: process.env.REDIS_URL });
    redis.on('error', () => {});
    await redis.connect();
  }
}, 120_000);

afterAll(async () => {
  if (redis) {
    await redis.del(syncLeasesKey(namespace));
    await disconnectRedis(redis);
  }
  await closeDb?.();
});

interface Row {
  presence: string;
  currently_active: boolean;
  stream_pos: number;
  last_sync_ts: number | null;
}
const rowOf = async (userId: string): Promise<Row> =>
  (await sql<Row[]>`select presence, currently_active, stream_pos, last_sync_ts from presence where user_id = ${userId}`)[0]!;

/** A user as a /sync's read finds them: online (or unavailable), last seen `lastSeen`. */
async function awakeUser(lastSeen: number, presence: 'online' | 'unavailable' = 'online'): Promise<string> {
  const userId = `@claims-${randomUUID()}:x`;
  await sql`insert into presence (user_id, presence, currently_active, last_active_ts, last_sync_ts, stream_pos)
    values (${userId}, ${presence}, ${presence === 'online'}, ${lastSeen}, ${lastSeen}, take_stream_position())`;
  return userId;
}

const engines: Array<[string, () => SyncLiveness]> = [
  ['postgresql', () => createPostgresSyncLiveness(sql)],
  ...(process.env.REDIS_URL ? [['redis', () => createRedisSyncLiveness(redis!, namespace)] as [string, () => SyncLiveness]] : []),
];

describe.each(engines)('a /sync starting as its user times out (%s liveness)', (_name, makeLiveness) => {
  function setup(liveness: SyncLiveness = makeLiveness()) {
    const announced: PresenceChange[] = [];
    const errors: unknown[] = [];
    const common = { sql, liveness, timeouts: TIMEOUTS, onError: (err: unknown) => errors.push(err) };
    const announce = async (changes: readonly PresenceChange[]) => void announced.push(...changes);
    const tracker = createSyncTracker({ ...common, announce });
    const sweeper = createPresenceSweeper({ ...common, announce, flushOwn: tracker.flush });
    return { liveness, tracker, sweeper, announced, errors };
  }

  it('the sweeper moves first: the heartbeat finds the user offline and sets them back online', async () => {
    const { tracker, announced, errors, liveness } = setup();
    const stale = Date.now() - 10_000;
    const userId = await awakeUser(stale);
    // The sweeper found nobody live, then the sync read the user online (so wrote nothing), then
    // the sweeper's UPDATE committed: the tracker hears of the sync with what that read found.
    const [swept] = await timeOutToOffline(sql, [userId], Date.now() - SYNCED_WITHIN_MS);
    expect(swept?.user_id).toBe(userId);
    tracker.started(userId, { presence: 'online', active: true, lastSeen: stale });
    await tracker.flush();

    const row = await rowOf(userId);
    expect(row).toMatchObject({ presence: 'online', currently_active: true });
    expect(row.stream_pos).toBeGreaterThan(swept!.stream_pos);
    expect(announced).toEqual([{ user_id: userId, stream_pos: row.stream_pos }]);
    expect(await liveness.live([userId], Date.now())).toEqual(new Set([userId]));
    expect(errors).toEqual([]);
    await tracker.stop();
  });

  it('the heartbeat moves first: a sweeper that found no lease re-checks the locked row and leaves the user alone', async () => {
    const { tracker, announced } = setup();
    const stale = Date.now() - 10_000;
    // set_presence=unavailable: no activity recorded with it, only the claim.
    const userId = await awakeUser(stale, 'unavailable');
    const before = await rowOf(userId);
    tracker.started(userId, { presence: 'unavailable', active: false, lastSeen: stale });
    await tracker.flush();
    // A sweeper whose liveness look-up came before the lease landed.
    expect(await timeOutToOffline(sql, [userId], Date.now() - SYNCED_WITHIN_MS)).toEqual([]);
    expect(await rowOf(userId)).toMatchObject({ presence: 'unavailable', stream_pos: before.stream_pos });
    expect(announced).toEqual([]);
    await tracker.stop();
  });

  it('a claim sets back only a user found offline, not one who chose another state meanwhile', async () => {
    const { tracker, announced } = setup();
    const stale = Date.now() - 10_000;
    const userId = await awakeUser(stale);
    tracker.started(userId, { presence: 'online', active: true, lastSeen: stale });
    await sql`update presence set presence = 'unavailable', currently_active = false, stream_pos = take_stream_position()
      where user_id = ${userId}`;
    await tracker.flush();
    expect((await rowOf(userId)).presence).toBe('unavailable');
    expect(announced).toEqual([]);
    await tracker.stop();
  });

  it('the sweeper times out users whose last sync is old only when no lease keeps them', async () => {
    const { sweeper, liveness } = setup();
    const stale = Date.now() - 10_000;
    const syncing = await awakeUser(stale);
    const gone = await awakeUser(stale);
    await liveness.renew([{ userId: syncing, until: Date.now() + 60_000 }]);
    await sweeper.sweep();
    expect((await rowOf(syncing)).presence).toBe('online');
    expect((await rowOf(gone)).presence).toBe('offline');
  });

  it('a heartbeat late past the coverage: a sweeper times the user out, the heartbeat sets them back', async () => {
    const { tracker, announced, liveness } = setup();
    const userId = await awakeUser(Date.now(), 'unavailable');
    // Covered by its fresh last sync: no heartbeat is due yet, and then none comes in time.
    tracker.started(userId, { presence: 'unavailable', active: false, lastSeen: Date.now() });
    await sleep(SYNCED_WITHIN_MS + 100);
    const [swept] = await timeOutToOffline(sql, [userId], Date.now() - SYNCED_WITHIN_MS);
    expect(swept?.user_id).toBe(userId);

    await tracker.flush();
    const row = await rowOf(userId);
    expect(row).toMatchObject({ presence: 'unavailable', currently_active: false });
    expect(announced).toEqual([{ user_id: userId, stream_pos: row.stream_pos }]);
    expect(await liveness.live([userId], Date.now())).toEqual(new Set([userId]));
    await tracker.stop();
  });

  it('while leases cannot be written, the claims recorded in PostgreSQL keep a syncing user from timing out', async () => {
    const inner = makeLiveness();
    let failing = true;
    const liveness: SyncLiveness = {
      renew: (leases) => (failing ? Promise.reject(new Error('liveness unreachable')) : inner.renew(leases)),
      live: (userIds, now) => inner.live(userIds, now),
    };
    const { tracker, errors } = setup(liveness);
    const userId = await awakeUser(Date.now());
    tracker.started(userId, { presence: 'online', active: false, lastSeen: Date.now() });
    const until = Date.now() + 2 * SYNCED_WITHIN_MS;
    while (Date.now() < until) {
      await tracker.flush();
      expect(await timeOutToOffline(sql, [userId], Date.now() - SYNCED_WITHIN_MS)).toEqual([]);
      await sleep(TIMEOUTS.syncHeartbeatIntervalMs);
    }
    expect(errors.length).toBeGreaterThan(0);
    expect((await rowOf(userId)).presence).toBe('online');
    failing = false;
    await tracker.flush();
    expect(await inner.live([userId], Date.now())).toEqual(new Set([userId]));
    await tracker.stop();
  });
});
