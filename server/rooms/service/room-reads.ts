import { stateKey, type JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import {
  roomEventsBetween,
  roomEventsTopological,
  TOPO_START,
  topoPointAtStream,
  type StoredEvent,
  type TopoPoint,
} from '../storage/events.ts';
import { membershipsOf } from '../storage/rooms.ts';
import type { ClientEvent } from './client-event.ts';
import { matchesFilter, type EventSelector } from '../../matrix/index.ts';
import type { EventSerializer, Viewer } from './event-serializer.ts';
import type { ViewRoom } from './room-access.ts';
import type { RoomState } from './room-state.ts';
import { formatTopoToken, parsePageToken, type PageToken } from './stream-token.ts';
import type { Visibility } from './visibility.ts';

export interface ReadDeps {
  sql: Sql;
  roomState: RoomState;
  visibility: Visibility;
  serializer: EventSerializer;
  viewRoom: ViewRoom;
  /** Senders whose events the viewer does not want (m.ignored_user_list). */
  ignoredBy: (userId: string) => Promise<Set<string>>;
}

export interface PageRequest {
  from?: string | undefined;
  to?: string | undefined;
  dir: 'b' | 'f';
  limit: number;
  filter?: EventSelector | undefined;
}

/** Reading rooms: history, single events, state and members, all through history visibility. */
export function createRoomReads({ sql, roomState, visibility, serializer, viewRoom, ignoredBy }: ReadDeps) {
  /**
   * Walks the room in topological order from a point, keeping events the viewer
   * may see and the filter selects, until `limit` are found or the room runs out.
   * The cursor is the point just past the last event scanned.
   */
  async function walk(
    viewer: Viewer,
    roomId: string,
    from: TopoPoint,
    to: TopoPoint | undefined,
    backwards: boolean,
    limit: number,
    maxStream: number,
    filter?: EventSelector,
  ) {
    const ignored = await ignoredBy(viewer.userId);
    const out: StoredEvent[] = [];
    let cursor = from;
    let exhausted = false;
    const batchSize = Math.min(Math.max(limit * 2, 20), 500);
    while (out.length < limit) {
      const batch = await roomEventsTopological(sql, roomId, { from: cursor, bound: to, backwards, limit: batchSize, maxStream });
      const selected = batch.filter((e) => matchesFilter(filter, e.pdu, roomId) && !ignored.has(e.pdu.sender));
      const visible = new Set(await visibility.filter(sql, viewer.userId, selected));
      for (const e of batch) {
        // The cursor moves past every event scanned, so the next page does not rescan.
        cursor = backwards ? pointOf(e) : { depth: e.pdu.depth, stream: e.streamPos + 1 };
        if (visible.has(e)) out.push(e);
        if (out.length >= limit) break;
      }
      if (batch.length < batchSize && out.length < limit) {
        exhausted = true;
        break;
      }
    }
    return { events: out, cursor, exhausted };
  }

  /** A client's token as a topological point; a stream token is the point just after the newest event at or before it. */
  async function tokenPoint(roomId: string, token: PageToken): Promise<TopoPoint> {
    if (token.kind === 'topo') return token.point;
    const at = await topoPointAtStream(sql, roomId, token.pos);
    return at ? { depth: at.depth, stream: at.stream + 1 } : TOPO_START;
  }

  /**
   * Member events of the senders on a page, for lazy-loading clients: each
   * sender's as of the first of their events on the page, so a sender who joined
   * within the page (after the oldest event) is there too.
   */
  async function lazyMembers(events: StoredEvent[], viewer: Viewer): Promise<ClientEvent[]> {
    const bySender = new Map<string, string>();
    for (const e of events) {
      if (bySender.has(e.pdu.sender)) continue;
      const id = (await roomState.stateIds(sql, e.stateGroup)).get(stateKey('m.room.member', e.pdu.sender));
      if (id) bySender.set(e.pdu.sender, id);
    }
    const loaded = [...(await roomState.loadEvents(sql, [...new Set(bySender.values())])).values()];
    return serializer.serialize(sql, loaded, viewer, { bundle: false });
  }

  /**
   * An event with `before` and `after` visible events around it, the room's state after the
   * last of them, and the senders' profiles in that state (display name and avatar).
   */
  async function around(
    viewer: Viewer,
    roomId: string,
    eventId: string,
    opts: { before: number; after: number; filter?: EventSelector | undefined },
  ) {
    const view = await viewRoom(viewer.userId, roomId);
    const e = await roomState.loadEvent(sql, eventId);
    if (!e || e.roomId !== roomId || !e.inTimeline || !(await visibility.canSeeEvent(sql, viewer.userId, e))) {
      throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found');
    }
    const at = pointOf(e);
    const before = await walk(viewer, roomId, at, undefined, true, opts.before, view.upTo, opts.filter);
    const after = await walk(viewer, roomId, { ...at, stream: at.stream + 1 }, undefined, false, opts.after, view.upTo, opts.filter);
    const all = [e, ...before.events, ...after.events];
    const state = await roomState.loadState(sql, (after.events[after.events.length - 1] ?? e).stateGroup);
    const stateEvents = async () =>
      opts.filter?.lazy_load_members
        ? lazyMembers(all, viewer)
        : serializer.serialize(sql, [...(await roomState.loadEvents(sql, [...state.ids.values()])).values()], viewer, { bundle: false });
    const profiles: Record<string, JsonObject> = {};
    for (const sender of new Set(all.map((x) => x.pdu.sender))) {
      const member = state.get('m.room.member', sender)?.content;
      if (!member) continue;
      profiles[sender] = {
        ...(typeof member.displayname === 'string' ? { displayname: member.displayname } : {}),
        ...(typeof member.avatar_url === 'string' ? { avatar_url: member.avatar_url } : {}),
      };
    }
    const [event, ...rest] = await serializer.serialize(sql, all, viewer);
    return {
      event: event!,
      events_before: rest.slice(0, before.events.length),
      events_after: rest.slice(before.events.length),
      start: formatTopoToken(before.cursor),
      end: formatTopoToken(after.cursor),
      /** Read only when asked for: /context always, search never. */
      state: stateEvents,
      profiles,
    };
  }

  return {
    async messages(viewer: Viewer, roomId: string, req: PageRequest) {
      const view = await viewRoom(viewer.userId, roomId);
      const backwards = req.dir === 'b';
      const fromToken = req.from !== undefined ? parsePageToken(req.from) : undefined;
      const toToken = req.to !== undefined ? parsePageToken(req.to, 'to') : undefined;
      // A stream token also caps the stream: nothing that arrived after it (and nothing past a leave).
      const maxStream = Math.min(view.upTo, fromToken?.kind === 'stream' && backwards ? fromToken.pos : Number.MAX_SAFE_INTEGER);
      // Without `from`, backwards starts just after the newest event the viewer may see: a real point, so `start` can be reused.
      const from = fromToken
        ? await tokenPoint(roomId, fromToken)
        : backwards
          ? await tokenPoint(roomId, { kind: 'stream', pos: view.upTo })
          : TOPO_START;
      const to = toToken ? await tokenPoint(roomId, toToken) : undefined;
      const { events, cursor, exhausted } = await walk(viewer, roomId, from, to, backwards, req.limit, maxStream, req.filter);
      const chunk = await serializer.serialize(sql, events, viewer);
      const start = req.from ?? formatTopoToken(from);
      const state = req.filter?.lazy_load_members && events.length > 0 ? await lazyMembers(events, viewer) : [];
      return {
        chunk,
        start,
        ...(exhausted && events.length < req.limit ? {} : { end: formatTopoToken(cursor) }),
        ...(state.length > 0 ? { state } : {}),
      };
    },

    async event(viewer: Viewer, roomId: string, eventId: string): Promise<ClientEvent> {
      await viewRoom(viewer.userId, roomId).catch(() => {
        throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found');
      });
      const e = await roomState.loadEvent(sql, eventId);
      // Rejected, soft-failed and outlier events, and redactions held back, are not the room's history.
      if (!e || e.roomId !== roomId || !e.inTimeline || !(await visibility.canSeeEvent(sql, viewer.userId, e))) {
        throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found');
      }
      return (await serializer.serialize(sql, [e], viewer))[0]!;
    },

    /** /context: `limit` events around the event, half before it. */
    async context(viewer: Viewer, roomId: string, eventId: string, limit: number, filter?: EventSelector) {
      const half = Math.floor(limit / 2);
      const {
        state,
        profiles: _profiles,
        ...context
      } = await around(viewer, roomId, eventId, { before: half, after: limit - half, filter });
      return { ...context, state: await state() };
    },

    /** Search's event_context: its own counts before and after, and the senders' profiles then. */
    async contextForSearch(viewer: Viewer, roomId: string, eventId: string, opts: { before: number; after: number; profiles: boolean }) {
      const { event: _event, state: _state, profiles, ...context } = await around(viewer, roomId, eventId, opts);
      return { ...context, ...(opts.profiles ? { profile_info: profiles } : {}) };
    },

    /**
     * Of these events, those the viewer may see now as client events, in the order given: in
     * the room's timeline, not redacted, visible by history visibility, not from an ignored
     * sender. What search shows of the events its index found.
     */
    async visibleEvents(viewer: Viewer, eventIds: readonly string[]): Promise<ClientEvent[]> {
      const loaded = await roomState.loadEvents(sql, [...eventIds]);
      const ignored = await ignoredBy(viewer.userId);
      const candidates = eventIds
        .map((id) => loaded.get(id))
        .filter((e): e is StoredEvent => !!e && e.inTimeline && e.redactedBy === null && !ignored.has(e.pdu.sender));
      return serializer.serialize(sql, await visibility.filter(sql, viewer.userId, candidates), viewer);
    },

    /** For search's index: of these events, those in a room's timeline and not redacted. */
    async searchableEvents(
      eventIds: readonly string[],
    ): Promise<Map<string, { roomId: string; pdu: StoredEvent['pdu']; streamPos: number }>> {
      const loaded = await roomState.loadEvents(sql, [...eventIds]);
      const out = new Map<string, { roomId: string; pdu: StoredEvent['pdu']; streamPos: number }>();
      for (const [id, e] of loaded)
        if (e.inTimeline && e.redactedBy === null) out.set(id, { roomId: e.roomId, pdu: e.pdu, streamPos: e.streamPos });
      return out;
    },

    async state(viewer: Viewer, roomId: string): Promise<ClientEvent[]> {
      const view = await viewRoom(viewer.userId, roomId);
      if (view.membership === 'invite' || view.membership === 'knock')
        throw new MatrixError(403, 'M_FORBIDDEN', 'You are not in this room');
      const ids = await roomState.stateIds(sql, view.stateGroup);
      const events = [...(await roomState.loadEvents(sql, [...ids.values()])).values()];
      return serializer.serialize(sql, events, viewer, { bundle: false });
    },

    async stateEvent(viewer: Viewer, roomId: string, type: string, stateKey: string): Promise<ClientEvent> {
      const view = await viewRoom(viewer.userId, roomId);
      if (view.membership === 'invite' || view.membership === 'knock')
        throw new MatrixError(403, 'M_FORBIDDEN', 'You are not in this room');
      const state = await roomState.loadState(sql, view.stateGroup);
      const ev = state.get(type, stateKey);
      if (!ev) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found');
      const stored = await roomState.loadEvent(sql, ev.event_id);
      return (await serializer.serialize(sql, [stored!], viewer, { bundle: false }))[0]!;
    },

    async members(
      viewer: Viewer,
      roomId: string,
      opts: { at?: string | undefined; membership?: string | undefined; notMembership?: string | undefined },
    ) {
      const view = await viewRoom(viewer.userId, roomId);
      let group = view.stateGroup;
      if (opts.at !== undefined) {
        const token = parsePageToken(opts.at, 'at');
        const [head] =
          token.kind === 'stream'
            ? await roomEventsBetween(sql, roomId, { upTo: Math.min(token.pos, view.upTo), backwards: true, limit: 1 })
            : await roomEventsTopological(sql, roomId, { from: token.point, backwards: true, limit: 1, maxStream: view.upTo });
        // A point before the room's first event: nobody was a member yet.
        group = head ? head.stateGroup : null;
      }
      const state = await roomState.loadState(sql, group);
      const members = state.events().filter((e) => e.type === 'm.room.member');
      const selected = members.filter((m) => {
        const ms = m.content.membership;
        if (opts.membership !== undefined && ms !== opts.membership) return false;
        if (opts.notMembership !== undefined && ms === opts.notMembership) return false;
        return true;
      });
      const stored = [
        ...(
          await roomState.loadEvents(
            sql,
            selected.map((m) => m.event_id),
          )
        ).values(),
      ];
      return serializer.serialize(sql, stored, viewer, { bundle: false });
    },

    async joinedMembers(viewer: Viewer, roomId: string): Promise<Record<string, JsonObject>> {
      const view = await viewRoom(viewer.userId, roomId);
      if (view.membership !== 'join') throw new MatrixError(403, 'M_FORBIDDEN', 'You are not in this room');
      const state = await roomState.loadState(sql, view.stateGroup);
      const joined: Record<string, JsonObject> = {};
      for (const m of state.events()) {
        if (m.type !== 'm.room.member' || m.content.membership !== 'join') continue;
        joined[m.state_key!] = {
          ...(typeof m.content.displayname === 'string' ? { display_name: m.content.displayname } : {}),
          ...(typeof m.content.avatar_url === 'string' ? { avatar_url: m.content.avatar_url } : {}),
        };
      }
      return joined;
    },

    async joinedRooms(userId: string): Promise<string[]> {
      return (await membershipsOf(sql, userId)).filter((m) => m.membership === 'join').map((m) => m.room_id);
    },
  };
}

export type RoomReads = ReturnType<typeof createRoomReads>;

function pointOf(e: StoredEvent): TopoPoint {
  return { depth: e.pdu.depth, stream: e.streamPos };
}
