import { randomUUID } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import { expect, it } from 'vitest';
import { createRedisBus } from '../../server/redis/bus.ts';
import { createNotifier } from '../../server/notifier/notifier.ts';
import { createRedisTyping } from '../../server/notifier/redis-typing.ts';
import { createTyping } from '../../server/notifier/typing.ts';
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
      for (const c of clients) await c.quit();
    },
  };
}

if (!redisUrl) {
  console.log('[legs] redis: not configured, the Redis typing contract did not run (set REDIS_URL=redis://127.0.0.1:6379)');
} else {
  typingContract('redis (two processes)', () => redisPair());

  it('redis typing: a process whose subscription dropped reloads who is typing when it reconnects', async () => {
    // The reader logs in as a Redis user of its own, so it can be kept out while typing changes.
    const user = `typing-reader-${randomUUID()}`;
    const password = randomUUID();
    const admin: RedisClientType = createClient({ url: redisUrl });
    await admin.connect();
    await admin.sendCommand(['ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, '~*', '&*', '+@all']);
    const readerUrl = new URL(redisUrl);
    readerUrl.username = user;
    readerUrl.password = password;
    const { writer, reader, close } = await redisPair(randomUUID(), readerUrl.toString());
    const room = `!room-${randomUUID()}:x`;
    await admin.sendCommand(['ACL', 'SETUSER', user, 'off']);
    const list = String(await admin.sendCommand(['CLIENT', 'LIST']));
    const subscriber = list
      .split('\n')
      .map((l) => new Map(l.split(' ').map((kv) => kv.split('=', 2) as [string, string])))
      .find((f) => f.get('user') === user && f.get('flags')?.includes('P'));
    expect(subscriber).toBeDefined();
    await admin.sendCommand(['CLIENT', 'KILL', 'ID', subscriber!.get('id')!]);
    await writer.typing.set(room, '@alice:x', true, 30_000);
    await admin.sendCommand(['ACL', 'SETUSER', user, 'on']);
    await expect.poll(() => reader.typing.current(room), { timeout: 10_000 }).toEqual(['@alice:x']);
    await close();
    await admin.sendCommand(['ACL', 'DELUSER', user]);
    await admin.quit();
  }, 30_000);
}
