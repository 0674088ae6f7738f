import type { Logger } from 'pino';

/** One clean-up: what it removes, and how many rows it removed. */
export interface HousekeepingTask {
  name: string;
  run(): Promise<number>;
}

/**
 * Runs the components' clean-ups every `intervalMs`, one after another, in every process: each
 * is a bounded, idempotent DELETE, so processes running them at once only share the work. A
 * failure is logged and tried again next time; it never stops the others.
 */
export function createHousekeeping({ log, intervalMs, tasks }: { log: Logger; intervalMs: number; tasks: HousekeepingTask[] }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  async function runOnce(): Promise<void> {
    for (const task of tasks) {
      if (stopped) return;
      try {
        const removed = await task.run();
        if (removed > 0) log.info({ task: task.name, removed }, 'housekeeping removed what had expired');
      } catch (err) {
        log.error({ err, task: task.name }, 'housekeeping task failed; it runs again at the next interval');
      }
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce().finally(() => {
        running = undefined;
        schedule();
      });
    }, intervalMs);
    timer.unref();
  }

  return {
    start(): void {
      stopped = false;
      schedule();
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
