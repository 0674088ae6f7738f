/**
 * "Iterative auth checks" (state res v2 Definitions): apply each state event,
 * in order, to a running state if the authorisation rules allow it against
 * that state; otherwise ignore it.
 */
import { stateKey, type Pdu, type StateMap } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { CREATE, createEventIdFromRoomId } from './events.ts';
import type { AuthCheck, AuthStateLookup, FetchEvent } from './types.ts';

export interface IterativeAuthContext {
  fetchEvent: FetchEvent;
  version: RoomVersion;
  checkAuth: AuthCheck;
  /** Defaults to "never rejected". */
  isRejected?: (eventId: string) => boolean;
}

/**
 * The lookup the auth rules see for `event`: the running state first; for a
 * (type, state_key) missing from it, "the appropriate state event from the
 * event's auth_events is used if the auth event is not rejected".
 *
 * v12: the create event is never in auth_events (v12 auth rule 3.2) but is
 * implied by the room id, so it is the fallback for ('m.room.create', ''). This
 * matters for v2.1, which starts from an empty state.
 */
export function authStateFor(event: Pdu, state: StateMap, ctx: IterativeAuthContext): AuthStateLookup {
  const { fetchEvent, version } = ctx;
  const isRejected = ctx.isRejected ?? (() => false);
  return (type, key) => {
    const current = state.get(stateKey(type, key));
    const fromState = current === undefined ? undefined : fetchEvent(current);
    if (fromState) return fromState;

    for (const id of event.auth_events) {
      const candidate = fetchEvent(id);
      if (candidate && candidate.type === type && candidate.state_key === key && !isRejected(id)) return candidate;
    }
    if (version.roomIdFromCreateEvent && type === CREATE && key === '') {
      const id = createEventIdFromRoomId(event.room_id);
      const create = id === undefined ? undefined : fetchEvent(id);
      if (create && create.type === CREATE && create.state_key === '' && !isRejected(create.event_id)) return create;
    }
    return undefined;
  };
}

/**
 * Runs the iterative auth checks from `initial` over `orderedEventIds` and
 * returns the new state (`initial` is not modified). Events that are not
 * state events, or that cannot be fetched, are skipped.
 *
 * Previously rejected events are re-authorised like any other (spec,
 * "Rejected events": handled as usual unless otherwise specified); only the
 * auth-event fallback excludes rejected events.
 */
export function iterativeAuthChecks(
  initial: ReadonlyMap<string, string>,
  orderedEventIds: Iterable<string>,
  ctx: IterativeAuthContext,
): StateMap {
  const state: StateMap = new Map(initial);
  for (const id of orderedEventIds) {
    const event = ctx.fetchEvent(id);
    if (!event || event.state_key === undefined) continue;
    const result = ctx.checkAuth(event, authStateFor(event, state, ctx), ctx.version);
    if (result.allowed) state.set(stateKey(event.type, event.state_key), id);
  }
  return state;
}
