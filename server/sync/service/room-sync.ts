import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';
import type { Filter } from '../../matrix/index.ts';
import { matchesFilter } from '../../matrix/index.ts';
import type { StoredEvent } from '../../rooms/index.ts';
import type { SyncReads } from './sources.ts';

export interface RoomWindow {
  roomId: string;
  /** Events strictly after this position are new to the client (0: the client knows nothing). */
  after: number;
  upTo: number;
  /** The client has never seen this room's state (initial sync, new join, full_state). */
  fresh: boolean;
  /** The room is new to the client in an incremental sync (joined since its token). */
  newlyJoined?: boolean;
}

export interface Viewer {
  userId: string;
  deviceId?: string;
}

/** Timeline and state of one room between two stream positions, as /sync shows it. */
export async function syncRoomTimeline(tx: Tx, src: SyncReads, viewer: Viewer, w: RoomWindow, filter: Filter, ignored: Set<string>) {
  const roomFilter = filter.room;
  const limit = Math.min(roomFilter?.timeline?.limit ?? 10, 1000);
  const picked: StoredEvent[] = [];
  let upTo = w.upTo;
  let more = false;
  let skipped = false;
  // The newest event at or before w.upTo, when the window holds one: the room's head, whose state the summary shows.
  let head: StoredEvent | undefined;
  // Walk back from the newest event until `limit` visible events (plus one, to know if there are more).
  while (picked.length <= limit) {
    const batch = await src.recentEvents(tx, w.roomId, w.after, upTo, Math.max(limit * 2, 20));
    if (batch.length === 0) break;
    head ??= batch[0];
    const selected = batch.filter((e) => matchesFilter(roomFilter?.timeline, e.pdu, w.roomId) && !ignored.has(e.pdu.sender));
    const visible = new Set(await src.filterVisible(tx, viewer.userId, selected));
    for (const e of batch) {
      if (!visible.has(e)) {
        skipped = true;
        continue;
      }
      if (picked.length === limit) {
        more = true;
        break;
      }
      picked.push(e);
    }
    if (more) break;
    upTo = batch[batch.length - 1]!.streamPos - 1;
    if (batch.length < Math.max(limit * 2, 20)) break;
  }
  const timeline = picked.reverse();
  // A room joined since the client's token, with history it is not shown here (hidden
  // from it or filtered out), is limited too, so the client knows to paginate.
  const limited = more || (w.newlyJoined === true && skipped);

  // State before the timeline starts; for a client that already had the room, only what changed since.
  const first = timeline[0];
  const startGroup = first ? first.stateGroupBefore : ((await src.eventAtOrBefore(tx, w.roomId, w.upTo))?.stateGroup ?? null);
  let stateIds: string[] = [];
  if (w.fresh || limited) {
    const atStart = await src.loadState(tx, startGroup);
    stateIds = [...atStart.ids.values()];
    if (!w.fresh) {
      const sinceEvent = await src.eventAtOrBefore(tx, w.roomId, w.after);
      const before = sinceEvent ? (await src.loadState(tx, sinceEvent.stateGroup)).ids : new Map<string, string>();
      stateIds = [...atStart.ids].filter(([k, id]) => before.get(k) !== id).map(([, id]) => id);
    }
  }
  let stateEvents = [...(await src.loadEvents(tx, stateIds)).values()].filter((e) => matchesFilter(roomFilter?.state, e.pdu, w.roomId));
  if (roomFilter?.state?.lazy_load_members) {
    const wanted = new Set([viewer.userId, ...timeline.map((e) => e.pdu.sender)]);
    stateEvents = stateEvents.filter((e) => e.pdu.type !== 'm.room.member' || wanted.has(e.pdu.state_key ?? ''));
  }

  // The timeline's bundled relations and the state are rendered in the same rounds.
  const [timelineJson, stateJson] = await Promise.all([src.serialize(tx, timeline, viewer), src.serialize(tx, stateEvents, viewer, false)]);
  return {
    timeline: {
      events: timelineJson,
      limited,
      ...(first ? { prev_batch: `s${first.streamPos - 1}` } : { prev_batch: `s${w.upTo}` }),
    },
    state: { events: stateJson },
    timelineEvents: timeline,
    head,
  };
}

/** m.heroes and member counts, computed from the room state at the end of the window (after `head`, when known). */
export async function roomSummary(
  tx: Tx,
  src: SyncReads,
  roomId: string,
  upTo: number,
  userId: string,
  known?: StoredEvent,
): Promise<JsonObject> {
  const head = known ?? (await src.eventAtOrBefore(tx, roomId, upTo));
  const state = await src.loadState(tx, head?.stateGroup ?? null);
  const members = state.events().filter((e) => e.type === 'm.room.member');
  const joined = members.filter((m) => m.content.membership === 'join');
  const invited = members.filter((m) => m.content.membership === 'invite');
  const others = (list: typeof members) => list.map((m) => m.state_key!).filter((u) => u !== userId);
  let heroes = others([...joined, ...invited]);
  if (heroes.length === 0) heroes = others(members.filter((m) => m.content.membership === 'leave' || m.content.membership === 'ban'));
  return {
    'm.heroes': heroes.sort().slice(0, 5),
    'm.joined_member_count': joined.length,
    'm.invited_member_count': invited.length,
  };
}
