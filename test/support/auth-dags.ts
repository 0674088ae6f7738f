/**
 * Auth DAGs for the auth-chain index tests and benchmark: a random DAG
 * (seeded, so a failure replays) and a room-shaped one (memberships, power
 * level changes, a fork into two branches), both as events in topological
 * order plus a fetcher for the in-memory walk in federation/state-res.
 */
import type { Pdu } from '../../federation/events/pdu.ts';
import type { EventToIndex } from '../../federation/state-res/chain-cover.ts';

/** mulberry32: small, fast, good enough to pick random edges. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface AuthDag {
  events: EventToIndex[];
  fetch: (id: string) => Pdu | undefined;
}

export function dagOf(events: EventToIndex[]): AuthDag {
  const byId = new Map(events.map((e) => [e.eventId, e]));
  const fetch = (id: string): Pdu | undefined => {
    const e = byId.get(id);
    // Only auth_events matter to the walk; the rest is filler.
    return e ? ({ event_id: id, auth_events: [...e.authEventIds] } as unknown as Pdu) : undefined;
  };
  return { events, fetch };
}

/**
 * `n` events, each citing up to `maxAuth` random earlier state events; one in
 * `nonStateEvery` is not a state event. Keys repeat so same-key chains form,
 * and two events of one key may cite the same predecessor (forks).
 */
export function randomDag(seed: number, n: number, opts: { maxAuth?: number; keys?: number; nonStateEvery?: number } = {}): AuthDag {
  const rand = prng(seed);
  const maxAuth = opts.maxAuth ?? 4;
  const keys = opts.keys ?? 12;
  const nonStateEvery = opts.nonStateEvery ?? 7;
  const events: EventToIndex[] = [];
  const state: string[] = [];
  const lastOfKey = new Map<number, string>();
  for (let i = 0; i < n; i++) {
    const eventId = `$r${seed}_${i}`;
    const isState = i === 0 || i % nonStateEvery !== 0;
    const key = Math.floor(rand() * keys);
    const auth = new Set<string>();
    if (state.length > 0) {
      // Usually cite the key's latest event (a chain to extend), sometimes an older one (a fork).
      const last = lastOfKey.get(key);
      if (last && rand() < 0.8) auth.add(last);
      const extra = Math.floor(rand() * maxAuth);
      for (let k = 0; k < extra; k++) auth.add(state[Math.floor(rand() * state.length)]!);
      if (auth.size === 0) auth.add(state[Math.floor(rand() * state.length)]!);
    }
    events.push({ eventId, authEventIds: [...auth], isState, type: 't', stateKey: String(key) });
    if (isState) {
      state.push(eventId);
      lastOfKey.set(key, eventId);
    }
  }
  return dagOf(events);
}

/** A room-shaped DAG and the current state (latest event per key) of its two branches. */
export interface ForkedRoom extends AuthDag {
  branches: [string[], string[]];
  powerLevelChanges: number;
}

/**
 * A room of about `total` events: joins, leaves and rejoins of `users`
 * users, `plChanges` power level changes by the first `admins` users, and
 * messages (non-state). The last `forkShare` of the events is split into two
 * branches that do not see each other, as two servers during a netsplit.
 */
export function forkedRoom(
  seed: number,
  opts: { total: number; users: number; plChanges: number; admins?: number; forkShare?: number },
): ForkedRoom {
  const rand = prng(seed);
  const admins = opts.admins ?? 10;
  const forkAt = Math.floor(opts.total * (1 - (opts.forkShare ?? 0.2)));
  const events: EventToIndex[] = [];
  let counter = 0;
  let plChanges = 0;
  const add = (branch: string, type: string, stateKey: string | undefined, auth: (string | undefined)[]): string => {
    const eventId = `$${branch}${counter++}`;
    const authEventIds = [...new Set(auth.filter((a): a is string => a !== undefined))];
    events.push(
      stateKey === undefined ? { eventId, authEventIds, isState: false } : { eventId, authEventIds, isState: true, type, stateKey },
    );
    return eventId;
  };

  type State = Map<string, string>; // "type|state_key" -> event id
  const create = add('c', 'm.room.create', '', []);
  const common: State = new Map([['m.room.create|', create]]);
  const member = (s: State, u: number) => s.get(`m.room.member|@u${u}`);
  const step = (s: State, branch: string): void => {
    const pl = s.get('m.room.power_levels|');
    const jr = s.get('m.room.join_rules|');
    const r = rand();
    if (!pl) {
      s.set('m.room.member|@u0', add(branch, 'm.room.member', '@u0', [create]));
      s.set('m.room.power_levels|', add(branch, 'm.room.power_levels', '', [create, member(s, 0)]));
      s.set('m.room.join_rules|', add(branch, 'm.room.join_rules', '', [create, s.get('m.room.power_levels|'), member(s, 0)]));
      return;
    }
    const spreadPl = opts.plChanges / opts.total;
    if (r < spreadPl) {
      // An admin who never joined leaves the change to the creator.
      const admin = Math.floor(rand() * admins);
      const sender = member(s, admin) ?? member(s, 0);
      s.set('m.room.power_levels|', add(branch, 'm.room.power_levels', '', [create, pl, sender]));
      plChanges++;
    } else if (r < spreadPl + 0.6) {
      // A join, leave or rejoin of a random user.
      const u = Math.floor(rand() * opts.users);
      s.set(`m.room.member|@u${u}`, add(branch, 'm.room.member', `@u${u}`, [create, pl, jr, member(s, u)]));
    } else {
      const joined = [...s.keys()].filter((k) => k.startsWith('m.room.member|'));
      const sender = s.get(joined[Math.floor(rand() * joined.length)]!);
      add(branch, 'm.room.message', undefined, [create, pl, sender]);
    }
  };
  while (counter < forkAt) step(common, 'a');
  const a: State = new Map(common);
  const b: State = new Map(common);
  const half = Math.floor((opts.total - forkAt) / 2);
  for (let i = 0; i < half; i++) {
    step(a, 'a');
    step(b, 'b');
  }
  return { ...dagOf(events), branches: [[...a.values()], [...b.values()]], powerLevelChanges: plChanges };
}
