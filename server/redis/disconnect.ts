import type { RedisClientType } from 'redis';

/**
 * Ends a Redis connection without waiting on a server that is not there. node-redis
 * queues QUIT on a client that is reconnecting and then stops reconnecting, so
 * `quit()` during an outage never returns: only a ready client says goodbye, any
 * other is dropped (and a QUIT the connection loses on the way drops it too).
 */
export async function disconnectRedis(client: RedisClientType): Promise<void> {
  if (!client.isOpen) return;
  if (!client.isReady) {
    client.destroy();
    return;
  }
  try {
    await client.quit();
  } catch {
    if (client.isOpen) client.destroy();
  }
}
