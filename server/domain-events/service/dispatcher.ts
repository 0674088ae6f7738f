import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Sql } from '../../db/database.ts';
import { awaitWatermark } from '../../db/stream.ts';
import { transaction } from '../../db/transaction.ts';
import type { DeliveredEvent, DomainEventType } from '../events.ts';
import {
  advanceConsumer,
  claimConsumer,
  ensureConsumer,
  parkEvent,
  recordFailure,
  releaseLeases,
  renewLease,
} from '../storage/consumers.ts';
import { outboxEventsAfter, outboxHorizon, pruneOutbox, type OutboxRow } from '../storage/outbox.ts';

export interface DispatcherOptions {
  /** How often to look for events other processes wrote (local publishes wake at once). */
  pollIntervalMs: number;
  /** Tries per event before it is parked in domain_event_dead_letters. */
  maxAttempts: number;
  /** Backoff after the first failure; doubled per failure up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long a process may run a consumer without renewing; a dead process's consumers move on after this. */
  leaseMs: number;
  pruneIntervalMs: number;
  batchSize: number;
}

export const DEFAULT_DISPATCHER_OPTIONS: DispatcherOptions = {
  pollIntervalMs: 1_000,
  maxAttempts: 8,
  retryBaseMs: 500,
  retryMaxMs: 60_000,
  leaseMs: 30_000,
  pruneIntervalMs: 60_000,
  batchSize: 100,
};

/**
 * A consumer: a stable name (its position is stored under it), the event types it
 * wants, and a handler. Delivery is at-least-once and in outbox order, so a handler
 * must be idempotent: after a crash between its effect and the stored position, it
 * is handed the same event again.
 */
export interface Consumer<K extends DomainEventType = DomainEventType> {
  name: string;
  types: readonly K[];
  handle(event: DeliveredEvent<K>): Promise<void>;
  /**
   * Optional: several events at once, in order, with the same effect as handling each (one
   * query for all where `handle` makes one each). If it throws, the events are handed to
   * `handle` one by one, so retries and parking still concern the one event that fails.
   */
  handleBatch?(events: DeliveredEvent<K>[]): Promise<void>;
}

interface Runner {
  consumer: Consumer;
  running: Promise<void> | undefined;
  again: boolean;
  /** Woken by a publish in this process: the outbox id to wait for (its transaction to end) before reading; 0 for none. */
  awaitId: number;
  retryTimer: NodeJS.Timeout | undefined;
}

type Outcome = 'delivered' | 'retry-later' | 'lease-lost';

export interface DispatcherDeps {
  sql: Sql;
  log: Logger;
  /** Where the dispatcher's metrics are registered (the homeserver's /metrics registry). */
  registry: Registry;
  options?: Partial<DispatcherOptions>;
}

/**
 * Delivers outbox events to consumers after commit.
 *
 * Ownership: a consumer runs in one process at a time under a lease in its row
 * (claimed with one conditional UPDATE, renewed as it advances and by a heartbeat
 * while a handler runs, released at stop). A row lock held for the whole delivery
 * would keep a connection in a transaction while the handler opens its own ones,
 * which on PGlite's single connection is a deadlock; a lease needs no open transaction.
 *
 * When an event's attempts run out it is PARKED (dead-letter table, error log,
 * metric) and the consumer moves on, rather than the consumer stopping there. The
 * consumers here act per user or per room: one poison event (a room that refuses a
 * leave) must not stop every later deactivation or profile change on the server, and
 * an operator can read the error and replay the parked payload. The price is that
 * the parked event is out of order for that consumer once replayed; a consumer for
 * which order matters more than progress should be idempotent and rebuildable.
 */
export function createDispatcher({ sql, log, registry, options }: DispatcherDeps) {
  const opts = { ...DEFAULT_DISPATCHER_OPTIONS, ...options };
  const owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  const runners = new Map<string, Runner>();
  let state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  let stopping: Promise<void> | undefined;
  const timers: NodeJS.Timeout[] = [];

  const delivered = new Counter({
    name: 'commcomms_domain_events_delivered_total',
    help: 'Domain events handled successfully, by consumer and event type',
    labelNames: ['consumer', 'type'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'commcomms_domain_event_failures_total',
    help: 'Failed attempts to handle a domain event, by consumer and event type',
    labelNames: ['consumer', 'type'] as const,
    registers: [registry],
  });
  const parked = new Counter({
    name: 'commcomms_domain_event_dead_letters_total',
    help: 'Domain events a consumer gave up on and parked in domain_event_dead_letters',
    labelNames: ['consumer', 'type'] as const,
    registers: [registry],
  });
  const batchFallbacks = new Counter({
    name: 'commcomms_domain_event_batch_fallbacks_total',
    help: 'Batches a consumer failed to handle at once, whose events were then handed over one by one',
    labelNames: ['consumer'] as const,
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'commcomms_domain_event_consumer_lag',
    help: 'Outbox ids between the newest event and a consumer run by this process (0 when caught up)',
    labelNames: ['consumer'] as const,
    registers: [registry],
  });

  function kick(r: Runner, awaitId = 0): void {
    if (state !== 'running') return;
    if (awaitId > r.awaitId) r.awaitId = awaitId;
    if (r.running) {
      r.again = true;
      return;
    }
    r.running = (async () => {
      do {
        r.again = false;
        try {
          await drain(r);
        } catch (err) {
          // The database itself failed (not a handler): the next poll tries again.
          log.error({ err, consumer: r.consumer.name }, 'domain event dispatch failed; retrying at the next poll');
        }
      } while (r.again && state === 'running');
    })().finally(() => {
      r.running = undefined;
    });
  }

  function retryIn(r: Runner, ms: number): void {
    clearTimeout(r.retryTimer);
    if (state !== 'running') return;
    r.retryTimer = setTimeout(() => kick(r), ms);
    r.retryTimer.unref();
  }

  async function drain(r: Runner): Promise<void> {
    const { name, types } = r.consumer;
    if (r.awaitId > 0) {
      const id = r.awaitId;
      r.awaitId = 0;
      await awaitWatermark(sql, id);
    }
    const claim = await claimConsumer(sql, name, owner, opts.leaseMs);
    if (!claim) {
      lag.remove({ consumer: name });
      return;
    }
    if (claim.retryInMs > 0) return retryIn(r, claim.retryInMs);
    let { position, attempts } = claim;
    // Handled events are recorded once per batch, not one UPDATE per event: at a few hundred
    // events a second, two consumers' per-event writes were a visible share of the database's
    // work. A crash re-delivers at most a batch, which at-least-once delivery allows.
    // Storing also renews the lease, so a long batch stores as it goes, well within the lease.
    let stored = position;
    let storedAt = Date.now();
    const store = async (): Promise<boolean> => {
      if (position === stored) return true;
      if (!(await advanceConsumer(sql, name, owner, position, opts.leaseMs))) return false;
      stored = position;
      storedAt = Date.now();
      return true;
    };
    for (;;) {
      const horizon = await outboxHorizon(sql, position);
      lag.set({ consumer: name }, horizon - position);
      const batch = await outboxEventsAfter(sql, position, horizon, types, opts.batchSize);
      // A consumer that takes batches, with no failure pending, gets the whole batch at once.
      const handledAll = attempts === 0 && batch.length > 1 && state === 'running' && (await deliverBatch(r, batch));
      for (const row of handledAll ? [] : batch) {
        if (state !== 'running') {
          await store();
          return;
        }
        const outcome = await deliver(r, row, attempts, store);
        if (outcome === 'lease-lost') {
          log.warn({ consumer: name }, 'domain event consumer lease lost to another process');
          return;
        }
        if (outcome === 'retry-later') return;
        position = row.id;
        attempts = 0;
        lag.set({ consumer: name }, horizon - position);
        if (Date.now() - storedAt > opts.leaseMs / 3 && !(await store())) return;
      }
      if (handledAll) {
        position = batch[batch.length - 1]!.id;
        lag.set({ consumer: name }, horizon - position);
      }
      if (batch.length === opts.batchSize) {
        if (!(await store())) return;
        continue;
      }
      // Events of types this consumer does not want are passed over, so pruning is not held back.
      if (horizon > position) position = horizon;
      if (!(await store())) return;
      lag.set({ consumer: name }, 0);
      return;
    }
  }

  /**
   * Hands one event to the consumer. Success is not stored here (the batch stores it); a
   * failure first stores what was handled before it, so the failure is recorded against it.
   */
  async function deliver(r: Runner, row: OutboxRow, priorAttempts: number, storeHandled: () => Promise<boolean>): Promise<Outcome> {
    const { name } = r.consumer;
    try {
      await underLease(name, () => r.consumer.handle({ id: row.id, type: row.type, payload: row.payload } as DeliveredEvent));
    } catch (err) {
      if (!(await storeHandled())) return 'lease-lost';
      return await failed(r, row, priorAttempts + 1, err);
    }
    delivered.inc({ consumer: name, type: row.type });
    return 'delivered';
  }

  /** Runs a handler while a heartbeat keeps the consumer's lease: a slow handler is not taken for a dead process. */
  async function underLease(name: string, handler: () => Promise<void>): Promise<void> {
    const heartbeat = setInterval(() => {
      renewLease(sql, name, owner, opts.leaseMs).catch((err: unknown) => log.warn({ err, consumer: name }, 'lease renewal failed'));
    }, opts.leaseMs / 3);
    try {
      await handler();
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** The whole batch through handleBatch; false (after logging) when it has none or it failed. */
  async function deliverBatch(r: Runner, rows: OutboxRow[]): Promise<boolean> {
    const { name, handleBatch } = r.consumer;
    if (!handleBatch) return false;
    const events = rows.map((row) => ({ id: row.id, type: row.type, payload: row.payload }) as DeliveredEvent);
    try {
      await underLease(name, () => handleBatch.call(r.consumer, events));
    } catch (err) {
      // Counted apart from the events' own failures: a batch that keeps failing when its events
      // do not (a fault of the batch path itself) would otherwise only show as lost throughput.
      batchFallbacks.inc({ consumer: name });
      log.warn({ err, consumer: name, events: rows.length }, 'domain event batch failed; handing its events over one by one');
      return false;
    }
    for (const row of rows) delivered.inc({ consumer: name, type: row.type });
    return true;
  }

  async function failed(r: Runner, row: OutboxRow, attempts: number, err: unknown): Promise<Outcome> {
    const { name } = r.consumer;
    const error = errorText(err);
    const at = { consumer: name, eventId: row.id, type: row.type, attempts };
    failures.inc({ consumer: name, type: row.type });
    if (attempts >= opts.maxAttempts) {
      if (!(await transaction(sql, (tx) => parkEvent(tx, name, owner, row, attempts, error)))) return 'lease-lost';
      parked.inc({ consumer: name, type: row.type });
      log.error({ ...at, err }, 'domain event consumer gave up; event parked in domain_event_dead_letters');
      return 'delivered';
    }
    const retryInMs = Math.min(opts.retryMaxMs, opts.retryBaseMs * 2 ** (attempts - 1));
    if (!(await recordFailure(sql, name, owner, { eventId: row.id, attempts, error, retryInMs }))) return 'lease-lost';
    log.error({ ...at, retryInMs, err }, 'domain event consumer failed; retrying');
    retryIn(r, retryInMs);
    return 'retry-later';
  }

  return {
    subscribe<K extends DomainEventType>(consumer: Consumer<K>): void {
      if (state !== 'new') throw new Error(`consumer ${consumer.name} subscribed after the dispatcher started`);
      if (runners.has(consumer.name)) throw new Error(`two consumers are named ${consumer.name}`);
      if (consumer.types.length === 0) throw new Error(`consumer ${consumer.name} wants no event types`);
      const runner: Runner = {
        consumer: consumer as Consumer,
        running: undefined,
        again: false,
        awaitId: 0,
        retryTimer: undefined,
      };
      runners.set(consumer.name, runner);
    },

    /** Called by publish: consumers of this type look as soon as the publishing transaction ends. */
    published(type: DomainEventType, id: number): void {
      for (const r of runners.values()) if (r.consumer.types.includes(type)) kick(r, id);
    },

    async start(): Promise<void> {
      if (state !== 'new') throw new Error('the domain event dispatcher was already started');
      for (const name of runners.keys()) await ensureConsumer(sql, name);
      state = 'running';
      const poll = setInterval(() => {
        for (const r of runners.values()) kick(r);
      }, opts.pollIntervalMs);
      const prune = setInterval(() => {
        pruneOutbox(sql).catch((err: unknown) => log.error({ err }, 'pruning the domain event outbox failed'));
      }, opts.pruneIntervalMs);
      for (const t of [poll, prune]) {
        t.unref();
        timers.push(t);
      }
      for (const r of runners.values()) kick(r);
    },

    /** Stops looking, waits for handlers in flight, then hands the consumers' leases back. */
    stop(): Promise<void> {
      return (stopping ??= (async () => {
        const wasRunning = state === 'running';
        state = 'stopping';
        for (const t of timers) clearInterval(t);
        for (const r of runners.values()) clearTimeout(r.retryTimer);
        await Promise.all([...runners.values()].map((r) => r.running));
        if (wasRunning) {
          await releaseLeases(sql, owner).catch((err: unknown) => log.error({ err }, 'releasing domain event consumer leases failed'));
        }
        state = 'stopped';
      })());
    },

    /** Deletes outbox rows every consumer is past (also run every pruneIntervalMs). */
    prune: () => pruneOutbox(sql),
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;

function errorText(err: unknown): string {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  return text.length > 8000 ? `${text.slice(0, 8000)}…` : text;
}
