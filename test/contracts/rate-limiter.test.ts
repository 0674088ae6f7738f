import { randomUUID } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryRateLimiter } from '../../server/http/rate-limiter.ts';
import { createRedisRateLimiter } from '../../server/http/redis-rate-limiter.ts';
import { rateLimiterContract } from './rate-limiter.contract.ts';

rateLimiterContract('in-memory', async () => createMemoryRateLimiter());

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  console.log('[legs] redis: not configured, the Redis rate limiter contract did not run (set REDIS_URL=redis://127.0.0.1:6379)');
} else {
  // One prefix per run, so parallel runs against one Redis never share buckets; deleted at the end.
  const prefix = `cc:test:rl:${randomUUID()}:`;
  const clients: RedisClientType[] = [];
  const connect = async (): Promise<RedisClientType> => {
    const client: RedisClientType = createClient({ url: redisUrl });
    client.on('error', () => {}); // a failed command rejects its own promise; do not crash on reconnect noise
    await client.connect();
    clients.push(client);
    return client;
  };
  let client: RedisClientType;
  beforeAll(async () => {
    client = await connect();
  });
  afterAll(async () => {
    if (client) {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch);
      if (keys.length > 0) await client.del(keys);
    }
    for (const c of clients) await c.quit();
  });

  rateLimiterContract('redis', async () => createRedisRateLimiter(client, prefix));

  describe('Redis rate limiter across processes', () => {
    it('two connections (two homeserver processes) share one budget', async () => {
      const other = await connect();
      const a = createRedisRateLimiter(client, prefix);
      const b = createRedisRateLimiter(other, prefix);
      const rule = { per_second: 0.001, burst_count: 6 };
      const key = `shared:${randomUUID()}`;
      const now = 1_700_000_000_000;
      const decisions = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).take(key, rule, now)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(6);
    });

    it('keeps its buckets under the prefix it was given, with an expiry', async () => {
      const limiter = createRedisRateLimiter(client, prefix);
      const key = `ttl:${randomUUID()}`;
      await limiter.take(key, { per_second: 1, burst_count: 5 }, Date.now());
      expect(await client.exists(prefix + key)).toBe(1);
      const ttl = await client.pTTL(prefix + key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(6000); // time to refill from empty (5 s) plus a second
    });
  });
}
