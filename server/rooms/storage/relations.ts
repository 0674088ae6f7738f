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
    where relates_to in ${tx(parentIds as string[])} and rel_type in ${tx(relTypes as string[])} and redacted_by is null
    order by stream_pos`;
}

export interface ThreadSummaryRow {
  root: string;
  count: number;
  latest_event_id: string;
  participated: boolean;
}

export async function threadSummaries(tx: Tx, roots: readonly string[], userId: string): Promise<ThreadSummaryRow[]> {
  if (roots.length === 0) return [];
  return tx<ThreadSummaryRow[]>`
    select t.relates_to as root, count(*)::bigint as count,
           (array_agg(t.event_id order by t.stream_pos desc))[1] as latest_event_id,
           bool_or(t.sender = ${userId}) as participated
    from events t
    where t.relates_to in ${tx(roots as string[])} and t.rel_type = 'm.thread' and t.redacted_by is null
    group by t.relates_to`;
}

export async function duplicateAnnotation(tx: Tx, target: string, sender: string, type: string, key: string): Promise<boolean> {
  const rows = await tx`select 1 from events where relates_to = ${target} and rel_type = 'm.annotation'
    and sender = ${sender} and type = ${type} and aggregation_key = ${key} and redacted_by is null limit 1`;
  return rows.length > 0;
}

/** Children of one event for /relations, paginated by stream position. */
export async function relationsPage(
  tx: Tx,
  parent: string,
  opts: { relType?: string | undefined; eventType?: string | undefined; from?: number | undefined; to?: number | undefined; backwards: boolean; limit: number },
): Promise<{ event_id: string; stream_pos: number }[]> {
  const relType = opts.relType ?? null;
  const eventType = opts.eventType ?? null;
  const from = opts.from ?? (opts.backwards ? Number.MAX_SAFE_INTEGER : 0);
  const to = opts.to ?? (opts.backwards ? 0 : Number.MAX_SAFE_INTEGER);
  return opts.backwards
    ? tx`select event_id, stream_pos from events where relates_to = ${parent}
        and (${relType}::text is null or rel_type = ${relType}) and (${eventType}::text is null or type = ${eventType})
        and stream_pos < ${from} and stream_pos > ${to} order by stream_pos desc limit ${opts.limit}`
    : tx`select event_id, stream_pos from events where relates_to = ${parent}
        and (${relType}::text is null or rel_type = ${relType}) and (${eventType}::text is null or type = ${eventType})
        and stream_pos >= ${from} and stream_pos < ${to} order by stream_pos asc limit ${opts.limit}`;
}

/** Thread roots of a room, newest activity first, for /threads. */
export async function threadRoots(
  tx: Tx,
  roomId: string,
  opts: { participatedBy?: string | undefined; before?: number | undefined; limit: number },
): Promise<{ root: string; latest: number }[]> {
  const before = opts.before ?? Number.MAX_SAFE_INTEGER;
  const user = opts.participatedBy ?? null;
  return tx`
    select r.event_id as root, max(t.stream_pos)::bigint as latest
    from events t join events r on r.event_id = t.relates_to
    where t.room_id = ${roomId} and t.rel_type = 'm.thread' and t.redacted_by is null
    group by r.event_id, r.sender
    having max(t.stream_pos) < ${before}
       and (${user}::text is null or r.sender = ${user} or bool_or(t.sender = ${user}))
    order by latest desc limit ${opts.limit}`;
}
