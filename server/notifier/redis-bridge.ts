import { randomUUID } from 'node:crypto';
import type { RedisClientType } from 'redis';
import type { Change, Notifier } from './notifier.ts';

const CHANNEL = 'commcomms:changes';

/**
 * Several server processes on one database: each publishes the changes it
 * commits and delivers the others' to its own waiters, so a /sync long-poll on
 * one process wakes for a message sent through another.
 */
export async function bridgeNotifierOverRedis(
  makeNotifier: (publish: (c: Change) => void) => Notifier,
  client: RedisClientType,
): Promise<{ notifier: Notifier; close(): Promise<void> }> {
  const origin = randomUUID();
  const subscriber = client.duplicate();
  await subscriber.connect();
  const notifier = makeNotifier((change) => {
    void client.publish(CHANNEL, JSON.stringify({ origin, change })).catch(() => {});
  });
  await subscriber.subscribe(CHANNEL, (message) => {
    try {
      const { origin: from, change } = JSON.parse(message) as { origin: string; change: Change };
      if (from !== origin) notifier.deliver(change);
    } catch {
      // A malformed message from another process must not take this one down.
    }
  });
  return {
    notifier,
    close: async () => {
      await subscriber.unsubscribe(CHANNEL);
      await subscriber.quit();
    },
  };
}
