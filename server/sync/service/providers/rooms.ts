import type { JsonObject } from '../../../../federation/events/pdu.ts';
import type { ThreadCounts } from '../../../push/index.ts';
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
  const [withEventIds, extras, countsMoved] = await Promise.all([
    since ? src.roomsWithEventsSince(sql, rooms.joinedIds, sincePos, upTo.pos) : rooms.joinedIds,
    extrasRead,
    since ? src.roomsWithNewCounts(sql, pass.viewer.userId, sincePos, upTo.pos) : [],
  ]);
  const withEvents = new Set(withEventIds);
  const newCounts = new Set(countsMoved);
  const newMembership = (m: Membership) => !since || m.stream_pos > sincePos;
  const touched = (roomId: string) =>
    extras.ephemeral.some((s) => s.touched(roomId)) || extras.accountData.touched(roomId) || newCounts.has(roomId);
  // A joined room is in the response if the client has not seen it whole, or something in it moved.
  const shown = rooms.wanted.filter(
    (m) => m.membership === 'join' && (pass.fullState || newMembership(m) || withEvents.has(m.room_id) || touched(m.room_id)),
  );
  const readPos = await src.readPositions(
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
  readPos: Map<string, Record<string, number>>,
) {
  const { sql, src, since, sincePos, upTo, viewer, filter } = pass;
  const roomId = m.room_id;
  const fresh = pass.fullState || newMembership;
  const window = { roomId, after: fresh ? 0 : sincePos, upTo: upTo.pos, fresh, newlyJoined: !!since && newMembership };
  // Unthreaded receipts count for every thread, the others for their own (and 'main' for the
  // room's own timeline). Without any, everything that notified the user counts: the push
  // consumer judges events only for members, and a profile change moves m.stream_pos.
  const { '': unthreaded, ...byThread } = readPos.get(roomId) ?? {};
  const countKey = { roomId, userId: viewer.userId, after: unthreaded ?? 0, upTo: upTo.pos, threadAfter: byThread };
  // The unread counts do not wait for the timeline: their read joins the pass's first batch.
  const [{ timeline, state, timelineEvents, head }, counts] = await Promise.all([
    hasEvents || fresh
      ? syncRoomTimeline(sql, src, viewer, window, filter, rooms.ignored)
      : {
          timeline: { events: [], limited: false, prev_batch: `s${upTo.pos}` },
          state: { events: [] },
          timelineEvents: [],
          head: undefined,
        },
    src.unreadCounts(sql, countKey),
  ]);
  const membershipChanged = fresh || timelineEvents.some((e) => e.pdu.type === 'm.room.member');
  const ephemeral: JsonObject[] = extras.ephemeral.flatMap((s) => s.events(roomId));
  return {
    timeline,
    state,
    ephemeral: { events: ephemeral.filter((e) => matchesFilter(filter.room?.ephemeral, e as never, roomId)) },
    account_data: { events: extras.accountData.events(roomId) },
    ...(membershipChanged ? { summary: await roomSummary(sql, src, roomId, upTo.pos, viewer.userId, head) } : {}),
    ...unreadSections(counts, filter.room?.timeline?.unread_thread_notifications === true),
  };
}

/**
 * unread_notifications, and with a filter asking for them (MSC3773), unread_thread_notifications:
 * then the room's own count leaves out its threads, which are counted each on its own.
 */
function unreadSections(counts: readonly ThreadCounts[], perThread: boolean) {
  const section = (c: readonly ThreadCounts[]) => ({
    notification_count: c.reduce((n, t) => n + t.notify, 0),
    highlight_count: c.reduce((n, t) => n + t.highlight, 0),
  });
  if (!perThread) return { unread_notifications: section(counts) };
  const threads = counts.filter((t) => t.thread_id !== 'main' && (t.notify > 0 || t.highlight > 0));
  return {
    unread_notifications: section(counts.filter((t) => t.thread_id === 'main')),
    ...(threads.length > 0 ? { unread_thread_notifications: Object.fromEntries(threads.map((t) => [t.thread_id, section([t])])) } : {}),
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
