import type { Tx } from '../../db/database.ts';

export interface PushActionRow {
  user_id: string;
  room_id: string;
  event_id: string;
  event_pos: number;
  thread_id: string;
  actions: string;
  notify: boolean;
  highlight: boolean;
  ts: number;
}

/** Stores what the rules said, at one stream position; a repeat (a redelivered event) changes nothing. */
export async function insertPushActions(tx: Tx, rows: readonly PushActionRow[], pos: number): Promise<PushActionRow[]> {
  if (rows.length === 0) return [];
  const col = <K extends keyof PushActionRow>(k: K) => rows.map((r) => r[k]);
  // postgres.js sends a boolean[] parameter as one boolean: booleans go as text and are cast.
  return tx<PushActionRow[]>`
    insert into event_push_actions (user_id, room_id, event_id, event_pos, stream_pos, thread_id, actions, notify, highlight, ts)
    select u, r, e, ep, ${pos}::bigint, t, a, n, h, ts from unnest(
      ${col('user_id') as string[]}::text[], ${col('room_id') as string[]}::text[], ${col('event_id') as string[]}::text[],
      ${col('event_pos') as number[]}::bigint[], ${col('thread_id') as string[]}::text[], ${col('actions') as string[]}::text[],
      ${col('notify').map(String)}::text[]::boolean[], ${col('highlight').map(String)}::text[]::boolean[], ${col('ts') as number[]}::bigint[])
      as w(u, r, e, ep, t, a, n, h, ts)
    on conflict (user_id, event_id) do nothing
    returning user_id, room_id, event_id, event_pos::bigint as event_pos, thread_id, actions, notify, highlight, ts::bigint as ts`;
}

export interface CountKey {
  roomId: string;
  userId: string;
  /** The user's read position in the room: only events after it count. */
  after: number;
  upTo: number;
  /** Per-thread read positions (a threaded receipt): a thread's events count after the later of the two. */
  threadAfter?: Record<string, number> | undefined;
}

export interface ThreadCounts {
  thread_id: string;
  notify: number;
  highlight: number;
}

/** For each key, in order: notify and highlight counts per thread ('main' for the room's own timeline). */
export async function countsEach(tx: Tx, keys: readonly CountKey[]): Promise<ThreadCounts[][]> {
  if (keys.length === 0) return [];
  const threads = keys.flatMap((k, i) => Object.entries(k.threadAfter ?? {}).map(([t, pos]) => ({ i: i + 1, t, pos })));
  const rows = await tx<(ThreadCounts & { i: number })[]>`
    select s.i::int as i, a.thread_id, count(*) filter (where a.notify)::int as notify, count(*) filter (where a.highlight)::int as highlight
    from unnest(${keys.map((k) => k.roomId)}::text[], ${keys.map((k) => k.userId)}::text[], ${keys.map((k) => k.after)}::bigint[],
      ${keys.map((k) => k.upTo)}::bigint[]) with ordinality as s(room_id, user_id, after, up_to, i)
    join event_push_actions a on a.user_id = s.user_id and a.room_id = s.room_id and a.event_pos > s.after and a.event_pos <= s.up_to
    left join unnest(${threads.map((t) => t.i)}::int[], ${threads.map((t) => t.t)}::text[], ${threads.map((t) => t.pos)}::bigint[])
      as th(i, thread_id, after) on th.i = s.i and th.thread_id = a.thread_id
    where th.after is null or a.event_pos > th.after
    group by s.i, a.thread_id`;
  const out = keys.map((): ThreadCounts[] => []);
  for (const { i, ...r } of rows) out[i - 1]!.push(r);
  return out;
}

/** For each (user, since, upTo), in order: the rooms whose counts for the user changed in the window. */
export async function roomsWithNewCountsEach(
  tx: Tx,
  keys: readonly { userId: string; since: number; upTo: number }[],
): Promise<string[][]> {
  if (keys.length === 0) return [];
  const rows = await tx<{ i: number; room_id: string }[]>`
    select distinct s.i::int as i, a.room_id
    from unnest(${keys.map((k) => k.userId)}::text[], ${keys.map((k) => k.since)}::bigint[], ${keys.map((k) => k.upTo)}::bigint[])
      with ordinality as s(user_id, since, up_to, i)
    join event_push_actions a on a.user_id = s.user_id and a.stream_pos > s.since and a.stream_pos <= s.up_to`;
  const out = keys.map((): string[] => []);
  for (const r of rows) out[r.i - 1]!.push(r.room_id);
  return out;
}

/** /notifications: the user's newest notifying events before `before` (a position), newest first. */
export async function notificationsOf(
  tx: Tx,
  userId: string,
  opts: { before: number | undefined; limit: number; onlyHighlight: boolean },
): Promise<PushActionRow[]> {
  return tx<PushActionRow[]>`
    select user_id, room_id, event_id, event_pos::bigint as event_pos, thread_id, actions, notify, highlight, ts::bigint as ts
    from event_push_actions
    where user_id = ${userId} and (notify or highlight)
      ${opts.before !== undefined ? tx`and event_pos < ${opts.before}` : tx``}
      ${opts.onlyHighlight ? tx`and highlight` : tx``}
    order by event_pos desc
    limit ${opts.limit}`;
}

/** The rooms the user has ever been notified in. */
export async function roomsWithPushActions(tx: Tx, userId: string): Promise<string[]> {
  const rows = await tx<{ room_id: string }[]>`select distinct room_id from event_push_actions where user_id = ${userId}`;
  return rows.map((r) => r.room_id);
}

/** Notifying events after the user's read position in each room, summed: the badge a push gateway shows. */
export async function unreadTotal(tx: Tx, userId: string, readUpTo: ReadonlyMap<string, number>): Promise<number> {
  const rooms = [...readUpTo.keys()];
  if (rooms.length === 0) return 0;
  const [row] = await tx<{ n: number }[]>`
    select count(*)::int as n
    from unnest(${rooms}::text[], ${rooms.map((r) => readUpTo.get(r)!)}::bigint[]) as w(room_id, after)
    join event_push_actions a on a.user_id = ${userId} and a.room_id = w.room_id and a.event_pos > w.after and a.notify`;
  return row!.n;
}
