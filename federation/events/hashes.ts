/**
 * Content hashes, reference hashes, event ids and (v12) room ids
 * (spec: server-server "Signing Events"; rooms/v4 "Event IDs"; rooms/v12).
 *
 * Two hashes exist for different jobs: the content hash covers the full,
 * unredacted event so tampering with non-essential keys is detectable; the
 * reference hash covers only the redacted event (plus the content hash), so an
 * event keeps the same id after it has been redacted.
 */
import { createHash } from 'node:crypto';
import type { RoomVersion } from '../room-versions.ts';
import { randomBytes } from 'node:crypto';
import { Base64Error, decodeBase64, encodeBase64, encodeUrlSafeBase64 } from './base64.ts';
import { canonicalJsonBytes } from './canonical-json.ts';
import { type HashedPdu, type PduDraft, pduWireJson } from './event-json.ts';
import { getOwn, omitKeys } from './json-object.ts';
import { redactJson } from './redaction.ts';

export class EventFormatError extends Error {
  override readonly name = 'EventFormatError';
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/**
 * SHA-256 over the canonical JSON of exactly this event JSON minus `unsigned`,
 * `signatures` and `hashes`. Nothing else is stripped: use this for raw wire
 * JSON; for a `Pdu` use `computeContentHash`, which drops our `event_id`.
 */
export function contentHashOfJson(event: object): Uint8Array {
  return sha256(canonicalJsonBytes(omitKeys(event, ['unsigned', 'signatures', 'hashes'])));
}

/**
 * The content hash of a PDU as unpadded base64: the value for `hashes.sha256`.
 * Pass the room version for v1/v2 events, whose `event_id` is hashed too.
 */
export function computeContentHash(pdu: PduDraft, version?: RoomVersion): string {
  return encodeBase64(contentHashOfJson(pduWireJson(pdu, version)));
}

/**
 * Whether `hashes.sha256` matches the event's content. The stored value is
 * base64-decoded before comparing (as the spec says), so a padded encoding of
 * the right hash also matches. A missing or malformed hash is a mismatch.
 *
 * A mismatch with valid signatures means the event was altered or redacted in
 * transit: the spec says to keep only the redacted form, not to reject it.
 */
export function checkContentHash(pdu: PduDraft, version?: RoomVersion): boolean {
  const claimed = getOwn(getOwn(pdu, 'hashes'), 'sha256');
  if (typeof claimed !== 'string') return false;
  let claimedBytes: Uint8Array;
  try {
    claimedBytes = decodeBase64(claimed);
  } catch (e) {
    if (e instanceof Base64Error) return false;
    throw e;
  }
  return Buffer.from(claimedBytes).equals(contentHashOfJson(pduWireJson(pdu, version)));
}

/**
 * SHA-256 over the canonical JSON of the redacted event without `signatures`
 * and `unsigned`. Use for raw wire JSON; for a `Pdu` use `computeReferenceHash`.
 */
export function referenceHashOfJson(event: object, version: RoomVersion): Uint8Array {
  const redacted = redactJson(event, version);
  return sha256(canonicalJsonBytes(omitKeys(redacted, ['signatures', 'unsigned'])));
}

/** The reference hash (raw 32 bytes) of a PDU; its `event_id` counts only in v1/v2 rooms. */
export function computeReferenceHash(pdu: HashedPdu, version: RoomVersion): Uint8Array {
  return referenceHashOfJson(pduWireJson(pdu, version), version);
}

/**
 * The event id for room versions 3 and later: `$` + unpadded base64 of the
 * reference hash (URL-safe from v4). Any `event_id` already on the object is
 * ignored. v1/v2 ids are not derived from the event (see `newLegacyEventId`).
 */
export function computeEventId(pdu: HashedPdu, version: RoomVersion): string {
  if (version.eventIdFormat === 'legacy') {
    throw new EventFormatError(`room version ${version.id} event ids are chosen by the sender, not derived from the event`);
  }
  const hash = computeReferenceHash(pdu, version);
  return `$${version.eventIdFormat === 'base64' ? encodeBase64(hash) : encodeUrlSafeBase64(hash)}`;
}

/**
 * A fresh v1/v2 event id, `$opaque:server`. The opaque part only has to be
 * unique on this server; 18 random bytes make collisions negligible without
 * any bookkeeping.
 */
export function newLegacyEventId(serverName: string): string {
  return `$${encodeUrlSafeBase64(randomBytes(18))}:${serverName}`;
}

/**
 * The room id of a v12 room: the create event's event id with sigil `!`
 * instead of `$`.
 *
 * Throws `EventFormatError` if the room version does not derive room ids this
 * way, if the event is not `m.room.create`, or if it carries a `room_id` (the
 * v12 auth rules reject such a create event, so no valid room has that id).
 */
export function roomIdFromCreateEvent(createPdu: HashedPdu, version: RoomVersion): string {
  if (!version.roomIdFromCreateEvent) {
    throw new EventFormatError(`room version ${version.id} does not derive room ids from the create event`);
  }
  if (createPdu.type !== 'm.room.create') {
    throw new EventFormatError(`expected an m.room.create event, got ${JSON.stringify(createPdu.type)}`);
  }
  if (Object.prototype.hasOwnProperty.call(createPdu, 'room_id') && createPdu.room_id !== undefined) {
    throw new EventFormatError('an m.room.create event in this room version must not have a room_id');
  }
  return `!${encodeUrlSafeBase64(computeReferenceHash(createPdu, version))}`;
}
