import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { matchesFilter, type EventSelector } from '../../matrix/index.ts';
import type { ClientEvent } from '../../rooms/index.ts';
import {
  countMatches,
  matchedWords,
  newestIndexed,
  requiresAWord,
  searchRanked,
  searchRecent,
  type SearchHit,
  type SearchKey,
  type SearchWhere,
} from '../storage/event-search.ts';
import { formatBatchToken, parseBatchToken, type BatchToken } from './batch-token.ts';
import { SEARCHED } from './indexer.ts';
import { toTsQuery } from './query.ts';

export interface Viewer {
  userId: string;
  deviceId?: string;
}

export interface SearchContext {
  events_before: ClientEvent[];
  events_after: ClientEvent[];
  start: string;
  end: string;
  profile_info?: Record<string, JsonObject>;
}

export interface SearchDeps {
  sql: Sql;
  /** From rooms: the rooms the user is joined to (search looks only there). */
  joinedRooms: (userId: string) => Promise<string[]>;
  /** From rooms: of these events, those the viewer may see now, in order. */
  visibleEvents: (viewer: Viewer, eventIds: readonly string[]) => Promise<ClientEvent[]>;
  /** From rooms: the events around one, and the senders' profiles then. */
  contextForSearch: (
    viewer: Viewer,
    roomId: string,
    eventId: string,
    opts: { before: number; after: number; profiles: boolean },
  ) => Promise<SearchContext>;
  /** From rooms: a room's current state as the viewer may see it. */
  roomState: (viewer: Viewer, roomId: string) => Promise<ClientEvent[]>;
}

export interface RoomEventsCriteria {
  search_term: string;
  keys?: SearchKey[] | undefined;
  filter?: EventSelector | undefined;
  order_by?: 'recent' | 'rank' | undefined;
  event_context?:
    { before_limit?: number | undefined; after_limit?: number | undefined; include_profile?: boolean | undefined } | undefined;
  include_state?: boolean | undefined;
  groupings?: { group_by?: { key: 'room_id' | 'sender' }[] | undefined } | undefined;
}

/** A page's size unless the filter says otherwise, and the most it may say. */
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
const DEFAULT_CONTEXT = 5;
const MAX_CONTEXT = 100;
/**
 * Rows looked at per page at most. Matches the searcher may not see (history from before they
 * joined, ignored senders) are skipped; past this, the page ends short with a next_batch rather
 * than scanning a whole room's history for one request.
 */
const MAX_SCANNED = 2_000;
/** The most rows one read of the index asks for. */
const MAX_BATCH = 500;
/** From this many matches on, a recent-first page walks the stream index (see searchRecent). */
const MANY_MATCHES = 5_000;

const ALL_KEYS = Object.values(SEARCHED).map((s) => s.key);
const TYPE_OF_KEY = new Map(Object.entries(SEARCHED).map(([type, s]) => [s.key, type]));

interface Page {
  hits: { hit: SearchHit; event: ClientEvent }[];
  /** The token for the next page, when there may be more. */
  next?: BatchToken | undefined;
}

/** POST /search, category room_events: full-text search of the rooms the user is in. */
export function createSearch(deps: SearchDeps) {
  const { sql } = deps;

  /** Where the search looks: joined rooms, narrowed by the filter and by a group's token. */
  async function scope(viewer: Viewer, c: RoomEventsCriteria, token: BatchToken | undefined): Promise<SearchWhere | undefined> {
    const query = toTsQuery(c.search_term);
    if (query === undefined || !(await requiresAWord(sql, query))) return undefined;
    const f = c.filter;
    let roomIds = await deps.joinedRooms(viewer.userId);
    if (f?.rooms) roomIds = roomIds.filter((r) => f.rooms!.includes(r));
    if (f?.not_rooms) roomIds = roomIds.filter((r) => !f.not_rooms!.includes(r));
    if (token?.room !== undefined) roomIds = roomIds.filter((r) => r === token.room);
    // A key is searched only if the filter lets its event type through.
    const typeFilter = { types: f?.types, not_types: f?.not_types };
    const keys = (c.keys ?? ALL_KEYS).filter((k) => matchesFilter(typeFilter, { type: TYPE_OF_KEY.get(k)!, sender: '', content: {} }));
    let senders = f?.senders;
    if (token?.sender !== undefined) senders = (senders ?? [token.sender]).filter((s) => s === token.sender);
    if (roomIds.length === 0 || keys.length === 0 || senders?.length === 0) return undefined;
    return { query, roomIds, keys, senders, notSenders: f?.not_senders, containsUrl: f?.contains_url };
  }

  /**
   * One page of results the viewer may see, in order: rows are read in batches and each batch
   * filtered by rooms' visibility rules, until the page is full, the matches run out, or
   * MAX_SCANNED rows were read.
   */
  async function page(
    viewer: Viewer,
    where: SearchWhere,
    order: 'recent' | 'rank',
    token: BatchToken | undefined,
    limit: number,
    matches: number,
  ): Promise<Page> {
    const plan = matches >= MANY_MATCHES ? 'walk-stream' : 'sort-matches';
    // Each further read is larger: a ranked read sorts every match again, so many small reads
    // past hidden matches (history from before a join) would cost far more than a few big ones.
    let batchSize = Math.min(Math.max(limit * 2, 20), MAX_BATCH);
    let before = token?.order === 'recent' ? token.before : undefined;
    let offset = token?.order === 'rank' ? token.offset : 0;
    const hits: Page['hits'] = [];
    for (let scanned = 0; ;) {
      const rows =
        order === 'recent' ? await searchRecent(sql, where, before, batchSize, plan) : await searchRanked(sql, where, offset, batchSize);
      const shown = await deps.visibleEvents(
        viewer,
        rows.map((r) => r.event_id),
      );
      const visible = new Map(shown.map((e) => [e.event_id, e]));
      let read = 0;
      for (; read < rows.length && hits.length < limit; read++) {
        const hit = rows[read]!;
        before = hit.stream_pos;
        offset++;
        const event = visible.get(hit.event_id);
        if (event) hits.push({ hit, event });
      }
      scanned += read;
      // Every row read, and fewer than asked for: nothing more matches.
      if (read === rows.length && rows.length < batchSize) return { hits };
      if (hits.length === limit || scanned >= MAX_SCANNED) break;
      batchSize = Math.min(batchSize * 4, MAX_BATCH);
    }
    const next: BatchToken = order === 'recent' ? { order, before: before! } : { order, offset, upTo: where.upTo! };
    return { hits, next };
  }

  return {
    async roomEvents(viewer: Viewer, c: RoomEventsCriteria, nextBatch: string | undefined) {
      const order = c.order_by ?? 'rank';
      const token = nextBatch !== undefined ? parseBatchToken(nextBatch) : undefined;
      if (token && token.order !== order) throw new MatrixError(400, 'M_INVALID_PARAM', 'next_batch was made for another order_by');
      const limit = Math.min(Math.max(c.filter?.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
      const scoped = await scope(viewer, c, token);
      if (!scoped) return { count: 0, results: [], highlights: [] };
      // Ranked pages are offsets into the matches: they are read as of the first page.
      const where = order === 'rank' ? { ...scoped, upTo: token?.order === 'rank' ? token.upTo : await newestIndexed(sql) } : scoped;

      const count = await countMatches(sql, where);
      const { hits, next } = await page(viewer, where, order, token, limit, count);
      const texts = hits.map(({ event }) => event.content[SEARCHED[event.type]!.field]).filter((t): t is string => typeof t === 'string');
      const highlights = await matchedWords(sql, where.query, texts);

      const ctx = c.event_context;
      const before = Math.min(ctx?.before_limit ?? DEFAULT_CONTEXT, MAX_CONTEXT);
      const after = Math.min(ctx?.after_limit ?? DEFAULT_CONTEXT, MAX_CONTEXT);
      const results = await Promise.all(
        hits.map(async ({ hit, event }) => ({
          rank: hit.rank,
          result: event,
          ...(ctx
            ? {
                context: await deps.contextForSearch(viewer, hit.room_id, hit.event_id, {
                  before,
                  after,
                  profiles: ctx.include_profile === true,
                }),
              }
            : {}),
        })),
      );

      // Each group's results in page order; its own token continues that room or sender only.
      const continued = next && { ...next, room: token?.room, sender: token?.sender };
      const groups: Record<string, Record<string, { results: string[]; order: number; next_batch?: string }>> = {};
      for (const { key } of c.groupings?.group_by ?? []) {
        const byValue: Record<string, { results: string[]; order: number; next_batch?: string }> = {};
        for (const { hit } of hits) {
          const value = key === 'room_id' ? hit.room_id : hit.sender;
          const group = (byValue[value] ??= {
            results: [],
            order: Object.keys(byValue).length + 1,
            ...(continued
              ? { next_batch: formatBatchToken({ ...continued, ...(key === 'room_id' ? { room: value } : { sender: value }) }) }
              : {}),
          });
          group.results.push(hit.event_id);
        }
        groups[key] = byValue;
      }

      let state: Record<string, ClientEvent[]> | undefined;
      if (c.include_state) {
        const roomIds = [...new Set(hits.map(({ hit }) => hit.room_id))];
        state = Object.fromEntries(await Promise.all(roomIds.map(async (r) => [r, await deps.roomState(viewer, r)] as const)));
      }

      return {
        count,
        results,
        highlights,
        ...(Object.keys(groups).length > 0 ? { groups } : {}),
        ...(state ? { state } : {}),
        ...(continued ? { next_batch: formatBatchToken(continued) } : {}),
      };
    },
  };
}

export type Search = ReturnType<typeof createSearch>;
