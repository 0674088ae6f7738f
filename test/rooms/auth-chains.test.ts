import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authChainUnion, authDifference as walkDifference, fullAuthChain } from '../../federation/state-res/auth-chain.ts';
import { loadConfig } from '../../server/config/load.ts';
import { openDatabase, type Database } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { transaction } from '../../server/db/transaction.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';
import {
  AuthChainIndexError,
  authChainIds,
  authDifference,
  indexAuthChains,
  type EventToIndex,
} from '../../server/rooms/storage/auth-chains.ts';
import { dagOf, forkedRoom, prng, randomDag, type AuthDag } from '../support/auth-dags.ts';
import { writeTestConfig } from '../support/homeserver.ts';

/**
 * The auth-chain index against the in-memory walk of federation/state-res,
 * on both engines: hand-built DAGs, then random and room-shaped ones.
 */
const log = pino({ level: 'silent' });
let db: Database;
let dropDb: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const written = await writeTestConfig();
  dropDb = written.dropDb;
  const config = loadConfig({ configPath: written.configPath, env: {} });
  db = await openDatabase({ url: config.database.url, maxConnections: 2, dataDir: config.data_dir, log });
  await migrate(db.sql, readMigrations(MIGRATIONS_DIR), log);
});
afterAll(async () => {
  await db?.close();
  await dropDb?.();
});

let rooms = 0;
const newRoom = () => `!r${++rooms}:test`;

async function index(roomId: string, events: EventToIndex[], batch = events.length): Promise<void> {
  for (let i = 0; i < events.length; i += batch) {
    await transaction(db.sql, (tx) => indexAuthChains(tx, roomId, events.slice(i, i + batch)));
  }
}
const chainOf = (ids: string[]) => transaction(db.sql, (tx) => authChainIds(tx, ids));
const differenceOf = (sets: string[][]) => transaction(db.sql, (tx) => authDifference(tx, sets));
const sorted = (s: Iterable<string>) => [...s].sort();

/** Both queries agree with the walk for these starting sets and state sets. */
async function expectLikeWalk(dag: AuthDag, starts: string[][], stateSets: string[][][]): Promise<void> {
  for (const ids of starts)
    expect(sorted(await chainOf(ids)), `auth chain of ${ids.join(',')}`).toEqual(sorted(authChainUnion(ids, dag.fetch)));
  for (const sets of stateSets) {
    const want = walkDifference(sets.map((s) => fullAuthChain(s, dag.fetch)));
    expect(sorted(await differenceOf(sets)), `difference of ${JSON.stringify(sets)}`).toEqual(sorted(want));
  }
}

/**
 * name -> [auth names, key]; every event a state event unless its key is null.
 * Event ids are global, so each DAG's ids carry a prefix of their own.
 */
function hand(prefix: string, spec: Array<[string, string[], (string | null)?]>): AuthDag {
  const id = (name: string) => `${prefix}${name}`;
  return dagOf(
    spec.map(([name, auth, key]) => {
      const e = { eventId: id(name), authEventIds: auth.map(id) };
      return key === null ? { ...e, isState: false } : { ...e, isState: true, type: 't', stateKey: key ?? name };
    }),
  );
}
const unprefix = (prefix: string, ids: Iterable<string>) => sorted([...ids].map((i) => i.slice(prefix.length)));

describe('auth-chain index: hand-built DAGs', () => {
  it.each([
    {
      name: 'a linear chain',
      dag: (p: string) =>
        hand(p, [
          ['create', []],
          ['pl1', ['create'], 'pl'],
          ['pl2', ['create', 'pl1'], 'pl'],
          ['pl3', ['create', 'pl2'], 'pl'],
        ]),
      chains: { pl3: ['create', 'pl1', 'pl2'], pl1: ['create'], create: [] },
      difference: { sets: [['pl1'], ['pl3']], want: ['pl2', 'pl3'] },
    },
    {
      name: 'a fork into two power level branches',
      dag: (p: string) =>
        hand(p, [
          ['create', []],
          ['alice', ['create'], '@alice'],
          ['pl1', ['create', 'alice'], 'pl'],
          ['bob', ['create', 'pl1'], '@bob'],
          ['plA', ['create', 'pl1', 'alice'], 'pl'],
          ['plB', ['create', 'pl1', 'bob'], 'pl'],
        ]),
      chains: { plA: ['alice', 'create', 'pl1'], plB: ['alice', 'bob', 'create', 'pl1'] },
      difference: {
        sets: [
          ['plA', 'alice'],
          ['plB', 'bob', 'alice'],
        ],
        want: ['bob', 'plA', 'plB'],
      },
    },
    {
      name: 'a merge of two branches',
      dag: (p: string) =>
        hand(p, [
          ['create', []],
          ['pl1', ['create'], 'pl'],
          ['plA', ['create', 'pl1'], 'pl'],
          ['plB', ['create', 'pl1'], 'pl'],
          ['jr', ['create', 'plA', 'plB']],
          ['m', ['create', 'jr', 'plB'], '@m'],
        ]),
      chains: { m: ['create', 'jr', 'pl1', 'plA', 'plB'], jr: ['create', 'pl1', 'plA', 'plB'] },
      difference: { sets: [['plA'], ['m']], want: ['jr', 'm', 'plB'] },
    },
    {
      name: 'events with several auth events, and a message',
      dag: (p: string) =>
        hand(p, [
          ['create', []],
          ['a', ['create']],
          ['b', ['create']],
          ['c', ['create']],
          ['abc', ['a', 'b', 'c']],
          ['ab', ['a', 'b']],
          ['msg', ['abc', 'ab', 'create'], null],
        ]),
      // c is a starting event no other starting event reaches: not in the chain.
      chains: { msg: ['a', 'ab', 'abc', 'b', 'c', 'create'], abc: ['a', 'b', 'c', 'create'], 'ab,c': ['a', 'b', 'create'] },
      difference: { sets: [['abc'], ['ab'], ['c']], want: ['a', 'ab', 'abc', 'b', 'c'] },
    },
  ])('$name', async ({ dag: build, chains, difference }) => {
    const room = newRoom();
    const p = `${room}/`;
    const dag = build(p);
    const ids = (names: string[]) => names.map((n) => `${p}${n}`);
    await index(room, dag.events, 2);
    for (const [names, want] of Object.entries(chains)) expect(unprefix(p, await chainOf(ids(names.split(','))))).toEqual(want);
    const sets = difference.sets.map(ids);
    expect(unprefix(p, await differenceOf(sets))).toEqual(difference.want);
    await expectLikeWalk(
      dag,
      dag.events.map((e) => [e.eventId]),
      [sets, [[], sets[0]!], [sets[0]!], [sets[0]!, sets[0]!]],
    );
  });
});

describe('auth-chain index: refusals and repeats', () => {
  const dag = (p: string) =>
    hand(p, [
      ['create', []],
      ['pl', ['create']],
      ['msg', ['create', 'pl'], null],
    ]);

  it('an event whose auth event is unknown throws, and writes nothing', async () => {
    await expect(index(newRoom(), [{ eventId: '$orphan', authEventIds: ['$nowhere'], isState: true }])).rejects.toThrow(
      AuthChainIndexError,
    );
    await expect(chainOf(['$orphan'])).rejects.toThrow(/not in the auth-chain index/);
  });

  it('queries name the events the index does not hold', async () => {
    const room = newRoom();
    await index(room, dag(room).events);
    await expect(chainOf([`${room}pl`, '$never'])).rejects.toThrow(/not in the auth-chain index: \$never/);
    await expect(differenceOf([[`${room}pl`], ['$never']])).rejects.toThrow(/not indexed state events: \$never/);
    await expect(differenceOf([[`${room}pl`], [`${room}msg`]])).rejects.toThrow(AuthChainIndexError);
  });

  it('a message cannot be an auth event, nor an event of another room', async () => {
    const room = newRoom();
    await index(room, dag(room).events);
    await expect(index(room, [{ eventId: '$x', authEventIds: [`${room}msg`], isState: true }])).rejects.toThrow(/not indexed/);
    await expect(index(newRoom(), [{ eventId: '$y', authEventIds: [`${room}pl`], isState: true }])).rejects.toThrow(/belongs to/);
  });

  it('indexing the same events again is a no-op', async () => {
    const room = newRoom();
    const { events } = dag(room);
    await index(room, events);
    const count = () =>
      db.sql<{ n: number }[]>`select (select count(*) from event_auth_edges) + (select count(*) from event_auth_chain_positions)
                                   + (select count(*) from event_auth_chain_reach) as n`.then((r) => Number(r[0]!.n));
    const before = await count();
    await index(room, events);
    await index(room, [events[2]!, events[2]!]);
    expect(await count()).toBe(before);
    expect(unprefix(room, await chainOf([`${room}msg`]))).toEqual(['create', 'pl']);
  });
});

describe('auth-chain index: generated DAGs against the walk', () => {
  it.each([11, 12])('a random DAG of 300 events (seed %i)', async (seed) => {
    const dag = randomDag(seed, 300);
    await index(newRoom(), dag.events, 37);
    const rand = prng(seed * 7);
    const state = dag.events.filter((e) => e.isState).map((e) => e.eventId);
    const pick = (n: number) => Array.from({ length: n }, () => state[Math.floor(rand() * state.length)]!);
    const starts = [...dag.events.map((e) => [e.eventId]), ...Array.from({ length: 20 }, () => pick(3))];
    // Half the state sets share a common part, as unconflicted state does.
    const stateSets = Array.from({ length: 30 }, (_, i) => {
      const common = i % 2 === 0 ? pick(5) : [];
      return Array.from({ length: 2 + (i % 3) }, () => [...common, ...pick(1 + Math.floor(rand() * 8))]);
    });
    await expectLikeWalk(dag, starts, stateSets);
  });

  it('a forked room: the difference of the two branches', async () => {
    const room = forkedRoom(3, { total: 2000, users: 150, plChanges: 40 });
    await index(newRoom(), room.events, 500);
    await expectLikeWalk(room, [room.branches[0], room.branches[1]], [room.branches]);
  });
});
