import { oneByKeyIndex } from '../../db/batch.ts';
import type { Tx } from '../../db/database.ts';

export interface ChildRow {
  event_id: string;
  relates_to: string;
  rel_type: string;
  sender: string;
  type: string;
  stream_pos: number;
  origin_server_ts: number;
}

/** Unredacted children of the given events with the given relation types. */
export async function childrenOf(tx: Tx, parentIds: readonly string[], relTypes: readonly string[]): Promise<ChildRow[]> {
  if (parentIds.length === 0) return [];
  return tx<ChildRow[]>`
    select event_id, relates_to, rel_type, sender, type, stream_pos, origin_server_ts from events
    where relates_to = any(${parentIds as string[]}::text[]) and rel_type = any(${relTypes as string[]}::text[]) and redacted_by is null
    order by stream_pos`;
}

export interface ThreadSummaryRow {
  root: string;
  count: number;
  latest_event_id: string;
  participated: boolean;
}

export async function threadSummaries(tx: Tx, roots: readonly string[], userId: string): Promise<ThreadSummaryRow[]> {
  return (
    await threadSummariesEach(
      tx,
      roots.map((root) => ({ root, userId })),
    )
  ).filter((t) => t !== undefined);
}

/** The thread summary of each (root, viewer) key, in order (undefined: no thread on that root), in one query. */
export async function threadSummariesEach(
  tx: Tx,
  keys: readonly { root: string; userId: string }[],
): Promise<(ThreadSummaryRow | undefined)[]> {
  if (keys.length === 0) return [];
  const rows = await tx<(ThreadSummaryRow & { i: number })[]>`
    select s.i::int as i, s.root, count(*)::bigint as count,
           (array_agg(t.event_id order by t.stream_pos desc))[1] as latest_event_id,
           bool_or(t.sender = s.user_id) as participated
    from unnest(${keys.map((k) => k.root)}::text[], ${keys.map((k) => k.userId)}::text[]) with ordinality as s(root, user_id, i)
    join events t on t.relates_to = s.root and t.rel_type = 'm.thread' and t.redacted_by is null
    group by s.i, s.root, s.user_id`;
  return oneByKeyIndex(keys.length, rows);
}

export async function duplicateAnnotation(tx: Tx, target: string, sender: string, type: string, key: string): Promise<boolean> {
  const rows = await tx`select 1 from events where relates_to = ${target} and rel_type = 'm.annotation'
    and sender = ${sender} and type = ${type} and aggregation_key = ${key} and redacted_by is null limit 1`;
  return rows.length > 0;
}

export interface RelationsPageOptions {
  relType?: string | undefined;
  eventType?: string | undefined;
  /** Stream token position: "just after the event at this position", as /messages tokens are. */
  from?: number | undefined;
  to?: number | undefined;
  backwards: boolean;
  limit: number;
  /** 1: direct children only; n: also children of children, n levels deep. */
  depth: number;
}

/**
 * Children of one event in its room for /relations, paginated by stream position.
 * With depth > 1 it also follows relations of relations; the rel_type and event
 * type filters apply at every level, so an event reached only through a
 * non-matching intermediate event is left out (as the spec asks).
 */
export async function relationsPage(
  tx: Tx,
  roomId: string,
  parent: string,
  opts: RelationsPageOptions,
): Promise<{ event_id: string; stream_pos: number }[]> {
  const relType = opts.relType ?? null;
  const eventType = opts.eventType ?? null;
  const from = opts.from ?? (opts.backwards ? Number.MAX_SAFE_INTEGER : 0);
  const to = opts.to ?? (opts.backwards ? 0 : Number.MAX_SAFE_INTEGER);
  const tree = tx`
    with recursive rel(event_id, depth) as (
      select event_id, 1 from events
      where relates_to = ${parent} and room_id = ${roomId}
        and (${relType}::text is null or rel_type = ${relType}) and (${eventType}::text is null or type = ${eventType})
      union
      select e.event_id, r.depth + 1 from events e join rel r on e.relates_to = r.event_id
      where r.depth < ${opts.depth} and e.room_id = ${roomId}
        and (${relType}::text is null or e.rel_type = ${relType}) and (${eventType}::text is null or e.type = ${eventType})
    )`;
  return opts.backwards
    ? tx`${tree} select e.event_id, e.stream_pos from events e where e.event_id in (select event_id from rel)
        and e.stream_pos <= ${from} and e.stream_pos > ${to} order by e.stream_pos desc limit ${opts.limit}`
    : tx`${tree} select e.event_id, e.stream_pos from events e where e.event_id in (select event_id from rel)
        and e.stream_pos > ${from} and e.stream_pos <= ${to} order by e.stream_pos asc limit ${opts.limit}`;
}

/**
 * Thread roots of a room, newest thread activity first, for /threads. A root is
 * in the room and has at least one unredacted m.thread child. Pages are keyed on
 * the thread's newest activity: `upTo` keeps threads whose latest event is at or
 * before that position. `participatedBy` keeps threads the user started or replied in.
 */
export async function threadRoots(
  tx: Tx,
  roomId: string,
  opts: { participatedBy?: string | undefined; upTo?: number | undefined; limit: number },
): Promise<{ root: string; latest: number }[]> {
  const upTo = opts.upTo ?? Number.MAX_SAFE_INTEGER;
  const user = opts.participatedBy ?? null;
  return tx`
    select r.event_id as root, max(t.stream_pos)::bigint as latest
    from events t join events r on r.event_id = t.relates_to and r.room_id = ${roomId}
    where t.room_id = ${roomId} and t.rel_type = 'm.thread' and t.redacted_by is null
    group by r.event_id, r.sender
    having max(t.stream_pos) <= ${upTo}
       and (${user}::text is null or r.sender = ${user} or bool_or(t.sender = ${user}))
    order by latest desc limit ${opts.limit}`;
}
