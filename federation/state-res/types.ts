/**
 * Shapes shared by the state resolution helpers. Everything here is injected
 * by the caller so the algorithm stays pure and synchronous: the caller loads
 * every event that may be needed (the state sets, their auth chains) first.
 *
 * `AuthCheck` / `AuthStateLookup` / `AuthResult` are structurally identical to
 * the exports of federation/auth (declared locally so this folder does not
 * depend on it); pass `checkEventAuth` from there as `checkAuth`.
 */
import type { Pdu } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';

/** Returns the event with this id, or undefined if the caller does not have it. */
export type FetchEvent = (eventId: string) => Pdu | undefined;

export type AuthResult = { allowed: true } | { allowed: false; reason: string };

/** Looks up the (type, state_key) event the auth rules should see for the event being checked. */
export type AuthStateLookup = (type: string, stateKey: string) => Pdu | undefined;

/** The authorisation rules (server-server API "Authorization rules"), injected. */
export type AuthCheck = (event: Pdu, authState: AuthStateLookup, version: RoomVersion) => AuthResult;

/**
 * Power level of `event.sender` "when looking at their respective auth_events"
 * (reverse topological power ordering, comparison step 1). May return
 * `Infinity` (v12 room creators).
 */
export type SenderPowerLevel = (event: Pdu, fetchEvent: FetchEvent, version: RoomVersion) => number;

/** The auth chain of one event: ids reachable through `auth_events`, excluding the event itself. */
export type AuthChainOf = (eventId: string) => ReadonlySet<string>;

export interface ResolveStateOptions {
  /**
   * Precomputed auth chains (e.g. from a database index). Defaults to walking
   * `auth_events` through `fetchEvent`.
   */
  authChainOf?: AuthChainOf;
  /**
   * The auth difference of the state sets, precomputed (e.g. by the database's
   * auth-chain index), so the state sets' whole auth chains need not be fetched.
   */
  authDifference?: ReadonlySet<string>;
  /** Override for the sender power level used by the power ordering. */
  senderPowerLevel?: SenderPowerLevel;
  /**
   * Whether an event was rejected. Only used where the spec says so: an
   * event's own auth events are used as a fallback in the iterative auth
   * checks "if the auth event is not rejected". Defaults to "never rejected".
   */
  isRejected?: (eventId: string) => boolean;
}
