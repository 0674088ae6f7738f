import { randomUUID } from 'node:crypto';
import type { Pdu, StateMap } from '../../../federation/events/pdu.ts';
import { stateKey } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';
import { Lru } from '../../cache/index.ts';
import type { Bus } from '../../redis/bus.ts';
import { eventsEach, type StoredEvent } from '../storage/events.ts';
import { loadStateGroup, type StateEntry } from '../storage/state.ts';

const EVENT_CHANGED = 'event-changed';
/** A process evicted what an EVENT_CHANGED named: the message's nonce. */
const EVENT_EVICTED = 'event-evicted';
/** How long a redaction waits for Redis to pass its eviction on before the write returns anyway. */
const PUBLISH_WAIT_MS = 2_000;
const PUBLISH_RETRIES = 5;

async function publishWithRetry(bus: Bus, message: unknown, onError?: (err: unknown) => void): Promise<number | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await bus.publish(EVENT_CHANGED, message);
    } catch (err) {
      if (attempt + 1 >= PUBLISH_RETRIES) {
        onError?.(err);
        return undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
  }
}

export interface RoomStateOptions {
  /**
   * Several processes: an event one of them redacts is evicted from every
   * process's cache (published after commit), and a process whose subscription
   * reconnected, having perhaps missed such messages, empties its cache.
   */
  bus?: Bus;
  onError?: (err: unknown) => void;
}

/** A room state with its events loaded: what the auth rules and visibility checks read. */
export interface LoadedState {
  ids: StateMap;
  get(type: string, key: string): Pdu | undefined;
  events(): Pdu[];
}

/** Where the caches' misses are read: each call its own query, or the loaders of a /sync tick. */
export interface StorageFetch {
  /** Each event by id, in the order asked (undefined where none is stored). */
  events(tx: Tx, ids: readonly string[]): Promise<(StoredEvent | undefined)[]>;
  stateGroup(tx: Tx, groupId: number): Promise<StateEntry[]>;
}

const directFetch: StorageFetch = { events: eventsEach, stateGroup: loadStateGroup };

/** Events and state through the caches. */
export interface CachedReads {
  loadEvents(tx: Tx, ids: readonly string[]): Promise<Map<string, StoredEvent>>;
  loadEvent(tx: Tx, id: string): Promise<StoredEvent | undefined>;
  stateIds(tx: Tx, groupId: number | null): Promise<StateMap>;
  loadState(tx: Tx, groupId: number | null): Promise<LoadedState>;
}

/**
 * Reads events and state groups through caches. State groups never change;
 * events change only when redacted, and the writer evicts them then (in every
 * process, through `opts.bus`).
 */
export function createRoomState(opts: RoomStateOptions = {}) {
  const groups = new Lru<number, StateMap>(5_000);
  const events = new Lru<string, StoredEvent>(50_000);
  // Bumped by every eviction: a read that began before one may hold the old copy,
  // so what it read is returned but not cached.
  let generation = 0;

  function evict(ids: readonly string[] | 'all'): void {
    generation += 1;
    if (ids === 'all') events.clear();
    else for (const id of ids) events.delete(id);
  }

  const { bus } = opts;
  // Evictions this process sent, by nonce: the acknowledgements still awaited from the others.
  const awaiting = new Map<string, { acks: number; expected: number | undefined; done: () => void }>();
  // Until the subscription is up (and whenever it is down), an eviction sent by
  // another process could go unheard: the cache is then neither read nor filled.
  let subscribed = bus === undefined;
  if (bus) {
    bus.onReconnect(() => evict('all'));
    const heard = (message: unknown) => {
      // { ids, nonce } asks for an acknowledgement once evicted; a bare list (an older process) does not.
      const m =
        message && typeof message === 'object' && !Array.isArray(message) ? (message as { ids?: unknown; nonce?: unknown }) : undefined;
      const ids = m ? m.ids : message;
      evict(Array.isArray(ids) ? ids.filter((i): i is string => typeof i === 'string') : 'all');
      if (typeof m?.nonce === 'string') bus.publish(EVENT_EVICTED, m.nonce).catch((err: unknown) => opts.onError?.(err));
    };
    const acknowledged = (nonce: unknown) => {
      const w = typeof nonce === 'string' ? awaiting.get(nonce) : undefined;
      if (!w) return;
      w.acks += 1;
      if (w.expected !== undefined && w.acks >= w.expected) w.done();
    };
    Promise.all([bus.subscribe(EVENT_CHANGED, heard), bus.subscribe(EVENT_EVICTED, acknowledged)])
      .then(() => {
        evict('all');
        subscribed = true;
      })
      .catch((err) => opts.onError?.(err));
  }
  function cacheUsable(): boolean {
    if (bus === undefined) return true;
    if (subscribed && bus.live()) return true;
    evict('all');
    return false;
  }

  /**
   * After commit: an event changed (was redacted) here. It is evicted here, and the
   * write does not return until every other process has evicted it too (each says so
   * on EVENT_EVICTED; Redis tells how many subscribers it handed the message to), so a
   * client told "redacted" never reads the old copy from another process. Redis handing
   * a message on is not enough: the other process may not have read it yet when the
   * client's next request reaches it. Redis or a process being slow must not hold a
   * write for long, though: past PUBLISH_WAIT_MS the write returns anyway.
   */
  async function changed(eventIds: readonly string[]): Promise<void> {
    evict(eventIds);
    if (!bus) return;
    const nonce = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const evicted = new Promise<void>((resolve) => {
      awaiting.set(nonce, { acks: 0, expected: undefined, done: resolve });
      timer = setTimeout(resolve, PUBLISH_WAIT_MS);
    });
    try {
      const receivers = await Promise.race([publishWithRetry(bus, { ids: eventIds, nonce }, opts.onError), evicted.then(() => undefined)]);
      const w = awaiting.get(nonce);
      // Every subscriber but this process's own acknowledges (some may have already).
      if (w && receivers !== undefined) {
        w.expected = receivers - 1;
        if (w.acks >= w.expected) w.done();
      }
      await evicted;
    } finally {
      clearTimeout(timer);
      awaiting.delete(nonce);
    }
  }

  /** The cached reads, their misses read through `fetch`. */
  function via(fetch: StorageFetch): CachedReads {
    async function loadEvents(tx: Tx, ids: readonly string[]): Promise<Map<string, StoredEvent>> {
      const out = new Map<string, StoredEvent>();
      const usable = cacheUsable();
      const missing: string[] = [];
      for (const id of ids) {
        const e = usable ? events.get(id) : undefined;
        if (e) out.set(id, e);
        else missing.push(id);
      }
      if (missing.length > 0) {
        const before = generation;
        (await fetch.events(tx, missing)).forEach((e, i) => {
          if (!e) return;
          if (usable && generation === before) events.set(missing[i]!, e);
          out.set(missing[i]!, e);
        });
      }
      return out;
    }

    async function stateIds(tx: Tx, groupId: number | null): Promise<StateMap> {
      if (groupId === null) return new Map();
      let ids = groups.get(groupId);
      if (!ids) {
        ids = new Map((await fetch.stateGroup(tx, groupId)).map((e) => [stateKey(e.type, e.state_key), e.event_id]));
        groups.set(groupId, ids);
      }
      return ids;
    }

    async function loadState(tx: Tx, groupId: number | null): Promise<LoadedState> {
      const ids = await stateIds(tx, groupId);
      const loaded = await loadEvents(tx, [...ids.values()]);
      return {
        ids,
        get: (type, key) => {
          const id = ids.get(stateKey(type, key));
          return id === undefined ? undefined : loaded.get(id)?.pdu;
        },
        events: () => [...ids.values()].flatMap((id) => loaded.get(id)?.pdu ?? []),
      };
    }

    return {
      loadEvents,
      async loadEvent(tx, id) {
        // The common case, a hit, without building the arrays and map of a batch.
        const hit = cacheUsable() ? events.get(id) : undefined;
        return hit ?? (await loadEvents(tx, [id])).get(id);
      },
      stateIds,
      loadState,
    };
  }

  return {
    ...via(directFetch),
    via,
    /**
     * A committed event. A redaction also changes its target: the writer evicted
     * it before commit (`forget`), and it is evicted again now, here and in the
     * other processes, so no read that raced the commit keeps the unredacted copy.
     */
    async remember(e: StoredEvent): Promise<void> {
      if (cacheUsable()) events.set(e.pdu.event_id, e);
      if (e.pdu.type !== 'm.room.redaction') return;
      const target = typeof e.pdu.redacts === 'string' ? e.pdu.redacts : e.pdu.content.redacts;
      if (typeof target === 'string') await changed([target]);
    },
    forget: (eventId: string) => evict([eventId]),
  };
}

export type RoomState = ReturnType<typeof createRoomState>;
