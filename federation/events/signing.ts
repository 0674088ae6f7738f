/**
 * Signing and verifying JSON objects (spec appendix "Signing JSON").
 *
 * The signature covers the canonical JSON of the object without `signatures`
 * and `unsigned`, so other servers can add their own signatures or unsigned
 * data (e.g. `age`) without invalidating ours.
 */
import { sign as cryptoSign } from 'node:crypto';
import { Base64Error, decodeBase64, encodeBase64 } from './base64.ts';
import { CanonicalJsonError, canonicalJsonBytes } from './canonical-json.ts';
import { type VerifyKey, verifyEd25519, verifyKey } from './ed25519.ts';
import { getOwn, isRecord, omitKeys } from './json-object.ts';
import { ED25519, type SigningKey, SigningKeyError } from './signing-key.ts';

/** `signatures`: server name -> signing key id -> unpadded base64 signature. */
export type Signatures = Record<string, Record<string, string>>;

/** Keys excluded from the signed bytes. */
const UNSIGNED_KEYS = ['signatures', 'unsigned'];

/**
 * Sign `obj` as `serverName` and return a new object with the signature merged
 * into any existing `signatures` (other servers' and our other keys' entries are
 * kept). `unsigned` is carried over untouched. The input is not modified.
 *
 * Throws `CanonicalJsonError` if the signed part is not canonical-JSON encodable,
 * and `SigningKeyError` if an existing `signatures` value is malformed.
 */
export function signJson<T extends object>(obj: T, serverName: string, key: SigningKey): T & { signatures: Signatures } {
  const existing = asSignatures(getOwn(obj, 'signatures'));
  const signable = omitKeys(obj, UNSIGNED_KEYS);
  const signature = encodeBase64(cryptoSign(null, canonicalJsonBytes(signable), key.nativeKey));
  // Computed keys in object literals define own properties, so even a server
  // name of "__proto__" cannot reach the prototype.
  const merged: Signatures = {
    ...existing,
    [serverName]: { ...(getOwn(existing, serverName) as Record<string, string> | undefined), [key.keyId]: signature },
  };
  return { ...obj, signatures: merged };
}

/**
 * Check the spec's "Checking for a Signature" steps for one key. Returns false
 * (never throws) if the signature is missing, not ed25519, not valid base64,
 * the wrong length, does not verify, or if the object cannot be encoded as
 * canonical JSON (a compliant server cannot have signed such an object).
 *
 * Looking up which keys to check, and their validity periods, is the caller's job;
 * one that verifies many signatures with a key passes it parsed (`VerifyKey`).
 */
export function verifyJsonSignature(obj: object, serverName: string, keyId: string, publicKey: string | VerifyKey): boolean {
  if (!keyId.startsWith(`${ED25519}:`)) return false;
  const encodedSignature = getOwn(getOwn(getOwn(obj, 'signatures'), serverName), keyId);
  if (typeof encodedSignature !== 'string') return false;
  let signature: Uint8Array;
  let key: VerifyKey | undefined;
  let message: Uint8Array;
  try {
    signature = decodeBase64(encodedSignature);
    key = typeof publicKey === 'string' ? verifyKey(decodeBase64(publicKey)) : publicKey;
    message = canonicalJsonBytes(omitKeys(obj, UNSIGNED_KEYS));
  } catch (e) {
    if (e instanceof Base64Error || e instanceof CanonicalJsonError) return false;
    throw e;
  }
  return key !== undefined && verifyEd25519(message, signature, key);
}

function asSignatures(value: unknown): Signatures {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new SigningKeyError('existing "signatures" is not an object');
  for (const perServer of Object.values(value)) {
    if (!isRecord(perServer) || !Object.values(perServer).every((s) => typeof s === 'string')) {
      throw new SigningKeyError('existing "signatures" is not a map of server name to key id to string');
    }
  }
  return value as Signatures;
}
