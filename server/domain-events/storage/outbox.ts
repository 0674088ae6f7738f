import type { Tx } from '../../db/database.ts';
import { holdStreamLock } from '../../db/stream.ts';
import type { DomainEvent, DomainEventType } from '../events.ts';

/**
 * Appends an event in the caller's transaction. The stream lock is held from here to
 * commit, so ids become visible in order and a reader past id N never sees a new
 * id below N (see 000005_domain_events.up.sql).
 */
export async function insertOutboxEvent(tx: Tx, event: DomainEvent): Promise<number> {
  await holdStreamLock(tx);
  const [row] = await tx<{ id: number }[]>`
    insert into domain_event_outbox (type, payload)
    values (${event.type}, ${tx.json(event.payload as never)})
    returning id`;
  return row!.id;
}

export interface OutboxRow {
  id: number;
  type: DomainEventType;
  payload: DomainEvent['payload'];
}

/** The newest id written, or `floor` when the outbox is empty (everything pruned). */
export async function outboxHorizon(tx: Tx, floor: number): Promise<number> {
  const [row] = await tx<{ id: number }[]>`
    select greatest(coalesce(max(id), 0), ${floor}::bigint)::bigint as id from domain_event_outbox`;
  return row!.id;
}

export async function outboxEventsAfter(
  tx: Tx,
  after: number,
  upTo: number,
  types: readonly string[],
  limit: number,
): Promise<OutboxRow[]> {
  return tx<OutboxRow[]>`
    select id, type, payload from domain_event_outbox
    where id > ${after} and id <= ${upTo} and type in ${tx([...types])}
    order by id limit ${limit}`;
}

/** Deletes rows every consumer is past; a consumer that lags keeps them. */
export async function pruneOutbox(tx: Tx): Promise<number> {
  const rows = await tx`
    delete from domain_event_outbox
    where id <= (select min(position) from domain_event_consumers)`;
  return rows.count;
}
