/**
 * Hashing and signing whole events (spec: server-server "Signing Events").
 *
 * The signature is computed over the *redacted* event, which still contains
 * the content hash. That way the signature survives redaction, while any change
 * to the unredacted content shows up as a content-hash mismatch instead.
 */
import type { Pdu } from './pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { type PduDraft, pduWireJson } from './event-json.ts';
import { computeContentHash, computeEventId, contentHashOfJson, newLegacyEventId } from './hashes.ts';
import { encodeBase64 } from './base64.ts';
import { redactJson } from './redaction.ts';
import type { SigningKey } from './signing-key.ts';
import { type Signatures, signJson, verifyJsonSignature } from './signing.ts';

/**
 * Sign raw event JSON as `serverName`: sign its redacted form and copy the
 * resulting `signatures` (existing entries kept) onto the full event. Does not
 * touch `hashes`; the event must already carry them for the signature to mean
 * anything. For a `Pdu` use `addEventSignature`, which ignores `event_id`.
 */
export function signEventJson(
  event: object,
  version: RoomVersion,
  serverName: string,
  key: SigningKey,
): Record<string, unknown> & { signatures: Signatures } {
  const { signatures } = signJson(redactJson(event, version), serverName, key);
  return { ...event, signatures };
}

/**
 * Raw-JSON form of `hashAndSignEvent`: set `hashes` to the content hash of
 * exactly this JSON, then sign. Nothing is stripped, so an `event_id` key, if
 * present, is hashed and signed like any other (as in the spec's test vectors).
 */
export function hashAndSignEventJson(
  event: object,
  version: RoomVersion,
  serverName: string,
  key: SigningKey,
): Record<string, unknown> & { signatures: Signatures } {
  // Replacing `hashes` outright, as the spec's example does: a stale hash under
  // another algorithm would be signed without being checked.
  const hashed = { ...event, hashes: { sha256: encodeBase64(contentHashOfJson(event)) } };
  return signEventJson(hashed, version, serverName, key);
}

/**
 * Complete an event we are sending: add `hashes`, our signature and the
 * derived `event_id`. Any `event_id`, `hashes` already on the draft are ignored
 * and replaced; existing `signatures` from others are kept (they will only
 * still verify if the hashed content is unchanged).
 *
 * v1/v2 rooms have no derived id: the draft's `event_id` is kept if it has
 * one, otherwise a fresh `$opaque:serverName` is chosen; either way it is
 * hashed and signed with the rest of the event.
 */
export function hashAndSignEvent(draft: PduDraft, version: RoomVersion, serverName: string, key: SigningKey): Pdu {
  if (version.eventIdFormat === 'legacy') {
    const withId = { ...draft, event_id: draft.event_id ?? newLegacyEventId(serverName) };
    const hashed = { ...withId, hashes: { sha256: computeContentHash(withId, version) } };
    return { ...hashed, signatures: signedRedactedSignatures(hashed, version, serverName, key) };
  }
  const hashed = { ...draft, hashes: { sha256: computeContentHash(draft) } };
  const signatures = signedRedactedSignatures(hashed, version, serverName, key);
  return { ...hashed, signatures, event_id: computeEventId(hashed, version) };
}

/**
 * Add our signature to an existing, already hashed event without changing
 * anything else, e.g. when a resident server co-signs a restricted-room join
 * or a third-party invite.
 */
export function addEventSignature(pdu: Pdu, version: RoomVersion, serverName: string, key: SigningKey): Pdu {
  return { ...pdu, signatures: signedRedactedSignatures(pdu, version, serverName, key) };
}

/**
 * Whether `serverName` signed this event with `keyId`. The check runs on the
 * redacted event, so it passes for both the full and the redacted copy; pair it
 * with `checkContentHash` to know whether the content is intact. Which servers
 * must have signed, and key validity periods, are for the caller to decide.
 */
export function verifyEventSignature(
  pdu: PduDraft,
  version: RoomVersion,
  serverName: string,
  keyId: string,
  publicKeyBase64: string,
): boolean {
  return verifyJsonSignature(redactJson(pduWireJson(pdu, version), version), serverName, keyId, publicKeyBase64);
}

function signedRedactedSignatures(pdu: PduDraft, version: RoomVersion, serverName: string, key: SigningKey): Signatures {
  return signEventJson(pduWireJson(pdu, version), version, serverName, key).signatures;
}
