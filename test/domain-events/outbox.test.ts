import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.ts';
import { openDatabase, type Database, type Sql } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { transaction } from '../../server/db/transaction.ts';
import {
  createDomainEvents,
  type DeliveredEvent,
  type DispatcherOptions,
  type DomainEvent,
  type DomainEvents,
} from '../../server/domain-events/index.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';
import { TEST_DB, writeTestConfig } from '../support/homeserver.ts';

/**
 * The outbox contract, on each database leg: an event is delivered iff its
 * transaction commits, at-least-once and in order per consumer, from a position
 * that survives a restart; failures are retried, recorded and visible; and two
 * dispatchers on one database hand each event to a consumer once.
 */

const quiet = pino({ level: process.env.COMMCOMMS_TEST_LOG ?? 'silent' });
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function freshDatabase(): Promise<{ db: Database; openAnother(): Promise<Database | undefined> }> {
  const { configPath, dataDir, dropDb } = await writeTestConfig();
  if (dropDb) cleanups.push(dropDb);
  const config = loadConfig({ configPath, env: {} });
  const open = () => openDatabase({ url: config.database.url, maxConnections: 4, dataDir, log: quiet });
  const db = await open();
  cleanups.push(() => db.close());
  await migrate(db.sql, readMigrations(MIGRATIONS_DIR), quiet);
  return {
    db,
    // PGlite is one process's database: a second pool is a second server process only on PostgreSQL.
    async openAnother() {
      if (TEST_DB !== 'postgres') return undefined;
      const other = await open();
      cleanups.push(() => other.close());
      return other;
    },
  };
}

let db: Database;
let openAnother: () => Promise<Database | undefined>;
beforeAll(async () => {
  ({ db, openAnother } = await freshDatabase());
});

const running: DomainEvents[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

interface Captured {
  lines: Array<Record<string, unknown>>;
  log: Logger;
}
function capturingLog(): Captured {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }) };
}

const FAST: Partial<DispatcherOptions> = { pollIntervalMs: 50, retryBaseMs: 20, retryMaxMs: 80, maxAttempts: 3 };

function dispatcher(sql: Sql = db.sql, options: Partial<DispatcherOptions> = {}, log: Logger = quiet) {
  const registry = new Registry();
  const events = createDomainEvents({ sql, log, registry, options: { ...FAST, ...options } });
  running.push(events);
  return { events, registry };
}

type ProfileChanged = DeliveredEvent<'account.profile_changed'>;
const marker = (userId: string): DomainEvent => ({ type: 'account.profile_changed', payload: { userId, displayname: userId } });
const publish = (events: DomainEvents, ...userIds: string[]) =>
  transaction(db.sql, async (tx) => {
    const ids: number[] = [];
    for (const u of userIds) ids.push(await events.publish(tx, marker(u)));
    return ids;
  });

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const metric = async (registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> => {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
};

describe('publishing', () => {
  it('an event published in a rolled-back transaction is never delivered; a committed one is', async () => {
    const { events } = dispatcher();
    const seen: string[] = [];
    events.subscribe({ name: 'rollback', types: ['account.profile_changed'], handle: async (e) => void seen.push(e.payload.userId) });
    await events.start();
    await expect(
      transaction(db.sql, async (tx) => {
        await events.publish(tx, marker('@rolled-back:x'));
        throw new Error('the change fails');
      }),
    ).rejects.toThrow('the change fails');
    await publish(events, '@committed:x');
    await eventually(() => seen.includes('@committed:x'), 'the committed event');
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from domain_event_outbox where payload->>'userId' = '@rolled-back:x'`;
    expect(row!.n).toBe(0);
    expect(seen).toEqual(['@committed:x']);
  });

  it('a local publish is delivered at once, without waiting for the poll', async () => {
    const { events } = dispatcher(db.sql, { pollIntervalMs: 60_000 });
    const seen: string[] = [];
    events.subscribe({ name: 'prompt', types: ['account.profile_changed'], handle: async (e) => void seen.push(e.payload.userId) });
    await events.start();
    const started = Date.now();
    await publish(events, '@prompt:x');
    await eventually(() => seen.length === 1, 'the local wake-up');
    // Far below the 60 s poll: only the wake-up can have delivered it.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a consumer is handed only the types it asked for, in order, and passes over the rest', async () => {
    const { events } = dispatcher();
    const seen: string[] = [];
    events.subscribe({ name: 'only-deactivations', types: ['account.deactivated'], handle: async (e) => void seen.push(e.payload.userId) });
    await events.start();
    await transaction(db.sql, async (tx) => {
      await events.publish(tx, { type: 'account.deactivated', payload: { userId: '@d1:x' } });
      await events.publish(tx, marker('@not-for-me:x'));
      await events.publish(tx, { type: 'account.deactivated', payload: { userId: '@d2:x' } });
    });
    const last = (await publish(events, '@after:x'))[0]!;
    await eventually(async () => (await events.consumerStatus('only-deactivations'))?.position === last, 'the position to pass the tail');
    expect(seen).toEqual(['@d1:x', '@d2:x']);
  });
});

describe('positions', () => {
  it('a restarted dispatcher resumes from the stored position: nothing lost, nothing handled twice', async () => {
    const first = dispatcher().events;
    const firstSeen: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inFlight = false;
    first.subscribe({
      name: 'resume',
      types: ['account.profile_changed'],
      handle: async (e: ProfileChanged) => {
        if (e.payload.userId === '@slow:x') {
          inFlight = true;
          await gate;
        }
        firstSeen.push(e.id);
      },
    });
    await first.start();
    const early = await publish(first, '@one:x', '@slow:x');
    await eventually(() => inFlight, 'the slow handler to start');

    // stop() waits for the handler in flight, and its success is stored.
    let stopped = false;
    const stopping = first.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(firstSeen).toEqual(early);

    // Published while no dispatcher runs: kept in the outbox.
    const late = await publish(first, '@three:x', '@four:x');
    const second = dispatcher().events;
    const secondSeen: number[] = [];
    second.subscribe({ name: 'resume', types: ['account.profile_changed'], handle: async (e) => void secondSeen.push(e.id) });
    await second.start();
    await eventually(() => secondSeen.length >= 2, 'the events published while stopped');
    await new Promise((r) => setTimeout(r, 150));
    expect(secondSeen).toEqual(late);
  });
});

describe('failures', () => {
  it('a failing handler is retried with backoff, recorded while failing, and visible in logs and metrics', async () => {
    const { lines, log } = capturingLog();
    const { events, registry } = dispatcher(db.sql, { maxAttempts: 5 }, log);
    const calls: number[] = [];
    const statusOnRetry: Array<Awaited<ReturnType<DomainEvents['consumerStatus']>>> = [];
    events.subscribe({
      name: 'flaky',
      types: ['account.profile_changed'],
      handle: async () => {
        calls.push(Date.now());
        if (calls.length > 1) statusOnRetry.push(await events.consumerStatus('flaky'));
        if (calls.length <= 2) throw new Error(`flaky failure ${calls.length}`);
      },
    });
    await events.start();
    const [id] = await publish(events, '@flaky:x');
    await eventually(async () => (await events.consumerStatus('flaky'))?.position === id, 'the third attempt to succeed');
    expect(calls).toHaveLength(3);
    // Backoff: 20 ms, then 40 ms.
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(15);
    expect(calls[2]! - calls[1]!).toBeGreaterThanOrEqual(35);
    expect(statusOnRetry[0]).toMatchObject({ attempts: 1, failingEventId: id });
    expect(statusOnRetry[0]!.lastError).toContain('flaky failure 1');
    expect(statusOnRetry[1]).toMatchObject({ attempts: 2, failingEventId: id });

    const after = await events.consumerStatus('flaky');
    expect(after).toMatchObject({ attempts: 0, failingEventId: null });
    expect(after!.lastError).toContain('flaky failure 2');
    expect(await metric(registry, 'commcomms_domain_event_failures_total', { consumer: 'flaky' })).toBe(2);
    expect(await metric(registry, 'commcomms_domain_events_delivered_total', { consumer: 'flaky' })).toBe(1);
    const errors = lines.filter((l) => l.level === 50 && l.consumer === 'flaky');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ eventId: id, attempts: 1, msg: expect.stringContaining('retrying') });
    expect(JSON.stringify(errors[0]!.err)).toContain('flaky failure 1');
  });

  it('after its last attempt an event is parked in the dead-letter table and the consumer moves on', async () => {
    const { lines, log } = capturingLog();
    const { events, registry } = dispatcher(db.sql, { maxAttempts: 3 }, log);
    const poisonCalls: number[] = [];
    const handled: string[] = [];
    events.subscribe({
      name: 'poisoned',
      types: ['account.profile_changed'],
      handle: async (e) => {
        if (e.payload.userId === '@poison:x') {
          poisonCalls.push(e.id);
          throw new Error('poison! cannot handle this one');
        }
        handled.push(e.payload.userId);
      },
    });
    await events.start();
    const [poison, next] = await publish(events, '@poison:x', '@next:x');
    await eventually(() => handled.includes('@next:x'), 'the event after the poisoned one');
    expect(poisonCalls).toEqual([poison, poison, poison]);
    const parked = await events.deadLetters('poisoned');
    expect(parked).toEqual([
      {
        eventId: poison,
        type: 'account.profile_changed',
        payload: { userId: '@poison:x', displayname: '@poison:x' },
        attempts: 3,
        error: expect.stringContaining('poison! cannot handle this one'),
      },
    ]);
    expect((await events.consumerStatus('poisoned'))?.position).toBe(next);
    expect(await metric(registry, 'commcomms_domain_event_failures_total', { consumer: 'poisoned' })).toBe(3);
    expect(await metric(registry, 'commcomms_domain_event_dead_letters_total', { consumer: 'poisoned' })).toBe(1);
    expect(lines.some((l) => l.level === 50 && l.consumer === 'poisoned' && String(l.msg).includes('dead_letters'))).toBe(true);
  });

  it('a consumer that takes batches gets the waiting events in one call, and one by one when a batch fails', async () => {
    const { lines, log } = capturingLog();
    const { events, registry } = dispatcher(db.sql, { maxAttempts: 2 }, log);
    const batches: string[][] = [];
    const single: string[] = [];
    events.subscribe({
      name: 'batched',
      types: ['account.profile_changed'],
      handle: async (e) => {
        if (e.payload.userId === '@bad:x') throw new Error('cannot handle this one');
        single.push(e.payload.userId);
      },
      handleBatch: async (es) => {
        batches.push(es.map((e) => e.payload.userId));
        if (es.some((e) => e.payload.userId === '@bad:x')) throw new Error('a bad one in the batch');
      },
    });
    await events.start();
    // Published in one transaction, they become visible together and are handed over together.
    const [, , last] = await publish(events, '@a:x', '@b:x', '@c:x');
    await eventually(async () => (await events.consumerStatus('batched'))?.position === last, 'the three to be handled');
    expect(batches).toEqual([['@a:x', '@b:x', '@c:x']]);
    expect(single).toEqual([]);

    // A batch holding an event that fails: the others are handled one by one, the bad one parked alone.
    const [, bad, after] = await publish(events, '@d:x', '@bad:x', '@e:x');
    await eventually(async () => (await events.consumerStatus('batched'))?.position === after, 'the batch with a bad event');
    expect(batches.at(-1)).toEqual(['@d:x', '@bad:x', '@e:x']);
    expect(single.slice(-2)).toEqual(['@d:x', '@e:x']);
    expect((await events.deadLetters('batched')).map((d) => d.eventId)).toEqual([bad]);
    expect(lines.some((l) => l.consumer === 'batched' && String(l.msg).includes('one by one'))).toBe(true);
    expect(await metric(registry, 'commcomms_domain_event_batch_fallbacks_total', { consumer: 'batched' })).toBe(1);
  });
});

describe('several dispatchers on one database', () => {
  it('deliver each event to a consumer once, and hand the consumer over when its owner stops', async () => {
    const other = await openAnother();
    const a = dispatcher(db.sql).events;
    const b = dispatcher(other?.sql ?? db.sql).events;
    const deliveries: Array<{ by: 'a' | 'b'; id: number }> = [];
    for (const [by, events] of [
      ['a', a],
      ['b', b],
    ] as const) {
      events.subscribe({
        name: 'shared',
        types: ['account.profile_changed'],
        handle: async (e) => {
          deliveries.push({ by, id: e.id });
          await new Promise((r) => setTimeout(r, 5));
        },
      });
    }
    await Promise.all([a.start(), b.start()]);
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) ids.push(...(await publish(i % 2 ? a : b, `@shared${i}:x`)));
    await eventually(() => deliveries.length >= 10, 'ten deliveries');
    const owner = deliveries[0]!.by;
    expect(deliveries.every((d) => d.by === owner)).toBe(true);

    // The owner stops and hands its lease back; the other dispatcher carries on.
    await (owner === 'a' ? a : b).stop();
    const successor = owner === 'a' ? b : a;
    for (let i = 10; i < 15; i++) ids.push(...(await publish(successor, `@shared${i}:x`)));
    await eventually(() => deliveries.length >= 15, 'fifteen deliveries');
    await new Promise((r) => setTimeout(r, 200));
    expect(deliveries.map((d) => d.id)).toEqual(ids);
    expect(deliveries.slice(10).every((d) => d.by !== owner)).toBe(true);
  });
});

describe('pruning', () => {
  it('deletes outbox rows only once every consumer is past them', async () => {
    const own = await freshDatabase();
    const { events, registry } = dispatcher(own.db.sql);
    const fast: number[] = [];
    const slow: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let slowStarted = false;
    events.subscribe({ name: 'fast', types: ['account.profile_changed'], handle: async (e) => void fast.push(e.id) });
    events.subscribe({
      name: 'slow',
      types: ['account.profile_changed'],
      handle: async (e) => {
        slowStarted = true;
        await gate;
        slow.push(e.id);
      },
    });
    await events.start();
    const ids = await transaction(own.db.sql, async (tx) => {
      const out: number[] = [];
      for (const u of ['@p1:x', '@p2:x', '@p3:x']) out.push(await events.publish(tx, marker(u)));
      return out;
    });
    const outboxRows = async () => (await own.db.sql<{ n: number }[]>`select count(*)::int as n from domain_event_outbox`)[0]!.n;
    await eventually(() => fast.length === 3 && slowStarted, 'the fast consumer, and the slow one to start');
    // The slow consumer is still on its first event: its lag shows, and nothing is pruned.
    expect(await metric(registry, 'commcomms_domain_event_consumer_lag', { consumer: 'slow' })).toBe(3);
    expect(await events.prune()).toBe(0);
    expect(await outboxRows()).toBe(3);

    release();
    await eventually(async () => (await events.consumerStatus('slow'))?.position === ids[2], 'the slow consumer');
    expect(slow).toEqual(ids);
    expect(await events.prune()).toBe(3);
    expect(await outboxRows()).toBe(0);

    // An empty outbox keeps positions: the next event is delivered once.
    const [next] = await transaction(own.db.sql, async (tx) => [await events.publish(tx, marker('@p4:x'))]);
    await eventually(() => fast.length === 4 && slow.length === 4, 'the event after pruning');
    expect(fast.at(-1)).toBe(next);
    await eventually(async () => (await metric(registry, 'commcomms_domain_event_consumer_lag', { consumer: 'fast' })) === 0, 'no lag');
  });
});
