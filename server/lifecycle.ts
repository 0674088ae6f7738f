/**
 * One start/stop order for the long-running work of a process (listeners, timers,
 * consumers, Redis, the database). Components are started one after another as the
 * composition root builds them, and stopped in the reverse order, so nothing is
 * stopped while something started after it (and so perhaps using it) still runs.
 *
 * A stop is awaited for at most its timeout, and a stop that throws or hangs is logged
 * and then passed over: the components before it still get to stop (the database is
 * still closed when a consumer hangs), and the caller learns which did not.
 */
export interface Component {
  /** Named in logs and in the stop report. */
  name: string;
  /** Begins the work. A component whose start throws was not started and is not stopped. */
  start?(): Promise<void> | void;
  /** Ends the work and releases what it holds; awaited, for at most `stopTimeoutMs`. */
  stop(): Promise<unknown> | void;
  /** Overrides the lifecycle's default bound on this component's stop. */
  stopTimeoutMs?: number;
}

export type StopOutcome = 'stopped' | 'failed' | 'timed-out';

export interface Stopped {
  name: string;
  outcome: StopOutcome;
  ms: number;
}

export interface Lifecycle {
  /** Starts `component` now, after every component started before it. */
  start(component: Component): Promise<void>;
  /** Names of the components started and not yet stopped, in start order. */
  running(): string[];
  /** Stops every started component in reverse order. Calling it again returns the same promise. */
  stop(): Promise<Stopped[]>;
}

/** The slice of a pino logger the lifecycle writes to. */
export interface LifecycleLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export function createLifecycle(opts: { log: LifecycleLog; stopTimeoutMs?: number }): Lifecycle {
  const { log } = opts;
  const defaultTimeout = opts.stopTimeoutMs ?? 10_000;
  const started: Component[] = [];
  let stopping: Promise<Stopped[]> | undefined;

  async function stopOne(c: Component): Promise<Stopped> {
    const begun = Date.now();
    const timeoutMs = c.stopTimeoutMs ?? defaultTimeout;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed-out'>((resolve) => {
      timer = setTimeout(() => resolve('timed-out'), timeoutMs);
    });
    let outcome: StopOutcome;
    try {
      outcome = await Promise.race([Promise.resolve(c.stop()).then(() => 'stopped' as const), timedOut]);
    } catch (err) {
      outcome = 'failed';
      log.error({ err, component: c.name }, 'component failed to stop');
    } finally {
      clearTimeout(timer);
    }
    const ms = Date.now() - begun;
    if (outcome === 'timed-out') log.error({ component: c.name, timeoutMs }, 'component did not stop in time; going on without it');
    else if (outcome === 'stopped') log.info({ component: c.name, ms }, 'component stopped');
    return { name: c.name, outcome, ms };
  }

  return {
    async start(component) {
      if (stopping) throw new Error(`${component.name} started after the lifecycle began to stop`);
      await component.start?.();
      // A stop that began while this start ran must still reach it.
      if (stopping) {
        await stopOne(component);
        throw new Error(`${component.name} started after the lifecycle began to stop`);
      }
      started.push(component);
    },
    running: () => started.map((c) => c.name),
    stop() {
      return (stopping ??= (async () => {
        const report: Stopped[] = [];
        while (started.length > 0) report.push(await stopOne(started.pop()!));
        return report;
      })());
    },
  };
}
