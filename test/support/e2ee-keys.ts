import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../../federation/events/index.ts';

/** An ed25519 key as a client holds it: the private half, and the public half as unpadded base64. */
export interface ClientKey {
  privateKey: KeyObject;
  publicKey: string;
}

export function newKey(): ClientKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  return { privateKey, publicKey: raw.toString('base64').replace(/=+$/, '') };
}

/** Signs `obj` (without its signatures and unsigned) as `userId` with key id `keyId`, adding to its signatures. */
export function signAs<T extends Record<string, unknown>>(obj: T, userId: string, keyId: string, key: ClientKey): T {
  const { signatures, unsigned: _unsigned, ...signable } = obj as Record<string, unknown>;
  const sig = sign(null, Buffer.from(canonicalJson(signable)), key.privateKey)
    .toString('base64')
    .replace(/=+$/, '');
  const existing = (signatures ?? {}) as Record<string, Record<string, string>>;
  return { ...obj, signatures: { ...existing, [userId]: { ...existing[userId], [keyId]: sig } } };
}

/** The device keys a client uploads: its curve25519 and ed25519 keys, signed by the latter. */
export function deviceKeys(userId: string, deviceId: string, ed: ClientKey = newKey()): Record<string, unknown> {
  return signAs(
    {
      user_id: userId,
      device_id: deviceId,
      algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
      keys: { [`curve25519:${deviceId}`]: newKey().publicKey, [`ed25519:${deviceId}`]: ed.publicKey },
    },
    userId,
    `ed25519:${deviceId}`,
    ed,
  );
}

/** A cross-signing key object of the given usage, for the user. */
export function crossSigningKey(userId: string, usage: string, key: ClientKey): Record<string, unknown> {
  return { user_id: userId, usage: [usage], keys: { [`ed25519:${key.publicKey}`]: key.publicKey } };
}

/** Signed one-time keys, as `signed_curve25519:<id>` entries. */
export function oneTimeKeys(userId: string, deviceId: string, ed: ClientKey, ids: string[]): Record<string, unknown> {
  return Object.fromEntries(
    ids.map((id) => [`signed_curve25519:${id}`, signAs({ key: newKey().publicKey }, userId, `ed25519:${deviceId}`, ed)]),
  );
}
