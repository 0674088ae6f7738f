/**
 * Public surface of federation/events: pure functions for canonical JSON,
 * base64, signing keys, JSON and event signatures, hashes/ids, and redaction.
 */
export { CanonicalJsonError, canonicalJson, canonicalJsonBytes, compareCodePoints } from './canonical-json.ts';
export { Base64Error, decodeBase64, decodeEitherBase64, decodeUrlSafeBase64, encodeBase64, encodeUrlSafeBase64 } from './base64.ts';
export {
  ED25519,
  SEED_LENGTH,
  type SigningKey,
  SigningKeyError,
  generateSigningKey,
  isValidKeyVersion,
  parseEd25519KeyId,
  publicKeyBase64,
  signingKeyFromSeed,
} from './signing-key.ts';
export { parseSigningKeyFile, serialiseSigningKeyFile } from './signing-key-file.ts';
export { type Signatures, signJson, verifyJsonSignature } from './signing.ts';
export { type VerifyKey, verifyKey } from './ed25519.ts';
export { type HashedPdu, type PduDraft, pduWireJson } from './event-json.ts';
export {
  EventFormatError,
  checkContentHash,
  computeContentHash,
  computeEventId,
  newLegacyEventId,
  computeReferenceHash,
  contentHashOfJson,
  referenceHashOfJson,
  roomIdFromCreateEvent,
} from './hashes.ts';
export { redactEvent, redactJson } from './redaction.ts';
export { addEventSignature, hashAndSignEvent, hashAndSignEventJson, signEventJson, verifyEventSignature } from './sign-event.ts';
export { MAX_KEY_BYTES, MAX_PDU_BYTES, type PduLimitProblem, describePduLimitProblem, pduLimitProblem } from './pdu-limits.ts';
