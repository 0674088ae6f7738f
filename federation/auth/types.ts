/**
 * Shared shapes for the authorization rules. Everything in federation/auth is a
 * pure function over plain data: callers decide which state the rules run
 * against (the event's auth events, the state before the event, or the current
 * state — the three checks in "Checks performed on receipt of a PDU").
 */
import type { Pdu } from '../events/pdu.ts';

/** Outcome of an authorization check. `reason` is for logs, not for clients. */
export type AuthResult = { allowed: true } | { allowed: false; reason: string };

/**
 * Looks up the state event for (type, state_key) in whichever state the check
 * runs against. Must only return accepted (not rejected) events.
 *
 * In room version 12 the create event is not an auth event (it is implied by
 * the room id), but the rules still need its content: callers must answer
 * ('m.room.create', '') with the create event named by the room id.
 */
export type AuthStateLookup = (type: string, stateKey: string) => Pdu | undefined;

/** The parts of an event that decide which auth events it needs. */
export type EventShape = Pick<Pdu, 'type' | 'sender' | 'content'> & { state_key?: string | undefined };

export const ALLOW: AuthResult = Object.freeze({ allowed: true });

export function deny(reason: string): AuthResult {
  return { allowed: false, reason };
}

/** Event types with special meaning in the authorization rules. */
export const EventType = {
  Create: 'm.room.create',
  Member: 'm.room.member',
  JoinRules: 'm.room.join_rules',
  PowerLevels: 'm.room.power_levels',
  ThirdPartyInvite: 'm.room.third_party_invite',
  Redaction: 'm.room.redaction',
  /** Special in the auth rules of v1-v5 only. */
  Aliases: 'm.room.aliases',
} as const;

/** Optional hooks for the few rules that need more than the event data. */
export interface AuthOptions {
  /**
   * Cryptographically verifies that `event` is signed by `serverName`. Used by
   * the `join_authorised_via_users_server` rule (4.2 in v10/v11, 5.2 in v12).
   * Without it only the presence of a signature from that server is checked:
   * the auth rules themselves stay free of key lookups, and the signature
   * step of "Checks performed on receipt of a PDU" must then verify it.
   */
  verifyServerSignature?: (event: Pdu, serverName: string) => boolean;
}
