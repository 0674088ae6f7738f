import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { countPublicRooms, publicRooms, type DirectoryKey, type PublicRoomRow } from '../storage/public-rooms.ts';
import { getRoom, setRoomPublic } from '../storage/rooms.ts';
import { canEditDirectory, type DirectoryActor } from './directory-permission.ts';
import type { Membership } from './membership.ts';

export interface PublishedRoomsChunk {
  room_id: string;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  name?: string;
  topic?: string;
  canonical_alias?: string;
  avatar_url?: string;
  join_rule?: string;
  room_type?: string;
}

export interface PublicRoomsRequest {
  limit: number;
  since?: string | undefined;
  search?: string | undefined;
  roomTypes?: Array<string | null> | undefined;
  /** A third-party network; this server bridges none, so naming one finds nothing. */
  thirdPartyInstanceId?: string | undefined;
}

export interface PublicRoomsResponse {
  chunk: PublishedRoomsChunk[];
  next_batch?: string;
  prev_batch?: string;
  total_room_count_estimate: number;
}

/**
 * Pagination tokens name a room's place in the directory order and the
 * direction to go from it: `f` for the rooms after it, `b` for those before.
 */
function formatSince(dir: 'f' | 'b', key: DirectoryKey): string {
  return Buffer.from(JSON.stringify([dir, key.joined, key.roomId])).toString('base64url');
}

function parseSince(token: string): { dir: 'f' | 'b'; key: DirectoryKey } {
  try {
    const v: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 3 && (v[0] === 'f' || v[0] === 'b') && Number.isSafeInteger(v[1]) && typeof v[2] === 'string') {
      return { dir: v[0], key: { joined: v[1] as number, roomId: v[2] } };
    }
  } catch {
    // fall through
  }
  throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown pagination token');
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The plain-text topic: the text/plain entry of m.topic's m.text blocks, else the `topic` fallback.
 * A bare array under m.topic is the shape of MSC3765's drafts, still sent by older clients.
 */
function plainTopic(content: JsonObject | undefined): string | undefined {
  if (!content) return undefined;
  const rich = content['m.topic'];
  const blocks = rich && typeof rich === 'object' && !Array.isArray(rich) ? rich['m.text'] : rich;
  if (Array.isArray(blocks)) {
    for (const b of blocks) {
      if (
        b &&
        typeof b === 'object' &&
        !Array.isArray(b) &&
        (b.mimetype === undefined || b.mimetype === 'text/plain') &&
        typeof b.body === 'string'
      )
        return b.body;
    }
  }
  return str(content.topic);
}

/** A room's directory entry; also the summary part of a space hierarchy's entries. */
export function publicRoomsChunk(row: PublicRoomRow): PublishedRoomsChunk {
  const s = row.state ?? {};
  const alias = str(s['m.room.canonical_alias']?.alias);
  const avatar = str(s['m.room.avatar']?.url);
  const name = str(s['m.room.name']?.name);
  const topic = plainTopic(s['m.room.topic']);
  const joinRule = str(s['m.room.join_rules']?.join_rule);
  return {
    room_id: row.room_id,
    num_joined_members: row.joined,
    world_readable: s['m.room.history_visibility']?.history_visibility === 'world_readable',
    guest_can_join: s['m.room.guest_access']?.guest_access === 'can_join',
    ...(name !== undefined ? { name } : {}),
    ...(topic !== undefined ? { topic } : {}),
    ...(alias?.startsWith('#') ? { canonical_alias: alias } : {}),
    ...(avatar?.startsWith('mxc://') ? { avatar_url: avatar } : {}),
    ...(joinRule !== undefined ? { join_rule: joinRule } : {}),
    ...(row.room_type !== null ? { room_type: row.room_type } : {}),
  };
}

/** The published room directory (GET/POST /publicRooms) and which rooms are in it. */
export function createPublicRooms({ sql, membership }: { sql: Sql; membership: Membership }) {
  return {
    async list(req: PublicRoomsRequest): Promise<PublicRoomsResponse> {
      if (req.thirdPartyInstanceId !== undefined) return { chunk: [], total_room_count_estimate: 0 };
      const total = await countPublicRooms(sql);
      const since = req.since !== undefined ? parseSince(req.since) : undefined;
      const backwards = since?.dir === 'b';
      const rows = await publicRooms(sql, {
        search: req.search,
        roomTypes: req.roomTypes,
        key: since?.key,
        backwards,
        limit: req.limit + 1,
      });
      const more = rows.length > req.limit;
      const page = rows.slice(0, req.limit);
      if (backwards) page.reverse();
      const first = page[0];
      const last = page[page.length - 1];
      const key = (r: PublicRoomRow): DirectoryKey => ({ joined: r.joined, roomId: r.room_id });
      // Going forwards there is a previous page whenever we started from a token; backwards, a next one.
      const hasNext = backwards ? since !== undefined : more;
      const hasPrev = backwards ? more : since !== undefined;
      return {
        chunk: page.map(publicRoomsChunk),
        ...(hasNext && last ? { next_batch: formatSince('f', key(last)) } : {}),
        ...(hasPrev && first ? { prev_batch: formatSince('b', key(first)) } : {}),
        total_room_count_estimate: total,
      };
    },

    async visibility(roomId: string): Promise<'public' | 'private'> {
      const room = await getRoom(sql, roomId);
      if (!room) throw new MatrixError(404, 'M_NOT_FOUND', 'Room not found');
      return room.is_public ? 'public' : 'private';
    },

    /** Publishing needs the power to change the room's canonical alias (see canEditDirectory). */
    async setVisibility(actor: DirectoryActor, roomId: string, visibility: 'public' | 'private'): Promise<void> {
      if (!(await getRoom(sql, roomId))) throw new MatrixError(404, 'M_NOT_FOUND', 'Room not found');
      if (!(await canEditDirectory(membership, actor, roomId))) {
        throw new MatrixError(403, 'M_FORBIDDEN', 'You do not have permission to change how this room is listed');
      }
      await setRoomPublic(sql, roomId, visibility === 'public');
    },
  };
}

export type PublicRooms = ReturnType<typeof createPublicRooms>;
