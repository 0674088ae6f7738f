/**
 * What differs between the room versions we support (spec: content/rooms/v1
 * ... v12). Auth rules, redaction, event ids and state resolution read these
 * flags rather than comparing version strings, so adding a version is one
 * entry here.
 */
export interface RoomVersion {
  id: string;
  /**
   * How event ids are made: `legacy` (v1, v2) `$opaque:server` chosen by the
   * sending server and carried in the event; `base64` (v3) `$` + unpadded
   * base64 of the reference hash; `urlSafeBase64` (v4+) the same, URL-safe.
   */
  eventIdFormat: 'legacy' | 'base64' | 'urlSafeBase64';
  /**
   * Which redaction algorithm: v1 (also keeps m.room.aliases `aliases`), v6
   * (aliases no longer kept), v8 (join_rules keep `allow`), v9 (member events
   * keep `join_authorised_via_users_server`), v11 (the updated rules).
   */
  redactionRules: 'v1' | 'v6' | 'v8' | 'v9' | 'v11';
  /** v11+: redaction keeps the whole create content, `redacts` moved into content, origin etc. dropped. */
  updatedRedactionRules: boolean;
  /** v11+: the create event has no `creator` key; the sender is the creator. */
  implicitRoomCreator: boolean;
  /** v12: room id is derived from the create event's reference hash; create has no room_id. */
  roomIdFromCreateEvent: boolean;
  /** v12: creators (sender + content.additional_creators) have infinite power level. */
  privilegedCreators: boolean;
  /** Which state resolution algorithm: v1 (rooms v1), v2 (v2-v11), v2.1 (v12). */
  stateRes: 'v1' | 'v2' | 'v2.1';
  /** Same as `stateRes === 'v2.1'`; kept for the state-res v2 code that reads it. */
  stateResV21: boolean;
  /** v1, v2: auth rule 11, m.room.redaction needs the redact level or the redacted event's event-id domain. */
  redactionAuthRule: boolean;
  /** v1-v5: auth rule 4, m.room.aliases is allowed when the sender's domain is the state_key. */
  aliasesAuthRule: boolean;
  /** v6+: power levels changes to `notifications` are checked like `events`. */
  notificationsPowerLevels: boolean;
  /** v7+: the `knock` join rule and membership. */
  knocking: boolean;
  /** v8+: the `restricted` join rule and `join_authorised_via_users_server`. */
  restrictedJoins: boolean;
  /** v10+: the `knock_restricted` join rule. */
  knockRestricted: boolean;
  /** v10+: power level values must be integers (not strings). */
  integerPowerLevels: boolean;
}

const v1: RoomVersion = {
  id: '1',
  eventIdFormat: 'legacy',
  redactionRules: 'v1',
  updatedRedactionRules: false,
  implicitRoomCreator: false,
  roomIdFromCreateEvent: false,
  privilegedCreators: false,
  stateRes: 'v1',
  stateResV21: false,
  redactionAuthRule: true,
  aliasesAuthRule: true,
  notificationsPowerLevels: false,
  knocking: false,
  restrictedJoins: false,
  knockRestricted: false,
  integerPowerLevels: false,
};
const v2: RoomVersion = { ...v1, id: '2', stateRes: 'v2' };
const v3: RoomVersion = { ...v2, id: '3', eventIdFormat: 'base64', redactionAuthRule: false };
const v4: RoomVersion = { ...v3, id: '4', eventIdFormat: 'urlSafeBase64' };
// v5 only enforces signing key validity periods, which is the signature checker's job.
const v5: RoomVersion = { ...v4, id: '5' };
const v6: RoomVersion = { ...v5, id: '6', redactionRules: 'v6', aliasesAuthRule: false, notificationsPowerLevels: true };
const v7: RoomVersion = { ...v6, id: '7', knocking: true };
const v8: RoomVersion = { ...v7, id: '8', redactionRules: 'v8', restrictedJoins: true };
const v9: RoomVersion = { ...v8, id: '9', redactionRules: 'v9' };
const v10: RoomVersion = { ...v9, id: '10', knockRestricted: true, integerPowerLevels: true };
const v11: RoomVersion = { ...v10, id: '11', redactionRules: 'v11', updatedRedactionRules: true, implicitRoomCreator: true };
const v12: RoomVersion = {
  ...v11,
  id: '12',
  roomIdFromCreateEvent: true,
  privilegedCreators: true,
  stateRes: 'v2.1',
  stateResV21: true,
};

export const ROOM_VERSIONS: ReadonlyMap<string, RoomVersion> = new Map(
  [v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12].map((v) => [v.id, v]),
);

/** The stable version ids, oldest first: what config and /capabilities accept and offer. */
export const STABLE_ROOM_VERSION_IDS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'] as const;

export function roomVersion(id: string): RoomVersion | undefined {
  return ROOM_VERSIONS.get(id);
}
