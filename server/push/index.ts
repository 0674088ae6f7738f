import type { Hono, MiddlewareHandler } from 'hono';
import type { Sql } from '../db/database.ts';
import type { SubscribeDomainEvents } from '../domain-events/index.ts';
import type { AppEnv } from '../http/hono-env.ts';
import type { Notifier } from '../notifier/index.ts';
import { pushRuleRoutes } from './routes/push-rules.ts';
import { createPushRules } from './service/push-rules.ts';
import { upgradeConsumer } from './service/upgrade-consumer.ts';

export { defaultRules, type PushRule, type Ruleset } from './default-rules.ts';

export interface PushDeps {
  sql: Sql;
  notifier: Notifier;
  auth: MiddlewareHandler<AppEnv>;
  subscribe: SubscribeDomainEvents;
  /** From rooms: the room a room replaces (its create event's predecessor), if any. */
  predecessorOf: (roomId: string) => Promise<string | undefined>;
}

/** Push rules: the spec's defaults, each user's changes, and m.push_rules in /sync. (Pushers and evaluation come later.) */
export function createPush({ sql, notifier, auth, subscribe, predecessorOf }: PushDeps) {
  const pushRules = createPushRules({ sql, notifier });
  // Rules about a room follow its members into the room that upgrades it.
  subscribe(upgradeConsumer({ pushRules, predecessorOf }));
  return {
    pushRules,
    /** For /sync: the m.push_rules account data content when it is due. */
    pushRulesSince: pushRules.pushRulesSince,
    batched: pushRules.batched,
    mount(app: Hono<AppEnv>): void {
      pushRuleRoutes(app, { auth, pushRules });
    },
  };
}

export type Push = ReturnType<typeof createPush>;
