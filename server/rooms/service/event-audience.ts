import { userPowerLevel } from '../../../federation/auth/index.ts';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import { roomVersion } from '../../../federation/room-versions.ts';
import type { Sql } from '../../db/database.ts';
import { getRoom } from '../storage/rooms.ts';
import type { RoomState } from './room-state.ts';

/** An event as push rules judge it, with the room around it: who is joined, and who may notify. */
export interface EventAudience {
  event: {
    event_id: string;
    room_id: string;
    type: string;
    sender: string;
    state_key?: string;
    content: JsonObject;
    origin_server_ts: number;
  };
  streamPos: number;
  /** 'main', or the root of the thread the event is in (m.thread relation). */
  threadId: string;
  /** Joined members after the event, with their display names in the room. */
  joined: { userId: string; displayName?: string }[];
  /** The sender's power level, by the same rules as event auth (a v12 creator's is Infinity). */
  senderPowerLevel: number;
  /** The power_levels `notifications` map (e.g. { room: 50 }), numbers only. */
  notificationPowerLevels: Record<string, number>;
}

/**
 * The event and its room after it, for deciding whom it notifies: undefined for an event clients
 * are never sent (rejected, soft-failed, an outlier, backfilled history) or that is unknown.
 */
export function createEventAudience({ sql, roomState }: { sql: Sql; roomState: RoomState }) {
  return async function eventAudience(eventId: string): Promise<EventAudience | undefined> {
    const ev = await roomState.loadEvent(sql, eventId);
    if (!ev || !ev.inTimeline || ev.streamPos <= 0) return undefined;
    const room = await getRoom(sql, ev.roomId);
    const version = room ? roomVersion(room.room_version) : undefined;
    if (!version) return undefined;
    const state = await roomState.loadState(sql, ev.stateGroup);
    const joined = state
      .events()
      .filter((e) => e.type === 'm.room.member' && e.content.membership === 'join' && e.state_key !== undefined)
      .map((e) => ({ userId: e.state_key!, ...(typeof e.content.displayname === 'string' ? { displayName: e.content.displayname } : {}) }));
    const relation = ev.pdu.content['m.relates_to'];
    const rel = relation && typeof relation === 'object' && !Array.isArray(relation) ? relation : undefined;
    const threadId = rel?.rel_type === 'm.thread' && typeof rel.event_id === 'string' ? rel.event_id : 'main';
    const { event_id, sender, type, state_key, content, origin_server_ts } = ev.pdu;
    return {
      event: { event_id, room_id: ev.roomId, sender, type, ...(state_key !== undefined ? { state_key } : {}), content, origin_server_ts },
      streamPos: ev.streamPos,
      threadId,
      joined,
      senderPowerLevel: userPowerLevel(sender, state.get, version),
      notificationPowerLevels: numbersOf(state.get('m.room.power_levels', '')?.content.notifications),
    };
  };
}

function numbersOf(map: unknown): Record<string, number> {
  if (!map || typeof map !== 'object' || Array.isArray(map)) return {};
  return Object.fromEntries(Object.entries(map).filter((e): e is [string, number] => typeof e[1] === 'number'));
}
