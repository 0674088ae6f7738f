/**
 * The bridge between our `Pdu` objects and the JSON that is hashed and signed.
 *
 * `Pdu.event_id` is our convenience copy of an id derived from the reference
 * hash; in room versions 3 and later it is not part of the event on the wire,
 * so it must never feed into a hash or signature (the reference hash would
 * otherwise depend on itself). In room versions 1 and 2 the sending server
 * chooses the id and it travels in the event, so it is hashed and signed.
 */
import type { Pdu } from './pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { omitKeys } from './json-object.ts';

/**
 * A PDU that may not yet have been hashed, signed or given its id: what an
 * event builder produces. A complete `Pdu` is also a `PduDraft`.
 */
export type PduDraft = Omit<Pdu, 'event_id' | 'hashes' | 'signatures'> & Partial<Pick<Pdu, 'event_id' | 'hashes' | 'signatures'>>;

/** A PDU with its content hash in place: enough to compute its reference hash and id. */
export type HashedPdu = PduDraft & Pick<Pdu, 'hashes'>;

/**
 * The event as it appears on the wire: every own key except `event_id`
 * (which is kept for v1/v2 rooms, whose ids are part of the event; without a
 * version the v3+ form is assumed). Unknown keys (e.g. from a remote server)
 * are kept on purpose: the content hash must cover them, or they could be
 * altered undetected.
 */
export function pduWireJson(pdu: PduDraft, version?: RoomVersion): Record<string, unknown> {
  if (version?.eventIdFormat === 'legacy') return { ...pdu };
  return omitKeys(pdu, ['event_id']);
}
