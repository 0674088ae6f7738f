import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue, Pdu } from '../../../federation/events/pdu.ts';
import { roomVersion } from '../../../federation/room-versions.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { hierarchyRooms, type HierarchyRoomRow } from '../storage/hierarchy.ts';
import { membershipsOf } from '../storage/rooms.ts';
import { parseHistoryVisibility } from './history-visibility.ts';
import { publicRoomsChunk, type PublishedRoomsChunk } from './public-rooms.ts';
import type { RoomState } from './room-state.ts';

/** Rooms per page when the client names no limit (as Synapse), and the most it may ask for. */
export const HIERARCHY_DEFAULT_LIMIT = 50;
export const HIERARCHY_MAX_LIMIT = 100;
/** How deep the walk goes when the client names no max_depth, and the deepest it may ask for. */
export const HIERARCHY_MAX_DEPTH = 50;
/**
 * The most rooms one request looks at. Every page walks the tree again from the root (see
 * `formatToken`), so this bounds a page's cost; a tree larger than this ends there.
 */
const MAX_ROOMS_VISITED = 5_000;
/** Rooms read from storage together: the one the walk is at and those next on its stack. */
const LOAD_BATCH = 50;
/** The one encryption algorithm the spec defines, and so the one the response schema allows. */
const MEGOLM = 'm.megolm.v1.aes-sha2';

export interface HierarchyRequest {
  suggestedOnly: boolean;
  maxDepth: number;
  limit: number;
  from?: string | undefined;
}

/** An m.space.child event as stripped state, with the timestamp the children are ordered by. */
export interface StrippedChildEvent {
  type: string;
  state_key: string;
  content: JsonObject;
  sender: string;
  origin_server_ts: number;
}

export interface HierarchyRoomChunk extends PublishedRoomsChunk {
  room_version: string;
  encryption?: string;
  allowed_room_ids?: string[];
  children_state: StrippedChildEvent[];
}

export interface HierarchyResponse {
  rooms: HierarchyRoomChunk[];
  next_batch?: string;
}

/** A room this server knows, with what its entry shows and the walk reads. */
interface KnownRoom {
  row: HierarchyRoomRow;
  /** Content of the current summary state events (state key ''), by type. */
  summary: Record<string, JsonObject>;
  /** Its m.space.child events that name a child (a non-empty `via`), in the spec's order. */
  children: Pdu[];
}

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A child event whose `via` is missing, empty or not a list of servers removes the child (the spec's way to do so). */
function namesChild(content: JsonObject): boolean {
  const via = content.via;
  return Array.isArray(via) && via.length > 0 && via.every((v) => typeof v === 'string');
}

/** A valid `order`: at most 50 printable ASCII characters; others count as none. */
function orderOf(content: JsonObject): string | undefined {
  const o = content.order;
  return typeof o === 'string' && /^[\x20-\x7E]{0,50}$/.test(o) ? o : undefined;
}

const compare = <T extends string | number>(a: T, b: T): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The spec's order of a space's children: those with a valid `order` first, by it, then by
 * the child event's origin_server_ts, then by room ID in code point order (UTF-8 byte order is
 * code point order; JavaScript's string comparison is UTF-16's).
 */
function compareChildren(a: Pdu, b: Pdu): number {
  const oa = orderOf(a.content);
  const ob = orderOf(b.content);
  if (oa === undefined || ob === undefined) {
    if (oa !== ob) return oa === undefined ? 1 : -1;
  } else if (oa !== ob) return compare(oa, ob);
  return compare(a.origin_server_ts, b.origin_server_ts) || Buffer.compare(Buffer.from(a.state_key ?? ''), Buffer.from(b.state_key ?? ''));
}

/** The room IDs a restricted room's join rules let members of join; none unless the room's version has the rule. */
function allowedRoomIds(room: KnownRoom): string[] {
  const rules = room.summary['m.room.join_rules'];
  const version = roomVersion(room.row.room_version);
  const rule = rules?.join_rule;
  const restricted = (rule === 'restricted' && version?.restrictedJoins) || (rule === 'knock_restricted' && version?.knockRestricted);
  if (!restricted || !Array.isArray(rules?.allow)) return [];
  return rules.allow.flatMap((a) =>
    isObject(a) && a.type === 'm.room_membership' && typeof a.room_id === 'string' && a.room_id.startsWith('!') ? [a.room_id] : [],
  );
}

/**
 * Whether the requester may see a room in a hierarchy: the spec's list (joined or invited;
 * world_readable; a public or knockable room; a restricted one whose allow list names a room
 * they are joined to). A ban takes away what the join rules would give: a banned user cannot
 * join, so they see the room only if anyone may read it.
 */
function mayView(room: KnownRoom, membership: string | undefined, joinedRooms: ReadonlySet<string>): boolean {
  if (membership === 'join' || membership === 'invite') return true;
  if (parseHistoryVisibility(room.summary['m.room.history_visibility']?.history_visibility) === 'world_readable') return true;
  if (membership === 'ban') return false;
  const rule = room.summary['m.room.join_rules']?.join_rule;
  if (rule === 'public') return true;
  const version = roomVersion(room.row.room_version);
  if ((rule === 'knock' && version?.knocking) || (rule === 'knock_restricted' && version?.knockRestricted)) return true;
  return allowedRoomIds(room).some((id) => joinedRooms.has(id));
}

function stripped(e: Pdu): StrippedChildEvent {
  return { type: e.type, state_key: e.state_key ?? '', content: e.content, sender: e.sender, origin_server_ts: e.origin_server_ts };
}

function toChunk(room: KnownRoom, children: Pdu[]): HierarchyRoomChunk {
  const { row, summary } = room;
  const allowed = allowedRoomIds(room);
  const encryption = summary['m.room.encryption']?.algorithm === MEGOLM ? MEGOLM : undefined;
  return {
    ...publicRoomsChunk({ room_id: row.room_id, room_type: row.room_type, joined: row.joined, state: summary }),
    room_version: row.room_version,
    ...(encryption ? { encryption } : {}),
    ...(allowed.length > 0 ? { allowed_room_ids: allowed } : {}),
    children_state: children.map(stripped),
  };
}

/**
 * Pagination is stateless, so every process can serve the next page: the token names the
 * request it belongs to (a hash of requester, root, suggested_only and max_depth), how many
 * rooms were returned and the last of them. The next page walks the (deterministic) tree
 * again and resumes after that room: over an unchanged tree no room repeats and none is
 * skipped, and a room added or removed before it between pages moves nothing. Only if that
 * room is gone from the walk does the count say where to resume.
 */
interface Resume {
  count: number;
  last: string;
}

const bindingOf = (userId: string, roomId: string, req: HierarchyRequest): string =>
  createHash('sha256')
    .update(JSON.stringify([userId, roomId, req.suggestedOnly, req.maxDepth]))
    .digest('base64url')
    .slice(0, 22);

function formatToken(binding: string, r: Resume): string {
  return Buffer.from(JSON.stringify([binding, r.count, r.last])).toString('base64url');
}

function parseToken(token: string, binding: string): Resume {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    // malformed: below
  }
  if (!Array.isArray(v) || v.length !== 3 || typeof v[0] !== 'string' || !Number.isSafeInteger(v[1]) || (v[1] as number) < 1) {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown pagination token');
  }
  if (typeof v[2] !== 'string' || !v[2].startsWith('!')) throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown pagination token');
  if (v[0] !== binding) {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'The pagination token was made for another room or other suggested_only or max_depth');
  }
  return { count: v[1] as number, last: v[2] };
}

/** The rooms of one request, read from storage in batches and kept for the request. */
function roomLoader(sql: Sql, roomState: RoomState) {
  const known = new Map<string, KnownRoom | null>();

  async function load(roomIds: readonly string[]): Promise<void> {
    const missing = [...new Set(roomIds)].filter((id) => !known.has(id));
    if (missing.length === 0) return;
    const rows = await hierarchyRooms(sql, missing);
    const events = await roomState.loadEvents(
      sql,
      rows.flatMap((r) => r.state.map((e) => e.event_id)),
    );
    for (const id of missing) known.set(id, null);
    for (const row of rows) {
      const summary: Record<string, JsonObject> = {};
      const children: Pdu[] = [];
      for (const entry of row.state) {
        const pdu = events.get(entry.event_id)?.pdu;
        if (!pdu) continue;
        if (entry.type !== 'm.space.child') summary[entry.type] = pdu.content;
        else if (namesChild(pdu.content)) children.push(pdu);
      }
      known.set(row.room_id, { row, summary, children: children.sort(compareChildren) });
    }
  }

  return {
    /** The room, loaded with `alsoLoad` (the rooms likely asked for next) if it was not yet. */
    async get(roomId: string, alsoLoad: readonly string[] = []): Promise<KnownRoom | undefined> {
      if (!known.has(roomId)) await load([roomId, ...alsoLoad]);
      return known.get(roomId) ?? undefined;
    },
  };
}

interface WalkOptions {
  maxDepth: number;
  suggestedOnly: boolean;
  visible: (room: KnownRoom) => boolean;
}

/**
 * The rooms below `root` (itself first) that the requester may see, each once, depth first
 * as the spec's "Discovering rooms within spaces" says: a child space's rooms come right
 * after it, before its next sibling. Only a space's children are followed; a room the
 * requester may not see is left out with everything only reachable through it, and so is
 * a room this server does not know (a remote one: federation will fill those in).
 */
async function* walk(
  rooms: ReturnType<typeof roomLoader>,
  root: string,
  opts: WalkOptions,
): AsyncGenerator<{ room: KnownRoom; children: Pdu[] }> {
  const stack = [{ roomId: root, depth: 0 }];
  // Rooms taken off the stack: a cycle, or a room that is a child of two spaces, is walked once.
  const taken = new Set<string>();
  while (stack.length > 0 && taken.size < MAX_ROOMS_VISITED) {
    const { roomId, depth } = stack.pop()!;
    if (taken.has(roomId)) continue;
    taken.add(roomId);
    const room = await rooms.get(
      roomId,
      stack.slice(-LOAD_BATCH).map((e) => e.roomId),
    );
    if (!room || !opts.visible(room)) continue;
    const children =
      room.row.room_type !== 'm.space' ? [] : room.children.filter((e) => !opts.suggestedOnly || e.content.suggested === true);
    yield { room, children };
    if (depth >= opts.maxDepth) continue;
    for (let i = children.length - 1; i >= 0; i--) {
      const childId = children[i]!.state_key ?? '';
      if (!taken.has(childId)) stack.push({ roomId: childId, depth: depth + 1 });
    }
  }
}

/** GET /rooms/{roomId}/hierarchy over the rooms this server knows. */
export function createHierarchy({ sql, roomState }: { sql: Sql; roomState: RoomState }) {
  return {
    async hierarchy(userId: string, roomId: string, req: HierarchyRequest): Promise<HierarchyResponse> {
      const binding = bindingOf(userId, roomId, req);
      const resume = req.from === undefined ? undefined : parseToken(req.from, binding);
      const memberships = new Map((await membershipsOf(sql, userId)).map((m) => [m.room_id, m.membership]));
      const joinedRooms = new Set([...memberships].filter(([, m]) => m === 'join').map(([id]) => id));
      const visible = (room: KnownRoom) => mayView(room, memberships.get(room.row.room_id), joinedRooms);

      const rooms = roomLoader(sql, roomState);
      const rootRoom = await rooms.get(roomId);
      // An unknown room gets the same answer as one the requester may not see, as the spec lists both under 403.
      if (!rootRoom || !visible(rootRoom)) throw new MatrixError(403, 'M_FORBIDDEN', 'You are not allowed to view this room');

      // One room past the page says whether there is a next page (so none ends up empty).
      const afterLast: HierarchyRoomChunk[] = [];
      const fromCount: HierarchyRoomChunk[] = [];
      let found = resume === undefined;
      let index = 0;
      for await (const { room, children } of walk(rooms, roomId, { ...req, visible })) {
        if (found) {
          afterLast.push(toChunk(room, children));
          if (afterLast.length > req.limit) break;
        } else if (room.row.room_id === resume!.last) {
          found = true;
        } else if (index++ >= resume!.count - 1 && fromCount.length <= req.limit) {
          // The last room is gone: the count - 1 rooms before it were shown, so this one was not.
          fromCount.push(toChunk(room, children));
        }
      }
      const chunk = found ? afterLast : fromCount;
      const page = chunk.slice(0, req.limit);
      const last = page[page.length - 1];
      return {
        rooms: page,
        ...(chunk.length > req.limit && last
          ? { next_batch: formatToken(binding, { count: (resume?.count ?? 0) + page.length, last: last.room_id }) }
          : {}),
      };
    },
  };
}

export type Hierarchy = ReturnType<typeof createHierarchy>;
