/**
 * Auth events selection (server-server API, "Auth events selection"): which
 * (type, state_key) pairs of the room state a new event must cite in its
 * `auth_events`. The same list bounds what a received event may cite (rule
 * 2.2 in v10/v11, 3.2 in v12), see auth-events-shape.ts.
 */
import type { Pdu } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { type AuthStateLookup, type EventShape, EventType } from './types.ts';

export interface AuthEventKey {
  type: string;
  stateKey: string;
}

/** The token of a third-party invite member event, if it carries one. */
export function thirdPartyInviteToken(content: Pdu['content']): string | undefined {
  const tpi = content['third_party_invite'];
  if (typeof tpi !== 'object' || tpi === null || Array.isArray(tpi)) return undefined;
  const signed = tpi['signed'];
  if (typeof signed !== 'object' || signed === null || Array.isArray(signed)) return undefined;
  const token = signed['token'];
  return typeof token === 'string' ? token : undefined;
}

/**
 * The (type, state_key) pairs whose current state events are the auth events
 * of `event`, without duplicates. Entries are "if any": a pair with no event in
 * the state is simply not cited.
 */
export function authTypesForEvent(event: EventShape, version: RoomVersion): AuthEventKey[] {
  // The create event starts the room: it has no auth events at all.
  if (event.type === EventType.Create && event.state_key === '') return [];

  const keys: AuthEventKey[] = [];
  const add = (type: string, stateKey: string): void => {
    if (!keys.some((k) => k.type === type && k.stateKey === stateKey)) keys.push({ type, stateKey });
  };

  // v12 names the create event through the room id and forbids citing it.
  if (!version.roomIdFromCreateEvent) add(EventType.Create, '');
  add(EventType.PowerLevels, '');
  add(EventType.Member, event.sender);

  if (event.type === EventType.Member && typeof event.state_key === 'string') {
    const membership = event.content['membership'];
    add(EventType.Member, event.state_key);
    if (membership === 'join' || membership === 'invite' || membership === 'knock') {
      add(EventType.JoinRules, '');
    }
    if (membership === 'invite') {
      const token = thirdPartyInviteToken(event.content);
      if (token !== undefined) add(EventType.ThirdPartyInvite, token);
    }
    // Restricted joins (v8+) cite the authorising user's membership.
    const via = event.content['join_authorised_via_users_server'];
    if (membership === 'join' && version.restrictedJoins && typeof via === 'string') {
      add(EventType.Member, via);
    }
  }
  return keys;
}

/**
 * The events from `state` that a new event should cite as `auth_events`, in
 * selection order. Useful when building events locally.
 */
export function selectAuthEvents(event: EventShape, state: AuthStateLookup, version: RoomVersion): Pdu[] {
  const out: Pdu[] = [];
  for (const { type, stateKey } of authTypesForEvent(event, version)) {
    const found = state(type, stateKey);
    if (found) out.push(found);
  }
  return out;
}
