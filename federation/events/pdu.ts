/**
 * The shape of a room event (PDU) as it travels between servers and is stored.
 * Plain data only: every pure function in federation/ (auth rules, state
 * resolution, hashing, redaction) works over these shapes.
 *
 * Room versions 10, 11 and 12 all use event ids derived from the reference hash
 * (format "$" + unpadded url-safe base64), so `event_id` is not part of the
 * signed/hashed JSON; we carry it alongside for convenience.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface Pdu {
  /** Not part of the wire format for v3+ rooms: computed from the reference hash. */
  event_id: string;
  /** Absent on the create event in room version 12 (the room id is derived from it). */
  room_id?: string;
  sender: string;
  type: string;
  state_key?: string;
  content: JsonObject;
  origin_server_ts: number;
  depth: number;
  prev_events: string[];
  auth_events: string[];
  hashes: { sha256: string };
  signatures: Record<string, Record<string, string>>;
  unsigned?: JsonObject;
  /** Present only in room versions before 11 (v11 removed it from the format). */
  origin?: string;
  redacts?: string;
}

/** A (type, state_key) pair as one string key: `${type}\u0000${state_key}`. */
export type StateKey = string;
export function stateKey(type: string, key: string): StateKey {
  return `${type}\u0000${key}`;
}
export function splitStateKey(k: StateKey): [type: string, key: string] {
  const i = k.indexOf('\u0000');
  return [k.slice(0, i), k.slice(i + 1)];
}

/** A state map: (type, state_key) -> event id. */
export type StateMap = Map<StateKey, string>;
