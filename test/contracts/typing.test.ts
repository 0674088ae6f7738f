import { randomUUID } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import { expect, it } from 'vitest';
import { createRedisBus } from '../../server/redis/bus.ts';
import { disconnectRedis } from '../../server/redis/disconnect.ts';
import { createNotifier } from '../../server/notifier/notifier.ts';
import { createRedisTyping } from '../../server/notifier/redis-typing.ts';
import { createTyping } from '../../server/notifier/typing.ts';
import { startTcpGate } from '../support/tcp-gate.ts';
import { typingContract } from './typing.contract.ts';

typingContract('in-process', async () => {
  const notifier = createNotifier({ pos: 0, typing: 100 });
  const typing = createTyping(notifier, 100);
  const side = { typing, notifier };
  return { writer: side, reader: side, close: () => typing.close() };
});

const redisUrl = process.env.REDIS_URL;

async function redisPair(deployment = randomUUID(), readerUrl = redisUrl) {
  const clients: RedisClientType[] = [];
  const side = async (url = redisUrl) => {
    const c: RedisClientType = createClient({ url });
    c.on('error', () => {});
    await c.connect();
    clients.push(c);
    const bus = await createRedisBus(c, deployment);
    const notifier = createNotifier({ pos: 0, typing: 0 });
    const typing = await createRedisTyping(c, bus, notifier, { sweepMs: 200 });
    return { typing, notifier, bus, client: c };
  };
  const writer = await side();
  const reader = await side(readerUrl);
  return {
    writer,
    reader,
    close: async () => {
      for (const s of [writer, reader]) {
        await s.typing.close();
        await s.bus.close();
      }
      for (const c of clients) await disconnectRedis(c);
    },
  };
}

if (!redisUrl) {
  console.log('[legs] redis: not configured, the Redis typing contract did not run (set REDIS_URL=redis://127.0.0.1:6379)');
} else {
  typingContract('redis (two processes)', () => redisPair());

  it('redis typing: a process cut off from Redis reloads who is typing when it is back', async () => {
    const gate = await startTcpGate(redisUrl);
    const { writer, reader, close } = await redisPair(randomUUID(), gate.url);
    const room = `!room-${randomUUID()}:x`;
    gate.cut();
    await expect.poll(() => reader.bus.live()).toBe(false);
    // Published while the reader cannot hear: that message is lost for sure.
    await writer.typing.set(room, '@alice:x', true, 30_000);
    gate.open();
    await expect.poll(() => reader.typing.current(room), { timeout: 10_000 }).toEqual(['@alice:x']);
    await close();
    await gate.close();
  }, 30_000);

  it('redis typing: a process shuts down at once while Redis is unreachable', async () => {
    // node-redis never answers a QUIT queued on a connection that is reconnecting.
    const gate = await startTcpGate(redisUrl);
    const { reader, writer } = await redisPair(randomUUID(), gate.url);
    gate.cut();
    await expect.poll(() => reader.bus.live()).toBe(false);
    await reader.typing.close();
    await reader.bus.close();
    await disconnectRedis(reader.client);
    expect(reader.client.isOpen).toBe(false);
    await writer.typing.close();
    await writer.bus.close();
    await disconnectRedis(writer.client);
    await gate.close();
  }, 30_000);
}
