import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/accounts.ts';
import { ApiClient, registerUser, type TestUser } from '../support/client.ts';
import { startTestHomeserver, type TestHomeserver } from '../support/homeserver.ts';
import { createRoom, CS, enc, joinRoom, ok, sync, syncOk } from '../support/rooms.ts';
import { createClient, type RedisClientType } from 'redis';
import { syncLeasesKey } from '../../server/presence/liveness/redis.ts';
import { disconnectRedis } from '../../server/redis/disconnect.ts';

/**
 * Two processes of one deployment on one PostgreSQL, each sweeping for timed-out users: a user
 * whose long-poll is on process A is syncing, and process B, which has never seen that request,
 * must not set them offline. Once the long-poll ends, B does. Like every multi-process suite it
 * runs on PostgreSQL with Redis, as such a deployment would: the lease that tells B is in Redis
 * (the PostgreSQL engine's leases across two pools are in the liveness contract tests).
 */

const TIMERS = {
  idle_timeout_ms: 60_000,
  sync_online_timeout_ms: 800,
  last_active_granularity_ms: 30_000,
  sweep_interval_ms: 100,
  sync_heartbeat_interval_ms: 100,
};

describe('presence timeouts across processes', () => {
  let a: TestHomeserver;
  let b: TestHomeserver;
  let syncer: TestUser;
  let mate: TestUser;

  beforeAll(async () => {
    const overrides = { presence: TIMERS, redis: { url: process.env.REDIS_URL ?? null } };
    a = await startTestHomeserver(overrides);
    b = await startTestHomeserver(overrides, { sameDeploymentAs: a });
    syncer = await registerUser(a.url, 'pt2_syncer');
    mate = await registerUser(a.url, 'pt2_mate');
    const roomId = await createRoom(mate, { preset: 'public_chat' });
    await joinRoom(syncer, roomId);
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  /** The syncer's presence as the mate reads it from process B. */
  const seenOnB = async () =>
    ok(await new ApiClient(b.url, mate.accessToken).get(`${CS}/presence/${enc(syncer.userId)}/status`)).presence as string;

  /** Where the syncer's lease is: its end in Redis (when the deployment has it) and in PostgreSQL. */
  async function leases(): Promise<{ redis: number | null; postgres: number | null }> {
    const [row] = await a.hs.db.sql<{ syncing_until: number | null }[]>`
      select syncing_until from presence where user_id = ${syncer.userId}`;
    const url = process.env.REDIS_URL;
    if (!url) return { redis: null, postgres: row?.syncing_until ?? null };
    const [deployment] = await a.hs.db.sql<{ id: string }[]>`select id from deployment`;
    const client: RedisClientType = createClient({ url });
    client.on('error', () => {});
    await client.connect();
    try {
      return {
        redis: await client.zScore(syncLeasesKey(`commcomms:${deployment!.id}:`), syncer.userId),
        postgres: row?.syncing_until ?? null,
      };
    } finally {
      await disconnectRedis(client);
    }
  }

  it('a long-poll on A keeps the user online on B; B sets them offline once it ends', async () => {
    const first = await syncOk(syncer);
    let polling = true;
    const poll = sync(syncer, { since: first.next_batch, timeout: 4_500, filter: { presence: { types: [] } } }).finally(
      () => (polling = false),
    );

    // Many sweeps of both processes, well past the sync timeout.
    await sleep(3 * TIMERS.sync_online_timeout_ms);
    expect(polling).toBe(true);
    expect(await seenOnB()).toBe('online');
    const lease = await leases();
    if (process.env.REDIS_URL) {
      expect(lease.redis).toBeGreaterThan(Date.now());
      expect(lease.postgres).toBeNull();
    } else {
      expect(lease.postgres).toBeGreaterThan(Date.now());
    }

    ok(await poll);
    const deadline = Date.now() + 15_000;
    while ((await seenOnB()) !== 'offline') {
      if (Date.now() > deadline) throw new Error('the user never went offline after their long-poll ended');
      await sleep(100);
    }
  });
});
