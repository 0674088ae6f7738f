/**
 * What differs between the room versions we support. Auth rules, redaction
 * and state resolution read these flags rather than comparing version strings,
 * so adding a version is one entry here.
 */
export interface RoomVersion {
  id: string;
  /** v11+: redaction keeps the whole create content, `redacts` moved into content, origin etc. dropped. */
  updatedRedactionRules: boolean;
  /** v11+: the create event has no `creator` key; the sender is the creator. */
  implicitRoomCreator: boolean;
  /** v12: room id is derived from the create event's reference hash; create has no room_id. */
  roomIdFromCreateEvent: boolean;
  /** v12: creators (sender + content.additional_creators) have infinite power level. */
  privilegedCreators: boolean;
  /** v12: state resolution v2.1 (start from empty state, iterative auth checks over full conflicted subgraph). */
  stateResV21: boolean;
  /** Knocking (v7+) and restricted joins (v8+), knock_restricted (v10+): all true for 10-12. */
  knockRestricted: boolean;
  /** v10+: power level values must be integers (not strings). */
  integerPowerLevels: boolean;
}

const v10: RoomVersion = {
  id: '10',
  updatedRedactionRules: false,
  implicitRoomCreator: false,
  roomIdFromCreateEvent: false,
  privilegedCreators: false,
  stateResV21: false,
  knockRestricted: true,
  integerPowerLevels: true,
};
const v11: RoomVersion = { ...v10, id: '11', updatedRedactionRules: true, implicitRoomCreator: true };
const v12: RoomVersion = {
  ...v11,
  id: '12',
  roomIdFromCreateEvent: true,
  privilegedCreators: true,
  stateResV21: true,
};

export const ROOM_VERSIONS: ReadonlyMap<string, RoomVersion> = new Map([
  ['10', v10],
  ['11', v11],
  ['12', v12],
]);

export function roomVersion(id: string): RoomVersion | undefined {
  return ROOM_VERSIONS.get(id);
}
