import { randomUUID } from 'node:crypto';
import type { RedisClientType } from 'redis';
import { disconnectRedis } from './disconnect.ts';

/**
 * Redis pub/sub between the server processes of one deployment: wake-ups and
 * cache invalidations, never truth. One subscriber connection per process; a
 * process does not hear its own messages. Redis drops messages while a
 * subscriber is disconnected, so whoever relies on them also registers
 * `onReconnect` to recover (read the truth again from the database or Redis).
 */
export interface Bus {
  /** Prefix for this deployment's Redis keys and channels. */
  readonly namespace: string;
  /** Resolves to how many subscriber connections Redis handed it to (this process's own included). */
  publish(topic: string, message: unknown): Promise<number>;
  subscribe(topic: string, handler: (message: unknown) => void): Promise<void>;
  /** After the subscriber reconnected: messages in between may be lost. */
  onReconnect(fn: () => void): void;
  /**
   * Whether messages are being heard right now. While not, a cache that others
   * invalidate through the bus must not be read (an eviction may be passing by).
   */
  live(): boolean;
  close(): Promise<void>;
}

/**
 * `deployment` names the processes that share one database (server/db/deployment.ts):
 * deployments sharing a Redis never hear each other.
 */
export async function createRedisBus(
  client: RedisClientType,
  deployment: string,
  onError: (err: unknown) => void = () => {},
): Promise<Bus> {
  const origin = randomUUID();
  const namespace = `commcomms:${deployment}:`;
  const subscriber = client.duplicate();
  subscriber.on('error', onError);
  const reconnected: Array<() => void> = [];
  let connectedOnce = false;
  subscriber.on('ready', () => {
    if (!connectedOnce) {
      connectedOnce = true;
      return;
    }
    for (const fn of reconnected) {
      try {
        fn();
      } catch (err) {
        onError(err);
      }
    }
  });
  await subscriber.connect();
  return {
    namespace,
    async publish(topic, message) {
      return client.publish(namespace + topic, JSON.stringify({ origin, message }));
    },
    async subscribe(topic, handler) {
      await subscriber.subscribe(namespace + topic, (raw) => {
        try {
          const { origin: from, message } = JSON.parse(raw) as { origin: string; message: unknown };
          if (from !== origin) handler(message);
        } catch (err) {
          // A malformed message from another process must not take this one down.
          onError(err);
        }
      });
    },
    onReconnect(fn) {
      reconnected.push(fn);
    },
    live: () => subscriber.isReady,
    async close() {
      reconnected.length = 0;
      await disconnectRedis(subscriber);
    },
  };
}
