import type { Tx } from '../../db/database.ts';
import type { OutboxRow } from './outbox.ts';

/**
 * A new consumer starts at the end of the outbox: it is told what happens from now
 * on. A projection that needs the past rebuilds it from the tables of record.
 */
export async function ensureConsumer(tx: Tx, name: string): Promise<void> {
  await tx`
    insert into domain_event_consumers (name, position)
    select ${name}, coalesce(max(id), 0) from domain_event_outbox
    on conflict (name) do nothing`;
}

export interface ClaimedConsumer {
  position: number;
  attempts: number;
  /** Milliseconds until the next try is due (backoff), 0 when due now. */
  retryInMs: number;
}

/**
 * Takes or renews the lease when it is free, ours or expired; undefined when another
 * dispatcher holds it. One statement, so two dispatchers cannot both win.
 */
export async function claimConsumer(tx: Tx, name: string, owner: string, leaseMs: number): Promise<ClaimedConsumer | undefined> {
  const [row] = await tx<ClaimedConsumer[]>`
    update domain_event_consumers
    set owner = ${owner}, lease_until = now() + ${leaseMs}::int * interval '1 millisecond'
    where name = ${name} and (owner is null or owner = ${owner} or lease_until < now())
    returning position, attempts,
      greatest(0, ceil(extract(epoch from (coalesce(retry_at, now()) - now())) * 1000))::bigint as "retryInMs"`;
  return row;
}

/** Extends our lease; false when it was lost (expired and taken by another dispatcher). */
export async function renewLease(tx: Tx, name: string, owner: string, leaseMs: number): Promise<boolean> {
  const rows = await tx`
    update domain_event_consumers set lease_until = now() + ${leaseMs}::int * interval '1 millisecond'
    where name = ${name} and owner = ${owner}`;
  return rows.count === 1;
}

/** Moves past `position` after a success; false when the lease was lost. */
export async function advanceConsumer(tx: Tx, name: string, owner: string, position: number, leaseMs: number): Promise<boolean> {
  const rows = await tx`
    update domain_event_consumers
    set position = greatest(position, ${position}), attempts = 0, failing_event_id = null, retry_at = null,
        lease_until = now() + ${leaseMs}::int * interval '1 millisecond'
    where name = ${name} and owner = ${owner}`;
  return rows.count === 1;
}

/** Records a failed try and when the next one is due; false when the lease was lost. */
export async function recordFailure(
  tx: Tx,
  name: string,
  owner: string,
  f: { eventId: number; attempts: number; error: string; retryInMs: number },
): Promise<boolean> {
  const rows = await tx`
    update domain_event_consumers
    set attempts = ${f.attempts}, failing_event_id = ${f.eventId}, last_error = ${f.error}, last_error_at = now(),
        retry_at = now() + ${f.retryInMs}::int * interval '1 millisecond'
    where name = ${name} and owner = ${owner}`;
  return rows.count === 1;
}

/** Parks an event that ran out of attempts and moves the consumer past it (call in a transaction). */
export async function parkEvent(tx: Tx, name: string, owner: string, event: OutboxRow, attempts: number, error: string): Promise<boolean> {
  const rows = await tx`
    update domain_event_consumers
    set position = greatest(position, ${event.id}), attempts = 0, failing_event_id = null, retry_at = null,
        last_error = ${error}, last_error_at = now()
    where name = ${name} and owner = ${owner}`;
  if (rows.count !== 1) return false;
  await tx`
    insert into domain_event_dead_letters (consumer, event_id, type, payload, attempts, error)
    values (${name}, ${event.id}, ${event.type}, ${tx.json(event.payload as never)}, ${attempts}, ${error})
    on conflict (consumer, event_id) do update set attempts = excluded.attempts, error = excluded.error, parked_at = now()`;
  return true;
}

/** Gives up every lease this dispatcher holds, so another can take over at once. */
export async function releaseLeases(tx: Tx, owner: string): Promise<void> {
  await tx`update domain_event_consumers set owner = null, lease_until = null where owner = ${owner}`;
}

export interface ConsumerStatus {
  name: string;
  position: number;
  owner: string | null;
  attempts: number;
  failingEventId: number | null;
  lastError: string | null;
  lastErrorAt: Date | null;
}

export async function consumerStatus(tx: Tx, name: string): Promise<ConsumerStatus | undefined> {
  const [row] = await tx<ConsumerStatus[]>`
    select name, position, owner, attempts, failing_event_id as "failingEventId",
           last_error as "lastError", last_error_at as "lastErrorAt"
    from domain_event_consumers where name = ${name}`;
  return row;
}

export interface DeadLetter {
  eventId: number;
  type: string;
  payload: unknown;
  attempts: number;
  error: string;
}

export async function deadLetters(tx: Tx, consumer: string): Promise<DeadLetter[]> {
  return tx<DeadLetter[]>`
    select event_id as "eventId", type, payload, attempts, error
    from domain_event_dead_letters where consumer = ${consumer} order by event_id`;
}
