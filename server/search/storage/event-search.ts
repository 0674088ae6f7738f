import type { Tx } from '../../db/database.ts';

/**
 * The text search configuration: English stemming ("jumping" finds "jumped"), as Synapse has it.
 * Rows are indexed with it, so changing it means re-indexing; it is not a setting for that reason.
 */
const CONFIG = 'english';

// Marks that typed text does not hold (control characters), around each word ts_headline matched.
const START = '\u0002';
const STOP = '\u0003';

export type SearchKey = 'content.body' | 'content.name' | 'content.topic';

export interface IndexedEvent {
  eventId: string;
  roomId: string;
  sender: string;
  key: SearchKey;
  value: string;
  streamPos: number;
  originServerTs: number;
  containsUrl: boolean;
}

/** Idempotent: the consumer may be handed an event again after a crash. */
export async function indexEvents(tx: Tx, events: readonly IndexedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const col = <K extends keyof IndexedEvent>(k: K) => events.map((e) => e[k]);
  await tx`insert into event_search (event_id, room_id, sender, key, stream_pos, origin_server_ts, contains_url, content_tsv)
    select event_id, room_id, sender, key, stream_pos, origin_server_ts, contains_url, to_tsvector(${CONFIG}::regconfig, value)
    from unnest(${col('eventId') as string[]}::text[], ${col('roomId') as string[]}::text[], ${col('sender') as string[]}::text[],
      ${col('key') as string[]}::text[], ${col('value') as string[]}::text[], ${col('streamPos') as number[]}::bigint[],
      ${col('originServerTs') as number[]}::bigint[], ${col('containsUrl').map(String)}::text[]::boolean[])
      as e(event_id, room_id, sender, key, value, stream_pos, origin_server_ts, contains_url)
    on conflict (event_id) do nothing`;
}

export async function unindexEvents(tx: Tx, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await tx`delete from event_search where event_id = any(${eventIds as string[]}::text[])`;
}

/** What to look for and where: all conditions are ANDed. */
export interface SearchWhere {
  /** tsquery text (see service/query.ts). */
  query: string;
  roomIds: readonly string[];
  keys: readonly SearchKey[];
  senders?: readonly string[] | undefined;
  notSenders?: readonly string[] | undefined;
  containsUrl?: boolean | undefined;
  /** Only events at or before this stream position. */
  upTo?: number | undefined;
}

export interface SearchHit {
  event_id: string;
  room_id: string;
  sender: string;
  stream_pos: number;
  rank: number;
}

function conditions(tx: Tx, w: SearchWhere) {
  return tx`content_tsv @@ to_tsquery(${CONFIG}::regconfig, ${w.query})
    and room_id = any(${w.roomIds as string[]}::text[])
    and key = any(${w.keys as string[]}::text[])
    ${w.senders ? tx`and sender = any(${w.senders as string[]}::text[])` : tx``}
    ${w.notSenders && w.notSenders.length > 0 ? tx`and sender <> all(${w.notSenders as string[]}::text[])` : tx``}
    ${w.containsUrl !== undefined ? tx`and contains_url = ${w.containsUrl}` : tx``}
    ${w.upTo !== undefined ? tx`and stream_pos <= ${w.upTo}` : tx``}`;
}

/**
 * Newest first, before `beforePos` (exclusive) when given. Two plans, chosen by the caller from
 * how many rows match: for a common word, walking the stream index backwards finds a page after
 * a few hundred rows; for a rare one that walk reads the whole index (40 ms at 100,000 messages,
 * growing with them), while the GIN index finds the few matches at once and sorting them is
 * cheap. PostgreSQL's own estimate cannot tell them apart (it has no statistics for prefixes),
 * so `stream_pos + 0` hides the ordered index from it when the matches are few.
 */
export async function searchRecent(
  tx: Tx,
  w: SearchWhere,
  beforePos: number | undefined,
  limit: number,
  plan: 'walk-stream' | 'sort-matches',
): Promise<SearchHit[]> {
  return tx<SearchHit[]>`
    select event_id, room_id, sender, stream_pos,
      ts_rank_cd(content_tsv, to_tsquery(${CONFIG}::regconfig, ${w.query}))::float8 as rank
    from event_search
    where ${conditions(tx, w)} ${beforePos !== undefined ? tx`and stream_pos < ${beforePos}` : tx``}
    order by ${plan === 'walk-stream' ? tx`stream_pos` : tx`stream_pos + 0`} desc
    limit ${limit}`;
}

/**
 * Best match first (cover density: the query's words close together score higher), newest
 * first among equals; the page starts `offset` rows in.
 */
export async function searchRanked(tx: Tx, w: SearchWhere, offset: number, limit: number): Promise<SearchHit[]> {
  return tx<SearchHit[]>`
    select event_id, room_id, sender, stream_pos,
      ts_rank_cd(content_tsv, to_tsquery(${CONFIG}::regconfig, ${w.query}))::float8 as rank
    from event_search
    where ${conditions(tx, w)}
    order by rank desc, stream_pos desc
    offset ${offset} limit ${limit}`;
}

/**
 * Whether the query needs some word to be there. Stop words vanish from a tsquery ("the -spam"
 * is just "not spam"), and a query that requires no word cannot use the index: it would match,
 * count and rank every message in the searcher's rooms. PostgreSQL's querytree says so ('' or 'T').
 */
export async function requiresAWord(tx: Tx, query: string): Promise<boolean> {
  const [row] = await tx<{ t: string }[]>`select querytree(to_tsquery(${CONFIG}::regconfig, ${query})) as t`;
  return row!.t !== '' && row!.t !== 'T';
}

/** The newest indexed event's stream position (0: none): where a ranked search's pages stop. */
export async function newestIndexed(tx: Tx): Promise<number> {
  const [row] = await tx<{ pos: number | null }[]>`select max(stream_pos) as pos from event_search`;
  return row?.pos ?? 0;
}

/** How many events match, before history visibility is applied (the spec's count is approximate). */
export async function countMatches(tx: Tx, w: SearchWhere): Promise<number> {
  const [row] = await tx<{ n: number }[]>`select count(*)::int as n from event_search where ${conditions(tx, w)}`;
  return row!.n;
}

/**
 * The words of `texts` the query matched, as they were written: what a client highlights
 * (stemming and prefixes mean they need not be the words typed). ts_headline marks them.
 */
export async function matchedWords(tx: Tx, query: string, texts: readonly string[]): Promise<string[]> {
  if (texts.length === 0) return [];
  const rows = await tx<{ h: string }[]>`
    select ts_headline(${CONFIG}::regconfig, t, to_tsquery(${CONFIG}::regconfig, ${query}),
      ${`StartSel=${START}, StopSel=${STOP}, HighlightAll=true`}) as h
    from unnest(${texts as string[]}::text[]) as t`;
  const words = new Set<string>();
  const marked = new RegExp(`${START}([^${STOP}]*)${STOP}`, 'gu');
  for (const { h } of rows) for (const m of h.matchAll(marked)) if (m[1]) words.add(m[1]);
  return [...words];
}
