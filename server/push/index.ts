import type { Hono, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { batchedOn, direct } from '../db/batch.ts';
import type { Sql } from '../db/database.ts';
import type { SubscribeDomainEvents } from '../domain-events/index.ts';
import type { AppEnv } from '../http/hono-env.ts';
import type { Notifier } from '../notifier/index.ts';
import type { EventAudience } from '../rooms/index.ts';
import { pushRuleRoutes } from './routes/push-rules.ts';
import { pusherRoutes } from './routes/pushers.ts';
import { createPushEvaluator } from './service/evaluate.ts';
import { eventNotifier } from './service/event-notifier.ts';
import { createNotifications } from './service/notifications.ts';
import { createPushDelivery, type PushDeliveryDeps } from './service/push-delivery.ts';
import { createPushers } from './service/pushers.ts';
import { createPushRules } from './service/push-rules.ts';
import { unreadCountsOver, type PushCountReads } from './service/unread-counts.ts';
import { upgradeConsumer } from './service/upgrade-consumer.ts';
import { roomsWithPushActions, unreadTotal } from './storage/push-actions.ts';

export { defaultRules, type PushRule, type Ruleset } from './default-rules.ts';
export type { PushCountReads, CountKey, ThreadCounts } from './service/unread-counts.ts';

export interface PushDeps {
  sql: Sql;
  serverName: string;
  log: Logger;
  notifier: Notifier;
  auth: MiddlewareHandler<AppEnv>;
  subscribe: SubscribeDomainEvents;
  /** From rooms: the room a room replaces (its create event's predecessor), if any. */
  predecessorOf: (roomId: string) => Promise<string | undefined>;
  /** From rooms: an event with the members it may notify. */
  eventAudience: (eventId: string) => Promise<EventAudience | undefined>;
  /** From rooms: the event as the user may see it (throws when they may not). */
  eventForUser: (userId: string, roomId: string, eventId: string) => Promise<object>;
  /** From rooms: the user's read receipt positions per room and thread. */
  readPositions: (userId: string, roomIds: readonly string[]) => Promise<Map<string, Record<string, number>>>;
  /** From accounts: whom each user ignores, in order. */
  ignoredByEach: (userIds: readonly string[]) => Promise<Set<string>[]>;
  /** Delivery timing bounds (tests shorten them). */
  deliveryTiming?: PushDeliveryDeps['timing'];
}

/**
 * Push: the spec's default rules and each user's changes; every event judged by every local
 * member's rules after it commits (unread and highlight counts, /notifications); pushers, and
 * delivery to their gateways.
 */
export function createPush(deps: PushDeps) {
  const { sql, notifier, auth, subscribe, predecessorOf } = deps;
  const pushRules = createPushRules({ sql, notifier });
  const pushers = createPushers({ sql });
  const notifications = createNotifications({ sql, eventForUser: deps.eventForUser, readPositions: deps.readPositions });
  const delivery = createPushDelivery({
    sql,
    log: deps.log,
    eventAudience: deps.eventAudience,
    async unreadCount(userId) {
      const positions = await deps.readPositions(userId, await roomsWithPushActions(sql, userId));
      // A room's unthreaded or main-timeline receipt, whichever is later (0: none yet).
      const readUpTo = new Map([...positions].map(([room, r]) => [room, Math.max(r[''] ?? 0, r.main ?? 0)]));
      return unreadTotal(sql, userId, readUpTo);
    },
    ...(deps.deliveryTiming ? { timing: deps.deliveryTiming } : {}),
  });
  // Rules about a room follow its members into the room that upgrades it.
  subscribe(upgradeConsumer({ pushRules, predecessorOf }));
  subscribe(
    eventNotifier({
      sql,
      serverName: deps.serverName,
      notifier,
      evaluator: createPushEvaluator(),
      eventAudience: deps.eventAudience,
      rulesets: pushRules.rulesets,
      ignoredByEach: deps.ignoredByEach,
      delivered: () => delivery.poke(),
    }),
  );
  const counts: PushCountReads = unreadCountsOver(direct);
  return {
    pushRules,
    /** For /sync: the m.push_rules account data content when it is due. */
    pushRulesSince: pushRules.pushRulesSince,
    ...counts,
    batched: () => ({ ...pushRules.batched(), ...unreadCountsOver(batchedOn(sql)) }),
    /** The loop that sends to push gateways: started and stopped by the composition root. */
    delivery,
    mount(app: Hono<AppEnv>): void {
      pushRuleRoutes(app, { auth, pushRules });
      pusherRoutes(app, { auth, pushers, notifications });
    },
  };
}

export type Push = ReturnType<typeof createPush>;
