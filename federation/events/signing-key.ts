/**
 * Ed25519 server signing keys.
 *
 * A key is fully determined by its 32-byte seed; the public key and the
 * 64-byte secret key of NaCl's API are derived so callers never recompute them.
 */
import { type KeyObject, randomBytes } from 'node:crypto';
import { encodeBase64 } from './base64.ts';
import { privateKeyFromSeed, rawPublicKey } from './ed25519.ts';

export interface SigningKey {
  /** The signing key identifier: algorithm ":" version, e.g. `ed25519:a_Xy3z`. */
  keyId: string;
  /** 32-byte ed25519 seed: the only secret that needs storing. */
  seed: Uint8Array;
  /** 32-byte ed25519 public key. */
  publicKey: Uint8Array;
  /** NaCl's 64-byte secret key (seed followed by public key). */
  secretKey: Uint8Array;
  /**
   * The same private key as a node:crypto KeyObject. Signing every event is the
   * send path's hottest step (federation/events/ed25519.ts).
   */
  nativeKey: KeyObject;
}

export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
}

export const ED25519 = 'ed25519';
export const SEED_LENGTH = 32;

/** The spec requires key versions to match `[a-zA-Z0-9_]` (server-server keys API). */
const KEY_VERSION = /^[A-Za-z0-9_]+$/;

export function isValidKeyVersion(version: string): boolean {
  return KEY_VERSION.test(version);
}

/** Split `ed25519:abc` into its algorithm and version; throws on anything we cannot sign with. */
export function parseEd25519KeyId(keyId: string): { algorithm: typeof ED25519; version: string } {
  const colon = keyId.indexOf(':');
  const algorithm = colon === -1 ? '' : keyId.slice(0, colon);
  const version = keyId.slice(colon + 1);
  if (algorithm !== ED25519) throw new SigningKeyError(`unsupported signing key algorithm in ${JSON.stringify(keyId)}`);
  if (!isValidKeyVersion(version)) throw new SigningKeyError(`invalid key version in ${JSON.stringify(keyId)}`);
  return { algorithm, version };
}

export function signingKeyFromSeed(seed: Uint8Array, keyId: string): SigningKey {
  parseEd25519KeyId(keyId);
  if (seed.length !== SEED_LENGTH) {
    throw new SigningKeyError(`ed25519 seed must be ${SEED_LENGTH} bytes, got ${seed.length}`);
  }
  // Copy the seed so later mutation of the caller's buffer cannot change our key.
  const own = Uint8Array.from(seed);
  const nativeKey = privateKeyFromSeed(own);
  const publicKey = rawPublicKey(nativeKey);
  const secretKey = new Uint8Array(SEED_LENGTH * 2);
  secretKey.set(own);
  secretKey.set(publicKey, SEED_LENGTH);
  return { keyId, seed: own, publicKey, secretKey, nativeKey };
}

/**
 * A fresh random key. The version is `a_` plus four random alphanumerics, the
 * same shape Synapse generates, so keys look familiar to operators and stay
 * short in every signature map while remaining unlikely to collide on rotation.
 */
export function generateSigningKey(): SigningKey {
  return signingKeyFromSeed(randomBytes(SEED_LENGTH), `${ED25519}:a_${randomAlphanumerics(4)}`);
}

export function publicKeyBase64(key: SigningKey): string {
  return encodeBase64(key.publicKey);
}

const ALPHANUMERICS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomAlphanumerics(n: number): string {
  let out = '';
  while (out.length < n) {
    for (const byte of randomBytes(n)) {
      // Rejection sampling: 248 = 4 * 62, so accepted bytes map uniformly.
      if (byte < 248 && out.length < n) out += ALPHANUMERICS.charAt(byte % 62);
    }
  }
  return out;
}
