import { domainOf } from '../../../federation/auth/index.ts';
import type { Consumer, DeliveredEvent } from '../../domain-events/index.ts';
import type { Sql } from '../../db/database.ts';
import { nextStreamPosition } from '../../db/stream.ts';
import { transaction } from '../../db/transaction.ts';
import type { Notifier } from '../../notifier/index.ts';
import type { EventAudience } from '../../rooms/index.ts';
import type { Ruleset } from '../default-rules.ts';
import { insertPushActions, type PushActionRow } from '../storage/push-actions.ts';
import { queueDeliveries } from '../storage/pushers.ts';
import type { PushEvaluator } from './evaluate.ts';

export interface EventNotifierDeps {
  sql: Sql;
  serverName: string;
  notifier: Notifier;
  evaluator: PushEvaluator;
  /** Rooms: the event with the members it may notify. */
  eventAudience: (eventId: string) => Promise<EventAudience | undefined>;
  /** Each user's effective push rules, in order. */
  rulesets: (userIds: readonly string[]) => Promise<Ruleset[]>;
  /** Whom each user ignores, in order: an ignored sender's events notify no one who ignores them. */
  ignoredByEach: (userIds: readonly string[]) => Promise<Set<string>[]>;
  /** Wakes the pusher delivery loop: something was queued. */
  delivered: () => void;
}

/**
 * Evaluates every local member's push rules for each event the room engine persisted, after
 * commit and off the send path: the unread and highlight counts of /sync, /notifications and
 * the pushers' queue come from what it stores. Idempotent, as domain events are delivered at
 * least once: an event already evaluated for a user is not stored or pushed twice.
 */
/** Push actions written per transaction: short enough that the stream position it holds barely holds back the watermark. */
const ROWS_PER_TRANSACTION = 200;

export function eventNotifier(deps: EventNotifierDeps): Consumer<'room.event_persisted'> {
  const { sql, serverName, notifier, evaluator, eventAudience, rulesets, ignoredByEach, delivered } = deps;
  const isLocal = (userId: string) => domainOf(userId) === serverName;

  /** The push actions of one event for the members its rules notify (none: nobody to tell). */
  async function actionsFor(payload: DeliveredEvent<'room.event_persisted'>['payload']): Promise<PushActionRow[]> {
    const audience = await eventAudience(payload.eventId);
    if (!audience) return [];
    const { event } = audience;
    const recipients = audience.joined.filter((m) => m.userId !== event.sender && isLocal(m.userId));
    if (recipients.length === 0) return [];
    const rules = await rulesets(recipients.map((r) => r.userId));
    const rows: PushActionRow[] = [];
    for (const [i, member] of recipients.entries()) {
      const result = evaluator(rules[i]!, {
        event,
        userId: member.userId,
        displayName: member.displayName,
        memberCount: audience.joined.length,
        senderPowerLevel: audience.senderPowerLevel,
        notificationPowerLevels: audience.notificationPowerLevels,
      });
      if (!result || (!result.notify && !result.highlight)) continue;
      rows.push({
        user_id: member.userId,
        room_id: event.room_id,
        event_id: event.event_id,
        event_pos: audience.streamPos,
        thread_id: audience.threadId,
        actions: JSON.stringify(result.actions),
        notify: result.notify,
        highlight: result.highlight,
        ts: event.origin_server_ts,
      });
    }
    const ignored = await ignoredByEach(rows.map((r) => r.user_id));
    return rows.filter((_, i) => !ignored[i]!.has(event.sender));
  }

  /**
   * The actions of a batch of events are written a few hundred rows per transaction, each at one
   * stream position with one wake: one wake per event made every member's /sync answer again
   * and again with counts about to change. Not the whole batch in one transaction: a stream
   * position held open holds back the watermark, and with it every /sync on the server, for as
   * long as the transaction lasts (a catch-up after a burst of sends froze delivery for that long).
   */
  async function handleBatch(events: DeliveredEvent<'room.event_persisted'>[]): Promise<void> {
    const kept: PushActionRow[] = [];
    for (const { payload } of events) kept.push(...(await actionsFor(payload)));
    for (let i = 0; i < kept.length; i += ROWS_PER_TRANSACTION) await write(kept.slice(i, i + ROWS_PER_TRANSACTION));
  }

  async function write(rows: PushActionRow[]): Promise<void> {
    const { pos, queued } = await transaction(sql, async (tx) => {
      const p = await nextStreamPosition(tx);
      const inserted = await insertPushActions(tx, rows, p);
      const n = await queueDeliveries(
        tx,
        inserted.filter((r) => r.notify).map((r) => ({ userId: r.user_id, eventId: r.event_id, roomId: r.room_id })),
        Date.now(),
      );
      return { pos: p, queued: n };
    });
    notifier.notify({ pos, userIds: [...new Set(rows.map((r) => r.user_id))] });
    if (queued > 0) delivered();
  }

  return {
    name: 'push.evaluate_event',
    types: ['room.event_persisted'],
    handle: (event) => handleBatch([event]),
    handleBatch,
  };
}
