import type { JsonObject } from '../../../../federation/events/pdu.ts';
import { matchesFilter } from '../../../matrix/index.ts';
import { roomSummary, syncRoomTimeline } from '../room-sync.ts';
import { STRIPPED_STATE_TYPES, strippedStateEvent } from '../stripped-state.ts';
import type { Membership, RoomSet } from './memberships.ts';
import { inParallel } from './in-parallel.ts';
import type { RoomStream, SyncPass } from './pass.ts';

export interface RoomSections {
  join: Record<string, unknown>;
  invite: Record<string, unknown>;
  leave: Record<string, unknown>;
  knock: Record<string, unknown>;
}

/** Streams that add to each joined room besides its timeline: ephemeral events and room account data. */
export interface RoomExtras {
  ephemeral: RoomStream[];
  accountData: RoomStream;
}

/** rooms.{join,invite,leave,knock}: timeline, state, summary and unread counts of each room. */
export async function roomsProvider(pass: SyncPass, rooms: RoomSet, extrasRead: Promise<RoomExtras>): Promise<RoomSections> {
  const { sql, src, since, sincePos, upTo } = pass;
  // Which rooms have new events is read while the extras (receipts) are.
  const [withEventIds, extras] = await Promise.all([
    since ? src.roomsWithEventsSince(sql, rooms.joinedIds, sincePos, upTo.pos) : rooms.joinedIds,
    extrasRead,
  ]);
  const withEvents = new Set(withEventIds);
  const newMembership = (m: Membership) => !since || m.stream_pos > sincePos;
  const touched = (roomId: string) => extras.ephemeral.some((s) => s.touched(roomId)) || extras.accountData.touched(roomId);
  // A joined room is in the response if the client has not seen it whole, or something in it moved.
  const shown = rooms.wanted.filter(
    (m) => m.membership === 'join' && (pass.fullState || newMembership(m) || withEvents.has(m.room_id) || touched(m.room_id)),
  );
  const readPos = await src.readUpTo(
    sql,
    shown.map((m) => m.room_id),
    pass.viewer.userId,
  );
  const out: RoomSections = { join: {}, invite: {}, leave: {}, knock: {} };
  const sections = await inParallel(shown, pass.roomsInParallel, (m) =>
    joinedRoom(pass, rooms, extras, m, newMembership(m), withEvents.has(m.room_id), readPos),
  );
  shown.forEach((m, i) => (out.join[m.room_id] = sections[i]));
  for (const m of rooms.wanted) {
    if ((m.membership === 'invite' || m.membership === 'knock') && newMembership(m)) {
      const events = await strippedRoom(pass, rooms, m);
      if (!events) continue;
      if (m.membership === 'invite') out.invite[m.room_id] = { invite_state: { events } };
      else out.knock[m.room_id] = { knock_state: { events } };
    } else if (m.membership === 'leave' || m.membership === 'ban') {
      // Forgetting hides the room from initial syncs only: a client whose token predates the leave
      // still needs it once, or the room stays joined on its side.
      if (since ? m.stream_pos <= sincePos : !pass.filter.room?.include_leave || rooms.forgotten.has(m.room_id)) continue;
      const window = { roomId: m.room_id, after: since ? sincePos : 0, upTo: m.stream_pos, fresh: !since || pass.fullState };
      const { timeline, state } = await syncRoomTimeline(sql, src, pass.viewer, window, pass.filter, rooms.ignored);
      out.leave[m.room_id] = { timeline, state, account_data: { events: [] } };
    }
  }
  return out;
}

async function joinedRoom(
  pass: SyncPass,
  rooms: RoomSet,
  extras: RoomExtras,
  m: Membership,
  newMembership: boolean,
  hasEvents: boolean,
  readPos: Map<string, number>,
) {
  const { sql, src, since, sincePos, upTo, viewer, filter } = pass;
  const roomId = m.room_id;
  const fresh = pass.fullState || newMembership;
  const window = { roomId, after: fresh ? 0 : sincePos, upTo: upTo.pos, fresh, newlyJoined: !!since && newMembership };
  const unreadAfter = readPos.get(roomId) ?? m.stream_pos;
  // The unread count does not wait for the timeline: its read joins the pass's first batch.
  const [{ timeline, state, timelineEvents, head }, notificationCount] = await Promise.all([
    hasEvents || fresh
      ? syncRoomTimeline(sql, src, viewer, window, filter, rooms.ignored)
      : {
          timeline: { events: [], limited: false, prev_batch: `s${upTo.pos}` },
          state: { events: [] },
          timelineEvents: [],
          head: undefined,
        },
    src.countUnread(sql, roomId, viewer.userId, unreadAfter, upTo.pos),
  ]);
  const membershipChanged = fresh || timelineEvents.some((e) => e.pdu.type === 'm.room.member');
  const ephemeral: JsonObject[] = extras.ephemeral.flatMap((s) => s.events(roomId));
  return {
    timeline,
    state,
    ephemeral: { events: ephemeral.filter((e) => matchesFilter(filter.room?.ephemeral, e as never, roomId)) },
    account_data: { events: extras.accountData.events(roomId) },
    ...(membershipChanged ? { summary: await roomSummary(sql, src, roomId, upTo.pos, viewer.userId, head) } : {}),
    unread_notifications: { notification_count: notificationCount, highlight_count: 0 },
  };
}

/** invite_state / knock_state: the stripped state before the membership event, and the event itself. */
async function strippedRoom(pass: SyncPass, rooms: RoomSet, m: Membership): Promise<JsonObject[] | undefined> {
  const { sql, src, viewer } = pass;
  const ev = await src.loadEvent(sql, m.event_id);
  if (!ev || rooms.ignored.has(ev.pdu.sender)) return undefined;
  const state = await src.loadState(sql, ev.stateGroupBefore);
  const stripped = state
    .events()
    .filter((e) => STRIPPED_STATE_TYPES.has(e.type))
    .map(strippedStateEvent);
  const own = (await src.serialize(sql, [ev], viewer, false))[0]!;
  return [...stripped, { type: own.type, state_key: own.state_key ?? '', sender: own.sender, content: own.content }];
}
