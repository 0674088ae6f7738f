/**
 * SQL for the auth-chain index (migration 000004): auth edges of every event
 * and a chain cover of the state events. federation/state-res/chain-cover.ts explains the
 * cover and why it is shaped this way; here is only loading and writing it.
 *
 * The reach of an event at (c, n) is, per target chain, the greatest
 * target_seq over event_auth_chain_reach rows of chain c with seq <= n, plus
 * (c, 1..n-1) itself. Every query below expands a set of positions that way
 * in one statement: no recursion, no walk in TypeScript.
 */
import type { Tx } from '../../db/database.ts';
import {
  AuthChainIndexError,
  planChainCover,
  type ChainCoverPlan,
  type EventToIndex,
  type IndexedEvent,
} from '../../../federation/state-res/chain-cover.ts';

export { AuthChainIndexError, type EventToIndex } from '../../../federation/state-res/chain-cover.ts';

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
  const cited = events.flatMap((e) => e.authEventIds);
  const indexed = await lookUp(tx, [...new Set([...events.map((e) => e.eventId), ...cited])]);
  const fresh: EventToIndex[] = [];
  const seen = new Set<string>();
  for (const e of events) {
    if (indexed.has(e.eventId) || seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    fresh.push(e);
  }
  if (fresh.length === 0) return;

  const known = new Map<string, IndexedEvent>();
  const tips = new Map<number, number>();
  for (const id of cited) {
    const row = indexed.get(id);
    if (!row?.position || seen.has(id)) continue;
    if (row.roomId !== roomId) throw new AuthChainIndexError(`auth event ${id} belongs to ${row.roomId}, not ${roomId}`);
    known.set(id, row.position);
    tips.set(row.position.chainId, row.tip);
  }
  const plan = planChainCover(fresh, known, tips);
  await write(tx, roomId, plan);
}

/**
 * Indexes a non-state event the server built itself, whose auth events it chose
 * from the room's state: as edges only (non-state events have no chain position),
 * with no look-up first. Returns whether every auth event is indexed; when one is
 * not (a room older than the index), the caller indexes the room first.
 */
export async function insertAuthEdges(tx: Tx, roomId: string, eventId: string, authIds: readonly string[]): Promise<boolean> {
  const [row] = await tx<{ indexed: number }[]>`
    with edges as (
      insert into event_auth_edges (event_id, auth_id, room_id)
      select ${eventId}, a, ${roomId} from unnest(${authIds as string[]}::text[]) as a
      on conflict do nothing
    )
    select count(*)::int as indexed from event_auth_chain_positions where event_id = any(${authIds as string[]}::text[])`;
  return row!.indexed === new Set(authIds).size;
}

interface LookedUp {
  /** Null for a non-state event, whose position is absent (indexed as edges only). */
  roomId: string | null;
  position?: IndexedEvent;
  /** The highest seq of the position's chain. */
  tip: number;
}

/** What the index holds about these events, in one round trip: the persister calls this once per event. */
async function lookUp(tx: Tx, eventIds: string[]): Promise<Map<string, LookedUp>> {
  const rows = await tx<
    {
      event_id: string;
      room_id: string | null;
      chain_id: number | null;
      seq: number;
      type: string | null;
      state_key: string | null;
      edge_room: string | null;
      tip: number;
      reach: [number, number][];
    }[]
  >`
    select i.event_id, p.room_id, p.chain_id, p.seq, p.type, p.state_key,
           (select max(t.seq) from event_auth_chain_positions t where t.chain_id = p.chain_id) as tip,
           (select coalesce(json_agg(json_build_array(x.target_chain, x.target_seq)), '[]')
              from (select r.target_chain, max(r.target_seq) as target_seq from event_auth_chain_reach r
                    where r.chain_id = p.chain_id and r.seq <= p.seq group by r.target_chain) x) as reach
    from unnest(${eventIds}::text[]) as i(event_id)
    left join event_auth_chain_positions p on p.event_id = i.event_id
    where p.event_id is not null or exists (select 1 from event_auth_edges e where e.event_id = i.event_id)`;
  const out = new Map<string, LookedUp>();
  for (const r of rows) {
    if (r.chain_id === null) {
      out.set(r.event_id, { roomId: null, tip: 0 });
      continue;
    }
    const position = { chainId: r.chain_id, seq: r.seq, type: r.type, stateKey: r.state_key, reach: new Map(r.reach) };
    out.set(r.event_id, { roomId: r.room_id!, position, tip: r.tip });
  }
  return out;
}

/**
 * Writes a plan in one statement. New chains get their ids from the sequence
 * here: the plan numbers them -1, -2, ... and the CTE maps them.
 */
async function write(tx: Tx, roomId: string, plan: ChainCoverPlan): Promise<void> {
  const { edges, positions: p, reach: r } = plan;
  await tx`
    with new_chain as (
      select g as n, nextval('event_auth_chain_ids') as id from generate_series(1, ${plan.newChains}::int) as g
    ), edges as (
      insert into event_auth_edges (event_id, auth_id, room_id)
      select event_id, auth_id, ${roomId}
      from unnest(${edges.map((e) => e.eventId)}::text[], ${edges.map((e) => e.authId)}::text[]) as t(event_id, auth_id)
    ), positions as (
      insert into event_auth_chain_positions (event_id, room_id, chain_id, seq, type, state_key)
      select t.event_id, ${roomId}, coalesce(c.id, t.chain_id), t.seq, t.type, t.state_key
      from unnest(${p.map((x) => x.eventId)}::text[], ${p.map((x) => x.chainId)}::bigint[], ${p.map((x) => x.seq)}::int[],
                  ${p.map((x) => x.type)}::text[], ${p.map((x) => x.stateKey)}::text[]) as t(event_id, chain_id, seq, type, state_key)
      left join new_chain c on c.n = -t.chain_id
    )
    insert into event_auth_chain_reach (chain_id, seq, target_chain, target_seq)
    select coalesce(c.id, t.chain_id), t.seq, coalesce(d.id, t.target_chain), t.target_seq
    from unnest(${r.map((x) => x.chainId)}::bigint[], ${r.map((x) => x.seq)}::int[],
                ${r.map((x) => x.targetChain)}::bigint[], ${r.map((x) => x.targetSeq)}::int[]) as t(chain_id, seq, target_chain, target_seq)
    left join new_chain c on c.n = -t.chain_id
    left join new_chain d on d.n = -t.target_chain`;
}

/**
 * The auth chain of a set of events (state or not): every event reachable
 * through auth_events, excluding the starting events unless another starting
 * event reaches them. For /event_auth and /state_ids. Unknown ids throw.
 */
export async function authChainIds(tx: Tx, eventIds: readonly string[]): Promise<Set<string>> {
  const ids = [...new Set(eventIds)];
  if (ids.length === 0) return new Set();
  // An event's auth chain is the union of its auth events and their reach.
  // Unknown ids come back flagged, so one round trip both checks and answers.
  const rows = await tx<{ event_id: string; unknown: boolean }[]>`
    with input as (
      select i.event_id from unnest(${ids}::text[]) as i(event_id)
    ), start as (
      select p.chain_id, max(p.seq) as seq
      from input i join event_auth_edges e on e.event_id = i.event_id join event_auth_chain_positions p on p.event_id = e.auth_id
      group by p.chain_id
    ), reach as (
      select chain_id, max(seq) as seq from (
        select chain_id, seq from start
        union all
        select r.target_chain, r.target_seq from start s join event_auth_chain_reach r on r.chain_id = s.chain_id and r.seq <= s.seq
      ) x group by chain_id
    )
    select p.event_id, false as unknown from reach v join event_auth_chain_positions p on p.chain_id = v.chain_id and p.seq <= v.seq
    union all
    select i.event_id, true from input i
    where not exists (select 1 from event_auth_chain_positions p where p.event_id = i.event_id)
      and not exists (select 1 from event_auth_edges e where e.event_id = i.event_id)`;
  throwIfUnknown(rows, 'events not in the auth-chain index');
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
  // State sets share most of their events (the unconflicted state). Those are
  // expanded once, as group -1, and count towards every set; each set's own
  // events are expanded in its group. Per chain, an event is in the
  // difference when its seq is above the lowest set's reach (0 if a set
  // misses the chain) and at most the highest.
  const sets = stateSets.map((set) => new Set(set));
  const inAll = new Set([...(sets[0] ?? [])].filter((id) => sets.every((set) => set.has(id))));
  const groups: number[] = [];
  const ids: string[] = [];
  for (const id of inAll) {
    groups.push(-1);
    ids.push(id);
  }
  sets.forEach((set, i) => {
    for (const id of set) {
      if (inAll.has(id)) continue;
      groups.push(i);
      ids.push(id);
    }
  });
  if (ids.length === 0) return new Set();
  const rows = await tx<{ event_id: string; unknown: boolean }[]>`
    with input as (
      select s.grp, s.event_id, p.chain_id, p.seq
      from unnest(${groups}::int[], ${ids}::text[]) as s(grp, event_id)
      left join event_auth_chain_positions p on p.event_id = s.event_id
    ), start as (
      select grp, chain_id, max(seq) as seq from input where chain_id is not null group by grp, chain_id
    ), per_set as (
      select grp, chain_id, max(seq) as seq from (
        select grp, chain_id, seq from start
        union all
        select s.grp, r.target_chain, r.target_seq from start s join event_auth_chain_reach r on r.chain_id = s.chain_id and r.seq <= s.seq
      ) x group by grp, chain_id
    ), bounds as (
      select chain_id,
             coalesce(max(seq) filter (where grp = -1), 0) as common,
             coalesce(max(seq) filter (where grp >= 0), 0) as hi,
             case when count(*) filter (where grp >= 0) = ${stateSets.length}::int then min(seq) filter (where grp >= 0) else 0 end as lo
      from per_set group by chain_id
    )
    select p.event_id, false as unknown
    from bounds b join event_auth_chain_positions p on p.chain_id = b.chain_id and p.seq > greatest(b.lo, b.common) and p.seq <= b.hi
    union all
    select distinct event_id, true from input where chain_id is null`;
  throwIfUnknown(rows, 'not indexed state events');
  return new Set(rows.map((r) => r.event_id));
}

function throwIfUnknown(rows: readonly { event_id: string; unknown: boolean }[], what: string): void {
  const unknown = rows.filter((r) => r.unknown).map((r) => r.event_id);
  if (unknown.length > 0) throw new AuthChainIndexError(`${what}: ${unknown.join(', ')}`);
}
