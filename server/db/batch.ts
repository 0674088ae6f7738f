import DataLoader from 'dataloader';
import type { Sql, Tx } from './database.ts';

/** Keys per query: large enough for a big account (or a room's waiters) in one round trip, small enough to keep each query quick. */
const MAX_BATCH = 1_000;

/**
 * A loader without a cache whose batch function sees each distinct key (by `keyOf`) once: the
 * reads asked in one turn of the event loop go to the database as one query, and identical ones
 * (the passes one event woke, reading the same room over the same window) are read once. The
 * batch waits for the loop's check phase (setImmediate), not the next microtask, so the requests
 * parsed in one poll phase (the re-polls of the clients one event answered) share it too. Nothing
 * is kept, so a later turn reads afresh.
 */
export function batchLoader<K, V>(keyOf: (k: K) => string, read: (keys: K[]) => Promise<V[]>): DataLoader<K, V> {
  return new DataLoader<K, V>(
    async (keys) => {
      // Each key's string once: a pass asks for thousands.
      const ids = keys.map(keyOf);
      const slot = new Map<string, number>();
      const distinct: K[] = [];
      ids.forEach((id, i) => {
        if (!slot.has(id)) {
          slot.set(id, distinct.length);
          distinct.push(keys[i]!);
        }
      });
      const values = await read(distinct);
      return ids.map((id) => values[slot.get(id)!] as V);
    },
    { cache: false, maxBatchSize: MAX_BATCH, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
  );
}

/** The values of a `loadMany`, throwing the first failure. */
export function allOrThrow<V>(values: (V | Error)[]): V[] {
  for (const v of values) if (v instanceof Error) throw v;
  return values as V[];
}

/** The one row (or none) answering each key, by its index (1-based, from `with ordinality`), without the index. */
export function oneByKeyIndex<R extends { i: number }>(keys: number, rows: readonly R[]): (Omit<R, 'i'> | undefined)[] {
  const out = Array.from({ length: keys }, (): Omit<R, 'i'> | undefined => undefined);
  for (const { i, ...row } of rows) out[i - 1] = row;
  return out;
}

/** Groups rows by the index (1-based, from `with ordinality`) of the key they answer, in key order. */
export function byKeyIndex<R extends { i: number }>(keys: number, rows: readonly R[]): R[][] {
  const out = Array.from({ length: keys }, (): R[] => []);
  for (const r of rows) out[r.i - 1]!.push(r);
  return out;
}

/**
 * How a component runs its keyed reads (each written once, as a query over many keys): `direct`,
 * every call its own query in the caller's transaction; `batchedOn(sql)`, the calls of one tick
 * as one query on the pool, outside any transaction, which is how /sync reads.
 */
export interface KeyedReads {
  one<K, V>(keyOf: (k: K) => string, read: (tx: Tx, keys: K[]) => Promise<V[]>): (tx: Tx, key: K) => Promise<V>;
  many<K, V>(keyOf: (k: K) => string, read: (tx: Tx, keys: K[]) => Promise<V[]>): (tx: Tx, keys: readonly K[]) => Promise<V[]>;
}

export const direct: KeyedReads = {
  one: (_keyOf, read) => async (tx, key) => (await read(tx, [key]))[0]!,
  many: (_keyOf, read) => (tx, keys) => read(tx, [...keys]),
};

export function batchedOn(sql: Sql): KeyedReads {
  return {
    one(keyOf, read) {
      const l = batchLoader(keyOf, (keys) => read(sql, keys));
      return (_tx, key) => l.load(key);
    },
    many(keyOf, read) {
      const l = batchLoader(keyOf, (keys) => read(sql, keys));
      return async (_tx, keys) => allOrThrow(await l.loadMany(keys));
    },
  };
}
