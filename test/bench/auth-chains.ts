/**
 * `npx tsx test/bench/auth-chains.ts [postgres-admin-url|pglite] [users]`: the auth-chain
 * index against the in-memory walk of federation/state-res, on a synthetic
 * room (about 10,000 events, about 200 power level changes, forked in two
 * branches at 80%). Without a URL it runs on a throwaway PGlite. Fewer
 * users means more membership churn per user, so longer auth chains. Prints
 * medians of several runs; the walk is timed with every event already in
 * memory (its best case) and with its edges loaded from the database first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import postgres from 'postgres';
import { authDifference as walkDifference, fullAuthChain } from '../../federation/state-res/auth-chain.ts';
import type { Pdu } from '../../federation/events/pdu.ts';
import { openDatabase } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { transaction } from '../../server/db/transaction.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';
import { authChainIds, authDifference, indexAuthChains } from '../../server/rooms/storage/auth-chains.ts';
import { forkedRoom } from '../support/auth-dags.ts';

const log = pino({ level: 'silent' });
const admin = process.argv[2] === 'pglite' ? undefined : process.argv[2];
const users = Number(process.argv[3] ?? 2_000);
const RUNS = 7;

async function median(fn: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

const dataDir = mkdtempSync(join(tmpdir(), 'commcomms-authchain-bench-'));
const dbName = `cc_bench_authchain_${process.pid}`;
let url: string | null = null;
if (admin) {
  const s = postgres(admin, { max: 1, onnotice: () => {} });
  await s.unsafe(`create database ${dbName}`);
  await s.end();
  const u = new URL(admin);
  u.pathname = `/${dbName}`;
  url = u.toString();
}
const db = await openDatabase({ url, maxConnections: 2, dataDir, log });
try {
  await migrate(db.sql, readMigrations(MIGRATIONS_DIR), log);
  const room = forkedRoom(42, { total: 10_000, users, plChanges: 220, admins: 10 });
  const roomId = '!bench:test';
  const stateEvents = room.events.filter((e) => e.isState).length;

  const t = performance.now();
  for (let i = 0; i < room.events.length; i += 1) {
    // One event per transaction, as the persister will call it.
    await transaction(db.sql, (tx) => indexAuthChains(tx, roomId, room.events.slice(i, i + 1)));
  }
  const indexOneByOne = performance.now() - t;
  const [counts] = await db.sql<{ chains: number; reach: number; edges: number }[]>`
    select (select count(distinct chain_id) from event_auth_chain_positions)::bigint as chains,
           (select count(*) from event_auth_chain_reach)::bigint as reach,
           (select count(*) from event_auth_edges)::bigint as edges`;

  const sets = room.branches;
  const viaIndex = {
    n: (await transaction(db.sql, (tx) => authDifference(tx, sets))).size,
    ms: await median(() => transaction(db.sql, (tx) => authDifference(tx, sets))),
  };
  const chainMs = await median(() => transaction(db.sql, (tx) => authChainIds(tx, sets[0])));

  const walkMs = await median(() => walkDifference(sets.map((s) => fullAuthChain(s, room.fetch))));
  const walkN = walkDifference(sets.map((s) => fullAuthChain(s, room.fetch))).size;
  const loadAndWalkMs = await median(async () => {
    const rows = await db.sql<
      { event_id: string; auth_id: string }[]
    >`select event_id, auth_id from event_auth_edges where room_id = ${roomId}`;
    const auth = new Map<string, string[]>();
    for (const r of rows) (auth.get(r.event_id) ?? auth.set(r.event_id, []).get(r.event_id)!).push(r.auth_id);
    const fetch = (id: string) => ({ auth_events: auth.get(id) ?? [] }) as unknown as Pdu;
    return walkDifference(sets.map((s) => fullAuthChain(s, fetch)));
  });

  const walked = sets.map((s) => fullAuthChain(s, room.fetch).size);
  if (viaIndex.n !== walkN) throw new Error(`index and walk disagree: ${viaIndex.n} vs ${walkN}`);
  console.log(
    [
      `engine: ${db.engine}`,
      `room: ${room.events.length} events, ${stateEvents} state, ${users} users, ${room.powerLevelChanges} power level changes; state sets of ${sets[0].length} and ${sets[1].length} events, full auth chains of ${walked.join(' and ')}`,
      `index: ${counts!.chains} chains, ${counts!.reach} reach rows, ${counts!.edges} edges; indexing one event per transaction ${(indexOneByOne / room.events.length).toFixed(2)} ms/event`,
      `auth difference (${walkN} events): index ${viaIndex.ms.toFixed(1)} ms; in-memory walk ${walkMs.toFixed(1)} ms (all events in memory), ${loadAndWalkMs.toFixed(1)} ms (edges loaded from the database first)`,
      `authChainIds(state set of branch a): ${chainMs.toFixed(1)} ms`,
    ].join('\n'),
  );
} finally {
  await db.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (admin) {
    const s = postgres(admin, { max: 1, onnotice: () => {} });
    await s.unsafe(`drop database if exists ${dbName} with (force)`);
    await s.end();
  }
}
