/**
 * Rule 1: authorization of the m.room.create event. It has no auth events and
 * no prior state, so it is judged on its own content.
 */
import type { Pdu } from '../events/pdu.ts';
import { type RoomVersion, roomVersion } from '../room-versions.ts';
import { domainOf, isValidUserId } from './identifiers.ts';
import { ALLOW, type AuthResult, deny } from './types.ts';

export function checkCreateEvent(event: Pdu, version: RoomVersion): AuthResult {
  // 1.1: the create event is the root of the DAG.
  if (event.prev_events.length > 0) return deny('m.room.create: has prev_events');

  if (version.roomIdFromCreateEvent) {
    // v12 1.2: the room id is derived from this event's id, so it cannot carry one.
    if (event.room_id !== undefined) return deny('m.room.create: must not have a room_id in this room version');
  } else {
    // v10/v11 1.2: only the sender's server may mint room ids on its domain.
    const roomDomain = event.room_id === undefined ? undefined : domainOf(event.room_id);
    if (roomDomain === undefined || roomDomain !== domainOf(event.sender)) {
      return deny('m.room.create: room_id domain does not match sender domain');
    }
  }

  // 1.3: an unknown room_version means we cannot know which rules to apply.
  const declared = event.content['room_version'];
  if (declared !== undefined && (typeof declared !== 'string' || roomVersion(declared) === undefined)) {
    return deny('m.room.create: unrecognised content.room_version');
  }

  // v10 1.4: `creator` is required until v11 made the sender the creator.
  if (!version.implicitRoomCreator && !('creator' in event.content)) {
    return deny('m.room.create: content has no creator');
  }

  // v12 1.4: additional creators get infinite power, so they must be real user ids.
  if (version.privilegedCreators && 'additional_creators' in event.content) {
    const extra = event.content['additional_creators'];
    if (!Array.isArray(extra) || !extra.every((u) => typeof u === 'string' && isValidUserId(u))) {
      return deny('m.room.create: additional_creators must be an array of valid user IDs');
    }
  }

  return ALLOW;
}
