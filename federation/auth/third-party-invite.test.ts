import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../events/pdu.ts';
import { canonicalJson } from '../events/canonical-json.ts';
import { signedMatchesAnyKey, thirdPartyInvitePublicKeys } from './third-party-invite.ts';
import { BOB, CAROL, MOD, member, type RoomSetup, runAuthCases, type StateInit } from './test-fixtures.ts';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64').replace(/=+$/, '');
const urlsafe = (text: string): string => text.replace(/\+/g, '-').replace(/\//g, '_');

// Deterministic identity server keys (seeds are arbitrary test values).
const idKeys = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));
const otherKeys = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(9));

function sign(payload: JsonObject, secretKey: Uint8Array, keyId = 'ed25519:0'): JsonObject {
  const sig = nacl.sign.detached(new TextEncoder().encode(canonicalJson(payload)), secretKey);
  return { ...payload, signatures: { 'id.example': { [keyId]: b64(sig) } } };
}

const TOKEN = 'abc123';
const goodSigned = sign({ mxid: BOB, token: TOKEN, sender: MOD }, idKeys.secretKey);

function inviteState(content: JsonObject = {}, sender = MOD): StateInit {
  return {
    type: 'm.room.third_party_invite',
    state_key: TOKEN,
    sender,
    content: {
      display_name: 'b...@example.com',
      key_validity_url: 'https://id.example/_matrix/identity/v2/pubkey/isvalid',
      public_key: b64(idKeys.publicKey),
      ...content,
    },
  };
}

const setup = (extra: Partial<RoomSetup> = {}, state: StateInit = inviteState()): RoomSetup => ({
  members: { [MOD]: 'join', ...extra.members },
  extraState: [state],
  ...(extra.powerLevels ? { powerLevels: extra.powerLevels } : {}),
});
const tpInvite = (signed: JsonObject | undefined, sender = MOD, target = BOB) =>
  member(sender, target, 'invite', {
    third_party_invite: signed === undefined ? { display_name: 'x' } : { display_name: 'x', signed },
  });

runAuthCases('rule 4.4.1: third-party invites', [
  { name: '4.4.1.7 allow: signed by public_key', setup: setup(), event: tpInvite(goodSigned), expect: true },
  {
    name: '4.4.1.7 allow: signed by a key in public_keys',
    setup: setup({}, inviteState({ public_key: b64(otherKeys.publicKey), public_keys: [{ public_key: b64(idKeys.publicKey) }] })),
    event: tpInvite(goodSigned),
    expect: true,
  },
  {
    name: '4.4.1.7 allow: URL-safe base64 public key',
    setup: setup({}, inviteState({ public_key: urlsafe(b64(idKeys.publicKey)) })),
    event: tpInvite(goodSigned),
    expect: true,
  },
  {
    name: '4.4.1 allow: the invite level does not apply to completing a 3PID invite',
    setup: setup({ powerLevels: { invite: 100 } }),
    event: tpInvite(goodSigned),
    expect: true,
  },
  {
    name: '4.4.1.1 deny: target is banned',
    setup: setup({ members: { [BOB]: 'ban' } }),
    event: tpInvite(goodSigned),
    expect: 'target user is banned',
  },
  { name: '4.4.1.2 deny: no signed', setup: setup(), event: tpInvite(undefined), expect: 'missing signed' },
  {
    name: '4.4.1.3 deny: signed has no token',
    setup: setup(),
    event: tpInvite(sign({ mxid: BOB }, idKeys.secretKey)),
    expect: 'mxid and token',
  },
  {
    name: '4.4.1.3 deny: signed has no mxid',
    setup: setup(),
    event: tpInvite(sign({ token: TOKEN }, idKeys.secretKey)),
    expect: 'mxid and token',
  },
  {
    name: '4.4.1.4 deny: mxid does not match state_key',
    setup: setup(),
    event: tpInvite(goodSigned, MOD, CAROL),
    expect: 'does not match state_key',
  },
  {
    name: '4.4.1.5 deny: no m.room.third_party_invite for the token',
    setup: setup(),
    event: tpInvite(sign({ mxid: BOB, token: 'other' }, idKeys.secretKey)),
    expect: 'no m.room.third_party_invite',
  },
  {
    name: '4.4.1.6 deny: sender differs from the m.room.third_party_invite sender',
    setup: setup({ members: { [CAROL]: 'join' } }),
    event: tpInvite(goodSigned, CAROL),
    expect: 'sender does not match',
  },
  {
    name: '4.4.1.8 deny: signed by another key',
    setup: setup(),
    event: tpInvite(sign({ mxid: BOB, token: TOKEN }, otherKeys.secretKey)),
    expect: 'no signature in signed matches',
  },
  {
    name: '4.4.1.8 deny: signed was altered after signing',
    setup: setup(),
    event: tpInvite({ ...goodSigned, extra: 'tampered' }),
    expect: 'no signature in signed matches',
  },
  {
    name: '4.4.1.8 deny: signature with an unknown algorithm',
    setup: setup(),
    event: tpInvite(sign({ mxid: BOB, token: TOKEN }, idKeys.secretKey, 'curve25519:0')),
    expect: 'no signature in signed matches',
  },
  {
    name: '4.4.1.8 deny: the invite event has no public keys',
    setup: setup({}, { ...inviteState(), content: { display_name: 'x' } }),
    event: tpInvite(goodSigned),
    expect: 'no signature in signed matches',
  },
]);

describe('third-party invite helpers', () => {
  it('accepts identity server keys in either base64 alphabet, and skips keys that are not base64', () => {
    const key = b64(idKeys.publicKey);
    expect(signedMatchesAnyKey(goodSigned, [urlsafe(key)])).toBe(true);
    expect(signedMatchesAnyKey(goodSigned, ['a*b', 'abcde', key])).toBe(true);
    expect(signedMatchesAnyKey(goodSigned, ['a*b'])).toBe(false);
  });

  it('collects public_key and public_keys entries', () => {
    expect(thirdPartyInvitePublicKeys({ public_key: 'a', public_keys: [{ public_key: 'b' }, { nope: 1 }, 'c'] })).toEqual(['a', 'b']);
  });

  it('ignores the unsigned member when verifying', () => {
    expect(signedMatchesAnyKey({ ...goodSigned, unsigned: { age: 1 } }, [b64(idKeys.publicKey)])).toBe(true);
  });

  it('fails closed on payloads that are not canonical JSON', () => {
    expect(signedMatchesAnyKey({ ...goodSigned, n: 1.5 }, [b64(idKeys.publicKey)])).toBe(false);
  });
});
