/**
 * Authorization of `m.room.member` invites carrying `third_party_invite`
 * (rule 4.4.1 in v10/v11, 5.4.1 in v12 — identical text in all three), and
 * verification of the identity server signature on `signed`
 * (server-server API, "Verifying the invite").
 */
import type { JsonObject, JsonValue, Pdu } from '../events/pdu.ts';
import { Base64Error, decodeEitherBase64 } from '../events/base64.ts';
import { verifyKey } from '../events/ed25519.ts';
import { verifyJsonSignature } from '../events/signing.ts';
import { ALLOW, type AuthResult, type AuthStateLookup, deny, EventType } from './types.ts';

function asObject(value: JsonValue | undefined): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

/** Public keys of an m.room.third_party_invite: `public_key` and `public_keys[].public_key`. */
export function thirdPartyInvitePublicKeys(content: JsonObject): string[] {
  const keys: string[] = [];
  const single = content['public_key'];
  if (typeof single === 'string') keys.push(single);
  const list = content['public_keys'];
  if (Array.isArray(list)) {
    for (const entry of list) {
      const key = asObject(entry)?.['public_key'];
      if (typeof key === 'string') keys.push(key);
    }
  }
  return keys;
}

/**
 * Whether any ed25519 signature in `signed.signatures` verifies, over the
 * canonical JSON of `signed` without `signatures`/`unsigned`, against any of
 * `publicKeys` (rule 4.4.1.7).
 */
export function signedMatchesAnyKey(signed: JsonObject, publicKeys: readonly string[]): boolean {
  const keys = publicKeys.flatMap((k) => {
    try {
      return verifyKey(decodeEitherBase64(k)) ?? [];
    } catch (e) {
      if (e instanceof Base64Error) return [];
      throw e;
    }
  });
  const sigsByEntity = asObject(signed['signatures']) ?? {};
  return Object.entries(sigsByEntity).some(([entity, sigs]) =>
    Object.keys(asObject(sigs) ?? {}).some((keyId) => keys.some((key) => verifyJsonSignature(signed, entity, keyId, key))),
  );
}

/**
 * Rule 4.4.1 (v12: 5.4.1): the invite is decided entirely here — allowed only
 * if every step passes, never falling through to the ordinary invite rules.
 */
export function checkThirdPartyInvite(event: Pdu, state: AuthStateLookup): AuthResult {
  const target = event.state_key ?? '';
  // 4.4.1.1: a banned target cannot be invited by any means.
  if (state(EventType.Member, target)?.content['membership'] === 'ban') {
    return deny('third-party invite: target user is banned');
  }
  // 4.4.1.2
  const signed = asObject(asObject(event.content['third_party_invite'])?.['signed']);
  if (!signed) return deny('third-party invite: missing signed');
  // 4.4.1.3
  const mxid = signed['mxid'];
  const token = signed['token'];
  if (typeof mxid !== 'string' || typeof token !== 'string') {
    return deny('third-party invite: signed needs mxid and token');
  }
  // 4.4.1.4
  if (mxid !== target) return deny('third-party invite: signed.mxid does not match state_key');
  // 4.4.1.5
  const invite = state(EventType.ThirdPartyInvite, token);
  if (!invite) return deny('third-party invite: no m.room.third_party_invite for token');
  // 4.4.1.6: only the user who issued the 3PID invite may complete it.
  if (invite.sender !== event.sender) {
    return deny('third-party invite: sender does not match the m.room.third_party_invite sender');
  }
  // 4.4.1.7 / 4.4.1.8
  if (signedMatchesAnyKey(signed, thirdPartyInvitePublicKeys(invite.content))) return ALLOW;
  return deny('third-party invite: no signature in signed matches the invite public keys');
}
