import type { Sql } from '../../server/db/database.ts';
import { untilConsumed } from './consumers.ts';

/** Waits until push has judged every event persisted so far, so unread counts read afterwards include them. */
export const untilPushEvaluated = (sql: Sql, withinMs = 10_000): Promise<void> => untilConsumed(sql, 'push.evaluate_event', withinMs);
