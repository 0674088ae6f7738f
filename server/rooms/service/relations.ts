import { redactEvent } from '../../../federation/events/index.ts';
import { roomVersion } from '../../../federation/room-versions.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import type { StoredEvent } from '../storage/events.ts';
import { relationsPage, threadRoots } from '../storage/relations.ts';
import { getRoom } from '../storage/rooms.ts';
import type { ClientEvent } from './client-event.ts';
import type { EventSerializer, Viewer } from './event-serializer.ts';
import type { ViewRoom } from './room-access.ts';
import type { RoomState } from './room-state.ts';
import { formatToken, streamPosOfToken } from './stream-token.ts';
import type { Visibility } from './visibility.ts';

/** How many levels of relations-of-relations `recurse=true` follows (the spec asks for at least 3). */
export const RELATIONS_RECURSION_DEPTH = 3;

export interface RelationsDeps {
  sql: Sql;
  roomState: RoomState;
  visibility: Visibility;
  serializer: EventSerializer;
  viewRoom: ViewRoom;
  ignoredBy: (userId: string) => Promise<Set<string>>;
}

export interface RelationsRequest {
  relType?: string | undefined;
  eventType?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  dir: 'b' | 'f';
  limit: number;
  /** Absent when the client did not send `recurse`; then recursion_depth is absent too. */
  recurse?: boolean | undefined;
}

export interface RelationsResponse {
  chunk: ClientEvent[];
  next_batch?: string;
  prev_batch?: string;
  recursion_depth?: number;
}

/**
 * /relations and /threads: child events of an event and the thread roots of a
 * room, paginated by stream position (the same `s<pos>` tokens as /messages and
 * /sync) and filtered by history visibility and the viewer's ignore list.
 */
export function createRelations({ sql, roomState, visibility, serializer, viewRoom, ignoredBy }: RelationsDeps) {
  const notFound = () => new MatrixError(404, 'M_NOT_FOUND', 'Event not found');

  async function visibleTo(viewer: Viewer, events: StoredEvent[]): Promise<StoredEvent[]> {
    const ignored = await ignoredBy(viewer.userId);
    return visibility.filter(
      sql,
      viewer.userId,
      events.filter((e) => !ignored.has(e.pdu.sender)),
    );
  }

  async function loadInOrder(ids: string[]): Promise<StoredEvent[]> {
    const loaded = await roomState.loadEvents(sql, ids);
    return ids.flatMap((id) => loaded.get(id) ?? []);
  }

  return {
    async relations(viewer: Viewer, roomId: string, eventId: string, req: RelationsRequest): Promise<RelationsResponse> {
      // Someone who may not read the room is told the event does not exist, as for an unknown one.
      await viewRoom(viewer.userId, roomId).catch(() => {
        throw notFound();
      });
      const parent = await roomState.loadEvent(sql, eventId);
      if (!parent || parent.roomId !== roomId || !(await visibility.canSeeEvent(sql, viewer.userId, parent))) throw notFound();

      const backwards = req.dir === 'b';
      const depth = req.recurse ? RELATIONS_RECURSION_DEPTH : 1;
      const rows = await relationsPage(sql, roomId, eventId, {
        relType: req.relType,
        eventType: req.eventType,
        from: req.from !== undefined ? streamPosOfToken(req.from) : undefined,
        to: req.to !== undefined ? streamPosOfToken(req.to, 'to') : undefined,
        backwards,
        // One more than asked tells whether another page follows.
        limit: req.limit + 1,
        depth,
      });
      const page = rows.slice(0, req.limit);
      const last = page[page.length - 1];
      const events = await visibleTo(viewer, await loadInOrder(page.map((r) => r.event_id)));
      return {
        chunk: await serializer.serialize(sql, events, viewer),
        ...(rows.length > req.limit && last ? { next_batch: formatToken(backwards ? last.stream_pos - 1 : last.stream_pos) } : {}),
        ...(req.from !== undefined ? { prev_batch: req.from } : {}),
        ...(req.recurse !== undefined ? { recursion_depth: depth } : {}),
      };
    },

    async threads(viewer: Viewer, roomId: string, req: { include: 'all' | 'participated'; from?: string | undefined; limit: number }) {
      await viewRoom(viewer.userId, roomId);
      const rows = await threadRoots(sql, roomId, {
        participatedBy: req.include === 'participated' ? viewer.userId : undefined,
        upTo: req.from !== undefined ? streamPosOfToken(req.from) : undefined,
        limit: req.limit + 1,
      });
      const page = rows.slice(0, req.limit);
      const last = page[page.length - 1];
      const roots = await visibility.filter(sql, viewer.userId, await loadInOrder(page.map((r) => r.root)));
      // A root sent by an ignored user is shown redacted, as a client aggregating locally would see it.
      const ignored = await ignoredBy(viewer.userId);
      const shown = await Promise.all(roots.map((e) => (ignored.has(e.pdu.sender) ? pruned(e) : e)));
      return {
        chunk: await serializer.serialize(sql, shown, viewer),
        ...(rows.length > req.limit && last ? { next_batch: formatToken(last.latest - 1) } : {}),
      };
    },
  };

  async function pruned(e: StoredEvent): Promise<StoredEvent> {
    const room = await getRoom(sql, e.roomId);
    const version = room ? roomVersion(room.room_version) : undefined;
    if (!version) return e;
    return { ...e, pdu: { ...redactEvent(e.pdu, version), event_id: e.pdu.event_id } };
  }
}

export type Relations = ReturnType<typeof createRelations>;
