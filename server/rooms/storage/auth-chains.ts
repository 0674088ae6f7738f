/**
 * SQL for the auth-chain index (migration 000004): auth edges of every event
 * and a chain cover of the state events. service/chain-cover.ts explains the
 * cover and why it is shaped this way; here is only loading and writing it.
 *
 * The reach of an event at (c, n) is, per target chain, the greatest
 * target_seq over event_auth_chain_reach rows of chain c with seq <= n, plus
 * (c, 1..n-1) itself. Every query below expands a set of positions that way
 * in one statement: no recursion, no walk in TypeScript.
 */
import type { Tx } from '../../db/database.ts';
import { AuthChainIndexError, planChainCover, type EventToIndex, type IndexedEvent } from '../service/chain-cover.ts';

export { AuthChainIndexError, type EventToIndex } from '../service/chain-cover.ts';

/**
 * Indexes `events` of `roomId`, in the caller's transaction (the one inserting
 * them; writes to a room are serialised, which chain tips rely on). Events
 * come in topological order; an auth event that is neither indexed earlier
 * nor earlier in `events` throws AuthChainIndexError, as does a non-state or
 * other-room auth event. Events already indexed are skipped: event ids name
 * their content, so indexing one twice is a no-op.
 */
export async function indexAuthChains(tx: Tx, roomId: string, events: readonly EventToIndex[]): Promise<void> {
  if (events.length === 0) return;
  const ids = [...new Set(events.map((e) => e.eventId))];
  const done = await tx<{ event_id: string }[]>`
    select event_id from event_auth_chain_positions where event_id = any(${ids}::text[])
    union
    select event_id from event_auth_edges where event_id = any(${ids}::text[])`;
  const skip = new Set(done.map((r) => r.event_id));
  const fresh: EventToIndex[] = [];
  for (const e of events) {
    if (skip.has(e.eventId)) continue;
    skip.add(e.eventId);
    fresh.push(e);
  }
  if (fresh.length === 0) return;

  const inBatch = new Set(fresh.map((e) => e.eventId));
  const cited = [...new Set(fresh.flatMap((e) => e.authEventIds))].filter((id) => !inBatch.has(id));
  const { known, tips } = await loadIndexed(tx, roomId, cited);
  const plan = planChainCover(fresh, known, tips);

  const chainIds = await newChainIds(tx, plan.newChains);
  const real = (chainId: number): number => (chainId < 0 ? chainIds[-chainId - 1]! : chainId);

  if (plan.edges.length > 0) {
    await tx`
      insert into event_auth_edges (event_id, auth_id, room_id)
      select event_id, auth_id, ${roomId} from unnest(${plan.edges.map((e) => e.eventId)}::text[], ${plan.edges.map((e) => e.authId)}::text[])
        as t(event_id, auth_id)`;
  }
  if (plan.positions.length > 0) {
    const p = plan.positions;
    await tx`
      insert into event_auth_chain_positions (event_id, room_id, chain_id, seq, type, state_key)
      select event_id, ${roomId}, chain_id, seq, type, state_key
      from unnest(${p.map((x) => x.eventId)}::text[], ${p.map((x) => real(x.chainId))}::bigint[], ${p.map((x) => x.seq)}::int[],
                  ${p.map((x) => x.type)}::text[], ${p.map((x) => x.stateKey)}::text[]) as t(event_id, chain_id, seq, type, state_key)`;
  }
  if (plan.reach.length > 0) {
    const r = plan.reach;
    await tx`
      insert into event_auth_chain_reach (chain_id, seq, target_chain, target_seq)
      select * from unnest(${r.map((x) => real(x.chainId))}::bigint[], ${r.map((x) => x.seq)}::int[],
                           ${r.map((x) => real(x.targetChain))}::bigint[], ${r.map((x) => x.targetSeq)}::int[])`;
  }
}

/** The positions, reach vectors and chain tips of already-indexed state events. */
async function loadIndexed(
  tx: Tx,
  roomId: string,
  eventIds: string[],
): Promise<{ known: Map<string, IndexedEvent>; tips: Map<number, number> }> {
  const known = new Map<string, IndexedEvent>();
  const tips = new Map<number, number>();
  if (eventIds.length === 0) return { known, tips };
  const rows = await tx<
    { event_id: string; room_id: string; chain_id: number; seq: number; type: string | null; state_key: string | null }[]
  >`
    select event_id, room_id, chain_id, seq, type, state_key from event_auth_chain_positions where event_id = any(${eventIds}::text[])`;
  for (const r of rows) {
    if (r.room_id !== roomId) throw new AuthChainIndexError(`auth event ${r.event_id} belongs to ${r.room_id}, not ${roomId}`);
    known.set(r.event_id, { chainId: r.chain_id, seq: r.seq, type: r.type, stateKey: r.state_key, reach: new Map() });
  }
  if (known.size === 0) return { known, tips };
  const reach = await tx<{ event_id: string; target_chain: number; target_seq: number }[]>`
    select p.event_id, r.target_chain, max(r.target_seq) as target_seq
    from event_auth_chain_positions p
    join event_auth_chain_reach r on r.chain_id = p.chain_id and r.seq <= p.seq
    where p.event_id = any(${[...known.keys()]}::text[])
    group by p.event_id, r.target_chain`;
  for (const r of reach) known.get(r.event_id)!.reach.set(r.target_chain, r.target_seq);
  const chains = [...new Set([...known.values()].map((k) => k.chainId))];
  const tipRows = await tx<{ chain_id: number; tip: number }[]>`
    select chain_id, max(seq) as tip from event_auth_chain_positions where chain_id = any(${chains}::bigint[]) group by chain_id`;
  for (const t of tipRows) tips.set(t.chain_id, t.tip);
  return { known, tips };
}

async function newChainIds(tx: Tx, n: number): Promise<number[]> {
  if (n === 0) return [];
  const rows = await tx<{ id: number }[]>`select nextval('event_auth_chain_ids') as id from generate_series(1, ${n}::int) order by 1`;
  return rows.map((r) => r.id);
}

/**
 * The auth chain of a set of events (state or not): every event reachable
 * through auth_events, excluding the starting events unless another starting
 * event reaches them. For /event_auth and /state_ids. Unknown ids throw.
 */
export async function authChainIds(tx: Tx, eventIds: readonly string[]): Promise<Set<string>> {
  const ids = [...new Set(eventIds)];
  if (ids.length === 0) return new Set();
  const missing = await tx<{ event_id: string }[]>`
    select i.event_id from unnest(${ids}::text[]) as i(event_id)
    where not exists (select 1 from event_auth_chain_positions p where p.event_id = i.event_id)
      and not exists (select 1 from event_auth_edges e where e.event_id = i.event_id)`;
  if (missing.length > 0) throw new AuthChainIndexError(`events not in the auth-chain index: ${missing.map((m) => m.event_id).join(', ')}`);
  // An event's auth chain is the union of its auth events and their reach.
  const rows = await tx<{ event_id: string }[]>`
    with start as (
      select p.chain_id, max(p.seq) as seq
      from event_auth_edges e join event_auth_chain_positions p on p.event_id = e.auth_id
      where e.event_id = any(${ids}::text[])
      group by p.chain_id
    ), reach as (
      select chain_id, max(seq) as seq from (
        select chain_id, seq from start
        union all
        select r.target_chain, r.target_seq from start s join event_auth_chain_reach r on r.chain_id = s.chain_id and r.seq <= s.seq
      ) x group by chain_id
    )
    select p.event_id from reach v join event_auth_chain_positions p on p.chain_id = v.chain_id and p.seq <= v.seq`;
  return new Set(rows.map((r) => r.event_id));
}

/**
 * State resolution v2's auth difference: the union of the full auth chains
 * of the state sets minus their intersection. A state set's full auth chain
 * includes its own events (as federation/state-res fullAuthChain does), so
 * events in every set never enter the difference. Every id must be an
 * indexed state event.
 */
export async function authDifference(tx: Tx, stateSets: readonly (readonly string[])[]): Promise<Set<string>> {
  const groups: number[] = [];
  const ids: string[] = [];
  stateSets.forEach((set, i) => {
    for (const id of set) {
      groups.push(i);
      ids.push(id);
    }
  });
  if (ids.length === 0) return new Set();
  const missing = await tx<{ event_id: string }[]>`
    select distinct i.event_id from unnest(${ids}::text[]) as i(event_id)
    where not exists (select 1 from event_auth_chain_positions p where p.event_id = i.event_id)`;
  if (missing.length > 0) throw new AuthChainIndexError(`not indexed state events: ${missing.map((m) => m.event_id).join(', ')}`);
  // Per state set, one highest seq per chain; an event is in the difference
  // when its seq is above the lowest of the sets (0 if a set misses the chain)
  // and at most the highest.
  const rows = await tx<{ event_id: string }[]>`
    with start as (
      select s.grp, p.chain_id, max(p.seq) as seq
      from unnest(${groups}::int[], ${ids}::text[]) as s(grp, event_id)
      join event_auth_chain_positions p on p.event_id = s.event_id
      group by s.grp, p.chain_id
    ), per_set as (
      select grp, chain_id, max(seq) as seq from (
        select grp, chain_id, seq from start
        union all
        select s.grp, r.target_chain, r.target_seq from start s join event_auth_chain_reach r on r.chain_id = s.chain_id and r.seq <= s.seq
      ) x group by grp, chain_id
    ), bounds as (
      select chain_id, max(seq) as hi, case when count(*) = ${stateSets.length}::int then min(seq) else 0 end as lo
      from per_set group by chain_id
    )
    select p.event_id from bounds b join event_auth_chain_positions p on p.chain_id = b.chain_id and p.seq > b.lo and p.seq <= b.hi`;
  return new Set(rows.map((r) => r.event_id));
}
