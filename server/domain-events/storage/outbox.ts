import type { Tx } from '../../db/database.ts';
import type { DomainEvent, DomainEventType } from '../events.ts';

/**
 * Appends an event in the caller's transaction. Its id is a stream position, so it is
 * covered by the stream watermark: a reader that reads only up to the watermark never
 * sees a new id below one it has read, with no lock held to commit.
 */
export async function insertOutboxEvent(tx: Tx, event: DomainEvent): Promise<number> {
  // take_stream_position() is what nextStreamPosition() runs, here in the same statement.
  const [row] = await tx<{ id: number }[]>`
    insert into domain_event_outbox (id, type, payload) overriding system value
    values (take_stream_position(), ${event.type}, ${tx.json(event.payload as never)})
    returning id::bigint as id`;
  return row!.id;
}

export interface OutboxRow {
  id: number;
  type: DomainEventType;
  payload: DomainEvent['payload'];
}

/** How far a consumer may read: the stream watermark (every id at or below it has committed or is abandoned). */
export async function outboxHorizon(tx: Tx, floor: number): Promise<number> {
  const [row] = await tx<{ id: number }[]>`select greatest(stream_watermark(), ${floor}::bigint)::bigint as id`;
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
