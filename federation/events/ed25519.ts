/**
 * Ed25519 through node:crypto (OpenSSL). A server verifies every PDU and key
 * response a peer sends; OpenSSL verifies ~150x faster than tweetnacl's pure
 * JavaScript (0.29 ms against 43 ms for a 1 kB message, measured side by side on
 * this 2-core machine under load).
 */
import { createPrivateKey, createPublicKey, type KeyObject, verify } from 'node:crypto';

export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

/**
 * A public key parsed for verifying. Parsing costs about as much as a verify, so
 * whoever holds a peer's keys (the key store) keeps them in this form.
 */
export type VerifyKey = KeyObject;

// DER wrappings of raw ed25519 keys (RFC 8410): PKCS#8 for a 32-byte seed, SPKI for a public key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** The 32 raw bytes of the public half of a key. */
export function rawPublicKey(key: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
}

/** A raw 32-byte public key parsed for verifying, or undefined if it is not one. */
export function verifyKey(raw: Uint8Array): VerifyKey | undefined {
  if (raw.length !== PUBLIC_KEY_LENGTH) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** False (never throws) for a signature of the wrong length, or one that does not verify. */
export function verifyEd25519(message: Uint8Array, signature: Uint8Array, key: VerifyKey): boolean {
  if (signature.length !== SIGNATURE_LENGTH) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
