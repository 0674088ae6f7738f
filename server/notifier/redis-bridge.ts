import type { Bus } from '../redis/bus.ts';
import type { Change, Notifier } from './notifier.ts';

const TOPIC = 'changes';

export interface BridgeOptions {
  /** How often W is read from the database to catch changes whose message was lost (ms). */
  pollMs?: number;
}

/**
 * Several server processes on one database: each publishes the changes it
 * commits and delivers the others' to its own waiters, so a /sync long-poll on
 * one process wakes for a message sent through another. Messages can be lost
 * (a dropped connection), so the database stays the truth: W is polled, and
 * read again at once when the subscription reconnects.
 */
export async function bridgeNotifierOverRedis(
  makeNotifier: (publish: (c: Change) => void) => Notifier,
  bus: Bus,
  opts: BridgeOptions = {},
): Promise<{ notifier: Notifier; close(): Promise<void> }> {
  const notifier = makeNotifier((change) => {
    // A lost message is caught up by the poll below; a failed publish is no different.
    bus.publish(TOPIC, change).catch(() => {});
  });
  await bus.subscribe(TOPIC, (change) => notifier.deliver(change as Change));
  bus.onReconnect(() => void notifier.catchUp());
  const poll = setInterval(() => void notifier.refresh(), opts.pollMs ?? 1500);
  poll.unref();
  return {
    notifier,
    close: async () => {
      clearInterval(poll);
      notifier.close();
    },
  };
}
