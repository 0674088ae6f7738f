import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import postgres from 'postgres';
import { createClient, type RedisClientType } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Sql } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';
import { createPostgresSyncLiveness } from '../../server/presence/liveness/postgres.ts';
import { createRedisSyncLiveness, syncLeasesKey } from '../../server/presence/liveness/redis.ts';
import { disconnectRedis } from '../../server/redis/disconnect.ts';
import { openScratchPglite } from '../support/scratch-pglite.ts';
import { syncLivenessContract } from './presence-liveness.contract.ts';

const log = pino({ level: 'silent' });
const newUsers = (n: number) => Array.from({ length: n }, () => `@liveness-${randomUUID()}:x`);

/** Users with a presence row, where the PostgreSQL engine keeps their lease. */
async function usersWithPresence(sql: Sql, n: number): Promise<string[]> {
  const ids = newUsers(n);
  await sql`insert into presence (user_id, presence, stream_pos)
    select u, 'online', take_stream_position() from unnest(${ids}::text[]) u`;
  return ids;
}

// The embedded engine: one process's database, so both stores share its connection.
syncLivenessContract('postgresql (embedded PGlite)', async () => {
  const scratch = await openScratchPglite('presence-liveness');
  await migrate(scratch.db.sql, readMigrations(MIGRATIONS_DIR), log);
  return {
    stores: [createPostgresSyncLiveness(scratch.db.sql), createPostgresSyncLiveness(scratch.db.sql)],
    users: (n) => usersWithPresence(scratch.db.sql, n),
    close: () => scratch.close(),
  };
});

const pgUrl = process.env.COMMCOMMS_TEST_DATABASE_URL;
if (!pgUrl) {
  console.log('[legs] postgres: not configured, the PostgreSQL liveness contract ran on PGlite only (set COMMCOMMS_TEST_DATABASE_URL)');
} else {
  // Two pools on one scratch database: two processes of one deployment.
  syncLivenessContract('postgresql (two processes)', async () => {
    const name = `cc_test_liveness_${process.pid}_${randomUUID().slice(0, 8)}`;
    const admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(pgUrl);
    url.pathname = `/${name}`;
    const open = () => openDatabase({ url: url.toString(), maxConnections: 4, dataDir: '', log });
    const a = await open();
    const b = await open();
    await migrate(a.sql, readMigrations(MIGRATIONS_DIR), log);
    return {
      stores: [createPostgresSyncLiveness(a.sql), createPostgresSyncLiveness(b.sql)],
      users: (n) => usersWithPresence(a.sql, n),
      async close() {
        await a.close();
        await b.close();
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end();
      },
    };
  });
}

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  console.log('[legs] redis: not configured, the Redis liveness contract did not run (set REDIS_URL=redis://127.0.0.1:6379)');
} else {
  const connect = async (): Promise<RedisClientType> => {
    const c: RedisClientType = createClient({ url: redisUrl });
    c.on('error', () => {}); // a failed command rejects its own promise
    await c.connect();
    return c;
  };
  /** A deployment of its own per run, as the bus names it; its key is deleted at the end. */
  const deployment = () => `commcomms:test-liveness-${randomUUID()}:`;

  syncLivenessContract('redis (two processes)', async () => {
    const namespace = deployment();
    const a = await connect();
    const b = await connect();
    return {
      stores: [createRedisSyncLiveness(a, namespace), createRedisSyncLiveness(b, namespace)],
      users: async (n) => newUsers(n),
      async close() {
        await a.del(syncLeasesKey(namespace));
        await disconnectRedis(a);
        await disconnectRedis(b);
      },
    };
  });

  describe('Redis sync liveness', () => {
    let client: RedisClientType;
    const namespaces: string[] = [];
    beforeAll(async () => {
      client = await connect();
    });
    afterAll(async () => {
      if (namespaces.length > 0) await client.del(namespaces.map(syncLeasesKey));
      await disconnectRedis(client);
    });
    const store = () => {
      const ns = deployment();
      namespaces.push(ns);
      return { ns, liveness: createRedisSyncLiveness(client, ns) };
    };

    it('keeps a deployment’s leases in one key under its namespace, expiring no earlier than its latest lease', async () => {
      const { ns, liveness } = store();
      const t = Date.now();
      await liveness.renew([{ userId: '@a:x', until: t + 30_000 }]);
      const key = syncLeasesKey(ns);
      expect(key.startsWith(ns)).toBe(true);
      expect(await client.zScore(key, '@a:x')).toBe(t + 30_000);
      const firstExpiry = await client.pExpireTime(key);
      expect(firstExpiry).toBeGreaterThanOrEqual(t + 30_000);
      // A later lease pushes the expiry on; an earlier one never pulls it back.
      await liveness.renew([{ userId: '@b:x', until: t + 90_000 }]);
      const later = await client.pExpireTime(key);
      expect(later).toBeGreaterThanOrEqual(t + 90_000);
      await liveness.renew([{ userId: '@c:x', until: t + 1_000 }]);
      expect(await client.pExpireTime(key)).toBe(later);
    });

    it('prunes leases that ended long ago as it renews', async () => {
      const { ns, liveness } = store();
      const t = Date.now();
      await client.zAdd(syncLeasesKey(ns), { value: '@gone:x', score: t - 10 * 60_000 });
      await liveness.renew([{ userId: '@here:x', until: t + 30_000 }]);
      expect(await client.zRange(syncLeasesKey(ns), 0, -1)).toEqual(['@here:x']);
    });

    it('deployments sharing a Redis never see each other’s leases', async () => {
      const one = store().liveness;
      const two = store().liveness;
      await one.renew([{ userId: '@a:x', until: Date.now() + 30_000 }]);
      expect(await two.live(['@a:x'], Date.now())).toEqual(new Set());
    });
  });
}
