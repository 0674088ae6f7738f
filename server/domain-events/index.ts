import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/load.ts';
import type { Sql, Tx } from '../db/database.ts';
import type { DomainEvent, DomainEventType } from './events.ts';
import { createDispatcher, type Consumer, type DispatcherOptions } from './service/dispatcher.ts';
import { consumerStatus, deadLetters } from './storage/consumers.ts';
import { insertOutboxEvent } from './storage/outbox.ts';

export type { DeliveredEvent, DomainEvent, DomainEventPayloads, DomainEventType, Membership } from './events.ts';
export type { Consumer, DispatcherOptions } from './service/dispatcher.ts';
export type { ConsumerStatus, DeadLetter } from './storage/consumers.ts';

export interface DomainEventsDeps {
  sql: Sql;
  log: Logger;
  registry: Registry;
  options?: Partial<DispatcherOptions>;
}

/**
 * Domain events: components tell each other what happened through a durable outbox.
 * A publisher writes the event in its own transaction (so it exists iff the change
 * commits); after commit, a dispatcher hands it to every subscribed consumer,
 * at-least-once, in order, retrying with backoff and parking what keeps failing.
 * The composition root starts it after every consumer subscribed and stops it
 * before the database closes.
 */
export function createDomainEvents({ sql, log, registry, options }: DomainEventsDeps) {
  const dispatcher = createDispatcher({ sql, log, registry, ...(options ? { options } : {}) });
  return {
    /**
     * Writes `event` in the caller's transaction and returns its outbox id (a stream
     * position: consumers read only up to the stream watermark, so take it late in the
     * transaction, as with nextStreamPosition).
     */
    async publish(tx: Tx, event: DomainEvent): Promise<number> {
      const id = await insertOutboxEvent(tx, event);
      dispatcher.published(event.type, id);
      return id;
    },
    /** Register a consumer; only before start(). */
    subscribe<K extends DomainEventType>(consumer: Consumer<K>): void {
      dispatcher.subscribe(consumer);
    },
    start: () => dispatcher.start(),
    /** Waits for handlers in flight; call before closing the database pool. */
    stop: () => dispatcher.stop(),
    prune: () => dispatcher.prune(),
    /** Where a consumer is and how it is failing, if it is. */
    consumerStatus: (name: string) => consumerStatus(sql, name),
    /** Events a consumer gave up on, with the error of the last attempt. */
    deadLetters: (name: string) => deadLetters(sql, name),
  };
}

/** The homeserver.yaml `domain_events` section as dispatcher options. */
export function dispatcherOptions(c: Config['domain_events']): Partial<DispatcherOptions> {
  return {
    pollIntervalMs: c.poll_interval_ms,
    maxAttempts: c.max_attempts,
    retryBaseMs: c.retry_base_ms,
    retryMaxMs: c.retry_max_ms,
    leaseMs: c.lease_ms,
    pruneIntervalMs: c.prune_interval_ms,
  };
}

export type DomainEvents = ReturnType<typeof createDomainEvents>;
/** What a publishing component is given: only the right to publish. */
export type PublishDomainEvent = DomainEvents['publish'];
/** What a consuming component is given: only the right to subscribe. */
export type SubscribeDomainEvents = DomainEvents['subscribe'];
