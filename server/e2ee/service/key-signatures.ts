import { verifyJsonSignature } from '../../../federation/events/index.ts';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql } from '../../db/database.ts';
import { transaction } from '../../db/transaction.ts';
import type { Requester } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import {
  crossSigningKeysOf,
  putCrossSigningKey,
  putSignatures,
  signaturesOn,
  type CrossSigningKeyType,
  type SignatureRow,
} from '../storage/cross-signing.ts';
import { getDeviceKeyJson } from '../storage/device-keys.ts';
import { canonical } from './canonical-key.ts';
import type { DeviceLists } from './device-lists.ts';

export interface KeySignaturesDeps {
  sql: Sql;
  deviceLists: DeviceLists;
  /** UIA for replacing cross-signing keys (accounts' re-authentication). */
  confirm: (who: Requester, purpose: string, auth: unknown, path: string) => Promise<void>;
}

/** Signatures uploaded apart from their keys, by "user\nkey id" of the key they sign. */
export type UploadedSignatures = Map<string, SignatureRow[]>;

/** The key with the signatures uploaded for it added to its own. */
export function mergeSignatures(key: JsonObject, extra: readonly SignatureRow[] | undefined): JsonObject {
  if (!extra || extra.length === 0) return key;
  const signatures: Record<string, Record<string, unknown>> = {};
  for (const [u, s] of Object.entries((key.signatures as Record<string, Record<string, unknown>> | undefined) ?? {}))
    signatures[u] = { ...s };
  for (const s of extra) (signatures[s.signer_user_id] ??= {})[s.signer_key_id] = s.signature;
  return { ...key, signatures: signatures as JsonObject };
}

const USAGE: Record<string, CrossSigningKeyType> = {
  master_key: 'master',
  self_signing_key: 'self_signing',
  user_signing_key: 'user_signing',
};

/** The one ed25519 public key of a cross-signing key object, after checking its owner and usage. */
function publicKeyOf(key: JsonObject, type: CrossSigningKeyType, userId: string, field: string): string {
  if (key.user_id !== userId) throw new MatrixError(400, 'M_INVALID_PARAM', `${field}.user_id must be ${userId}`);
  if (!Array.isArray(key.usage) || !key.usage.includes(type))
    throw new MatrixError(400, 'M_INVALID_PARAM', `${field}.usage must include ${type}`);
  const entries = Object.entries((key.keys as Record<string, unknown> | undefined) ?? {});
  const [only] = entries;
  if (entries.length !== 1 || !only || typeof only[1] !== 'string' || only[0] !== `ed25519:${only[1]}`)
    throw new MatrixError(400, 'M_INVALID_PARAM', `${field}.keys must hold one key, "ed25519:<key>": "<key>"`);
  return only[1];
}

type Failures = Record<string, Record<string, { errcode: string; error: string }>>;

/** Cross-signing keys and the signatures users make with them. */
export function createKeySignatures({ sql, deviceLists, confirm }: KeySignaturesDeps) {
  return {
    crossSigningKeys: (userIds: readonly string[]) => crossSigningKeysOf(sql, userIds),

    /**
     * The signatures uploaded on these users' keys that `viewer` may see. A user signs another
     * user's key only with their user-signing key, and the spec's "Key and signature security"
     * shows such a signature to its signer alone ("Users will not be able to see signatures made
     * by other users' user-signing keys"): not to the user signed, nor to anyone else, lest the
     * server tell who verified whom.
     */
    async uploadedOn(userIds: readonly string[], viewer: string): Promise<UploadedSignatures> {
      const out: UploadedSignatures = new Map();
      for (const s of await signaturesOn(sql, userIds)) {
        if (s.signer_user_id !== s.target_user_id && s.signer_user_id !== viewer) continue;
        const k = `${s.target_user_id}\n${s.target_key_id}`;
        const list = out.get(k);
        if (list) list.push(s);
        else out.set(k, [s]);
      }
      return out;
    },

    /**
     * keys/device_signing/upload. The first upload, and a repeat of the keys already there,
     * need no re-authentication (MSC3967, as Synapse and Element expect); replacing keys does.
     * A self-signing or user-signing key must be signed by the master key it will stand under.
     */
    async uploadCrossSigning(who: Requester, body: Record<string, unknown>, path: string): Promise<void> {
      const uploaded: { type: CrossSigningKeyType; key: JsonObject; publicKey: string; json: string }[] = [];
      for (const [field, type] of Object.entries(USAGE)) {
        const key = body[field];
        if (key === undefined) continue;
        if (typeof key !== 'object' || key === null || Array.isArray(key))
          throw new MatrixError(400, 'M_BAD_JSON', `${field} must be an object`);
        const k = key as JsonObject;
        uploaded.push({ type, key: k, publicKey: publicKeyOf(k, type, who.userId, field), json: canonical(k, field) });
      }
      const existing = await crossSigningKeysOf(sql, [who.userId]);
      const master = uploaded.find((u) => u.type === 'master')?.publicKey ?? existing.find((e) => e.key_type === 'master')?.public_key;
      for (const u of uploaded) {
        if (u.type === 'master') continue;
        if (!master) throw new MatrixError(400, 'M_MISSING_PARAM', 'A master key is needed to sign the other keys');
        if (!verifyJsonSignature(u.key, who.userId, `ed25519:${master}`, master))
          throw new MatrixError(400, 'M_INVALID_SIGNATURE', `The ${u.type} key is not signed by the master key`);
      }
      const same = uploaded.every((u) => existing.some((e) => e.key_type === u.type && e.key_json === u.json));
      const hasMaster = existing.some((e) => e.key_type === 'master');
      if (hasMaster && !same) await confirm(who, 'device_signing_upload', body.auth, path);
      if (uploaded.length === 0 || same) return;
      const pos = await transaction(sql, async (tx) => {
        for (const u of uploaded) await putCrossSigningKey(tx, who.userId, u.type, u.publicKey, u.json);
        return deviceLists.record(tx, [who.userId]);
      });
      await deviceLists.announce([who.userId], pos);
    },

    /**
     * keys/signatures/upload: signatures the requester made of keys (their own devices with
     * their self-signing key, their master key with a device, another user's master key with
     * their user-signing key). Each is checked against the key it claims to be by and the key
     * as stored here; what does not check out is reported, the rest kept.
     */
    async uploadSignatures(who: Requester, body: Record<string, unknown>): Promise<{ failures: Failures }> {
      const failures: Failures = {};
      const fail = (user: string, keyId: string, errcode: string, error: string) => ((failures[user] ??= {})[keyId] = { errcode, error });
      const targets = Object.keys(body);
      const cross = await crossSigningKeysOf(sql, [...new Set([who.userId, ...targets])]);
      const keyOf = (user: string, type: CrossSigningKeyType) => cross.find((c) => c.user_id === user && c.key_type === type);
      const mine = {
        master: keyOf(who.userId, 'master'),
        self: keyOf(who.userId, 'self_signing'),
        user: keyOf(who.userId, 'user_signing'),
      };
      const accepted: SignatureRow[] = [];
      const touched = new Set<string>();
      for (const [targetUser, byKey] of Object.entries(body)) {
        if (typeof byKey !== 'object' || byKey === null || Array.isArray(byKey))
          throw new MatrixError(400, 'M_BAD_JSON', `${targetUser} must map key ids to keys`);
        for (const [keyId, signed] of Object.entries(byKey as Record<string, unknown>)) {
          if (typeof signed !== 'object' || signed === null || Array.isArray(signed)) {
            fail(targetUser, keyId, 'M_BAD_JSON', 'The signed key must be an object');
            continue;
          }
          const obj = signed as JsonObject;
          const targetMaster = keyOf(targetUser, 'master');
          const isMaster = targetMaster?.public_key === keyId;
          const storedJson = isMaster
            ? targetMaster.key_json
            : targetUser === who.userId
              ? await getDeviceKeyJson(sql, targetUser, keyId)
              : undefined;
          if (storedJson === undefined) {
            fail(targetUser, keyId, 'M_NOT_FOUND', 'No such key');
            continue;
          }
          // Who may sign what: only these signer keys are worth storing.
          const signers: { keyId: string; publicKey: string }[] = [];
          if (targetUser === who.userId && !isMaster && mine.self)
            signers.push({ keyId: `ed25519:${mine.self.public_key}`, publicKey: mine.self.public_key });
          if (targetUser === who.userId && isMaster) {
            for (const id of Object.keys((obj.signatures as Record<string, Record<string, unknown>> | undefined)?.[who.userId] ?? {})) {
              if (!id.startsWith('ed25519:') || id === `ed25519:${keyId}`) continue;
              const device = await getDeviceKeyJson(sql, who.userId, id.slice('ed25519:'.length));
              const pub = device ? ((JSON.parse(device) as JsonObject).keys as Record<string, unknown> | undefined)?.[id] : undefined;
              if (typeof pub === 'string') signers.push({ keyId: id, publicKey: pub });
            }
          }
          if (targetUser !== who.userId && isMaster && mine.user)
            signers.push({ keyId: `ed25519:${mine.user.public_key}`, publicKey: mine.user.public_key });
          const stored = JSON.parse(storedJson) as JsonObject;
          const sigs = (obj.signatures as Record<string, Record<string, unknown>> | undefined)?.[who.userId] ?? {};
          let good = 0;
          for (const s of signers) {
            const signature = sigs[s.keyId];
            if (typeof signature !== 'string') continue;
            // Checked against the key as stored: a signature over other content signs nothing here.
            if (
              !verifyJsonSignature({ ...stored, signatures: { [who.userId]: { [s.keyId]: signature } } }, who.userId, s.keyId, s.publicKey)
            )
              continue;
            accepted.push({
              target_user_id: targetUser,
              target_key_id: keyId,
              signer_user_id: who.userId,
              signer_key_id: s.keyId,
              signature,
            });
            good++;
          }
          if (good === 0) fail(targetUser, keyId, 'M_INVALID_SIGNATURE', 'No valid signature by a key of yours that may sign this key');
          else touched.add(targetUser);
        }
      }
      if (accepted.length > 0) {
        // Signatures on one's own keys concern everyone who tracks one; a signature on another
        // user's key is shown to its signer alone, so only the signer's devices are told.
        const own = touched.has(who.userId);
        const others = [...touched].filter((u) => u !== who.userId);
        const { ownPos, othersPos } = await transaction(sql, async (tx) => {
          await putSignatures(tx, accepted);
          return {
            ownPos: own ? await deviceLists.record(tx, [who.userId]) : undefined,
            othersPos: others.length > 0 ? await deviceLists.recordSigned(tx, who.userId, others) : undefined,
          };
        });
        if (ownPos !== undefined) await deviceLists.announce([who.userId], ownPos);
        if (othersPos !== undefined) deviceLists.announceSigned(who.userId, othersPos);
      }
      return { failures };
    },
  };
}

export type KeySignatures = ReturnType<typeof createKeySignatures>;
