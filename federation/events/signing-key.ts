/**
 * Ed25519 server signing keys.
 *
 * A key is fully determined by its 32-byte seed; the public key and
 * tweetnacl's 64-byte secret key are derived so callers never recompute them.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { encodeBase64 } from './base64.ts';

// PKCS#8 wrapping of a raw 32-byte ed25519 seed (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface SigningKey {
  /** The signing key identifier: algorithm ":" version, e.g. `ed25519:a_Xy3z`. */
  keyId: string;
  /** 32-byte ed25519 seed: the only secret that needs storing. */
  seed: Uint8Array;
  /** 32-byte ed25519 public key. */
  publicKey: Uint8Array;
  /** tweetnacl's 64-byte secret key (seed followed by public key). */
  secretKey: Uint8Array;
  /**
   * The same private key as a node:crypto KeyObject. Signing every event is the
   * send path's hottest step; OpenSSL's ed25519 is ~70x faster than tweetnacl's
   * pure JavaScript and, ed25519 being deterministic, gives identical signatures.
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
  const pair = nacl.sign.keyPair.fromSeed(seed);
  // Copy the seed so later mutation of the caller's buffer cannot change our key.
  const nativeKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return { keyId, seed: Uint8Array.from(seed), publicKey: pair.publicKey, secretKey: pair.secretKey, nativeKey };
}

/**
 * A fresh random key. The version is `a_` plus four random alphanumerics, the
 * same shape Synapse generates, so keys look familiar to operators and stay
 * short in every signature map while remaining unlikely to collide on rotation.
 */
export function generateSigningKey(): SigningKey {
  return signingKeyFromSeed(nacl.randomBytes(SEED_LENGTH), `${ED25519}:a_${randomAlphanumerics(4)}`);
}

export function publicKeyBase64(key: SigningKey): string {
  return encodeBase64(key.publicKey);
}

const ALPHANUMERICS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomAlphanumerics(n: number): string {
  let out = '';
  while (out.length < n) {
    for (const byte of nacl.randomBytes(n)) {
      // Rejection sampling: 248 = 4 * 62, so accepted bytes map uniformly.
      if (byte < 248 && out.length < n) out += ALPHANUMERICS.charAt(byte % 62);
    }
  }
  return out;
}
