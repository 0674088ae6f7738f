import type { Hono, MiddlewareHandler } from 'hono';
import type { RedisClientType } from 'redis';
import type { Config } from '../config/load.ts';
import type { SubscribeDomainEvents } from '../domain-events/index.ts';
import type { AppEnv } from '../http/hono-env.ts';
import { createPostgresSyncLiveness } from './liveness/postgres.ts';
import { createRedisSyncLiveness } from './liveness/redis.ts';
import { presenceRoutes } from './routes/presence.ts';
import { activityConsumer } from './service/activity.ts';
import { createPresenceService, type PresenceDeps } from './service/presence.ts';
import { createPresenceSweeper } from './service/sweeper.ts';
import { createSyncTracker } from './service/sync-tracker.ts';
import type { PresenceTimeouts } from './service/timeouts.ts';

export type { PresenceState } from './storage/presence.ts';
export type { PresenceTimeouts } from './service/timeouts.ts';

export interface PresenceComponentDeps extends PresenceDeps {
  auth: MiddlewareHandler<AppEnv>;
  subscribe: SubscribeDomainEvents;
  timeouts: PresenceTimeouts;
  /** Where the timers' failures go (they retry on their next turn). */
  onError: (err: unknown) => void;
  /**
   * The deployment's Redis, when it has one, and its key prefix (the bus's namespace): who has a
   * /sync in flight is kept there instead of in PostgreSQL (liveness/).
   */
  redis?: { client: RedisClientType; namespace: string };
}

/**
 * Presence: online/unavailable/offline and a status message, shared with users in common rooms.
 * Users go unavailable and offline by themselves (service/timeouts.ts): the composition root
 * starts and stops `timers`, this process's heartbeat and sweeper.
 */
export function createPresence(deps: PresenceComponentDeps) {
  const liveness = deps.redis ? createRedisSyncLiveness(deps.redis.client, deps.redis.namespace) : createPostgresSyncLiveness(deps.sql);
  const tracker = createSyncTracker({
    sql: deps.sql,
    liveness,
    timeouts: deps.timeouts,
    // The service is made below, with the tracker; the heartbeat announces only once running.
    announce: (changes) => presence.announce(changes),
    onError: deps.onError,
  });
  const presence = createPresenceService({ ...deps, tracker });
  const sweeper = createPresenceSweeper({
    sql: deps.sql,
    liveness,
    timeouts: deps.timeouts,
    announce: presence.announce,
    flushOwn: tracker.flush,
    onError: deps.onError,
  });
  deps.subscribe(activityConsumer(presence.active));
  return {
    /** For /sync: m.presence events due to a user. */
    presenceSince: presence.presenceSince,
    batched: presence.batched,
    /** For /sync: a sync begins (with its set_presence); call what it returns when it ends. */
    syncing: presence.syncing,
    timers: {
      start(): void {
        tracker.start();
        sweeper.start();
      },
      /** The sweeper first (it may still record its own), then the last heartbeat. */
      async stop(): Promise<void> {
        await sweeper.stop();
        await tracker.stop();
      },
    },
    mount(app: Hono<AppEnv>): void {
      presenceRoutes(app, { auth: deps.auth, presence });
    },
  };
}

/** The homeserver.yaml `presence` section as the component's timeouts. */
export function presenceTimeouts(c: Config['presence']): PresenceTimeouts {
  return {
    idleTimeoutMs: c.idle_timeout_ms,
    syncOnlineTimeoutMs: c.sync_online_timeout_ms,
    lastActiveGranularityMs: c.last_active_granularity_ms,
    sweepIntervalMs: c.sweep_interval_ms,
    syncHeartbeatIntervalMs: c.sync_heartbeat_interval_ms,
  };
}

export type Presence = ReturnType<typeof createPresence>;
