import { randomUUID } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import { bridgeNotifierOverRedis, createNotifier } from '../../server/notifier/index.ts';
import { createRedisBus } from '../../server/redis/bus.ts';
import { notifierContract } from './notifier.contract.ts';

notifierContract('in-process', async () => {
  const n = createNotifier({ pos: 10, typing: 10 });
  return { writer: n, reader: n, close: async () => {} };
});

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  console.log('[legs] redis: not configured, the Redis notifier contract did not run (set REDIS_URL=redis://127.0.0.1:6379)');
} else {
  notifierContract('redis (two processes)', async () => {
    const clients: RedisClientType[] = [];
    const connect = async () => {
      const c: RedisClientType = createClient({ url: redisUrl });
      c.on('error', () => {});
      await c.connect();
      clients.push(c);
      return c;
    };
    const start = { pos: 10, typing: 10 };
    const deployment = randomUUID();
    const busA = await createRedisBus(await connect(), deployment);
    const busB = await createRedisBus(await connect(), deployment);
    const a = await bridgeNotifierOverRedis((publish) => createNotifier(start, { publish }), busA);
    const b = await bridgeNotifierOverRedis((publish) => createNotifier(start, { publish }), busB);
    return {
      writer: a.notifier,
      reader: b.notifier,
      close: async () => {
        await a.close();
        await b.close();
        await busA.close();
        await busB.close();
        for (const c of clients) await c.quit();
      },
    };
  });
}
