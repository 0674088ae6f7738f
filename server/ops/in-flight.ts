import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/hono-env.ts';

/**
 * Counts requests being handled. A server's close callback can fire while a
 * handler whose socket was torn down is still running; shutdown waits for the
 * count to reach zero before it closes the database under it.
 */
export function createInFlight() {
  let count = 0;
  let waiters: Array<() => void> = [];
  const middleware: MiddlewareHandler<AppEnv> = async (_c, next) => {
    count++;
    try {
      await next();
    } finally {
      if (--count === 0) {
        for (const w of waiters) w();
        waiters = [];
      }
    }
  };
  return {
    middleware,
    count: () => count,
    idle(timeoutMs: number): Promise<void> {
      if (count === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
