import { selectAuthEvents } from '../../../../federation/auth/index.ts';
import {
  describePduLimitProblem,
  hashAndSignEvent,
  pduLimitProblem,
  type PduDraft,
  type SigningKey,
} from '../../../../federation/events/index.ts';
import { MatrixError } from '../../../http/matrix-error.ts';
import type { Pdu } from '../../../../federation/events/pdu.ts';
import type { RoomVersion } from '../../../../federation/room-versions.ts';
import type { StoredEvent } from '../../storage/events.ts';
import type { StateLookup } from './auth-checks.ts';
import type { NewEvent } from './types.ts';

/** The spec caps prev_events at 20; citing the newest few keeps events small and still merges forks. */
export const MAX_PREV_EVENTS = 10;

/** The newest extremities by depth, which a new local event cites as its prev events. */
export function choosePrevEvents(extremities: readonly StoredEvent[]): StoredEvent[] {
  return [...extremities].sort((a, b) => b.pdu.depth - a.pdu.depth || b.streamPos - a.streamPos).slice(0, MAX_PREV_EVENTS);
}

/** A new local event has no children, so it is an extremity with the old ones it does not cite. */
export function extremitiesAfterLocal(old: readonly string[], pdu: Pdu): string[] {
  return [pdu.event_id, ...old.filter((id) => !pdu.prev_events.includes(id))];
}

/** Builds and signs a local event on top of `prevs`, with auth events chosen from the state before it. */
export function buildLocalEvent(
  ev: NewEvent,
  prevs: readonly StoredEvent[],
  stateBefore: StateLookup,
  version: RoomVersion,
  serverName: string,
  signingKey: SigningKey,
): Pdu {
  const draft: PduDraft = {
    room_id: ev.roomId,
    sender: ev.sender,
    type: ev.type,
    ...(ev.stateKey !== undefined ? { state_key: ev.stateKey } : {}),
    content: ev.content,
    origin_server_ts: Date.now(),
    depth: Math.min(Math.max(0, ...prevs.map((e) => e.pdu.depth)) + 1, Number.MAX_SAFE_INTEGER),
    prev_events: prevs.map((e) => e.pdu.event_id),
    auth_events: [],
    ...(version.updatedRedactionRules ? {} : { origin: serverName }),
    ...(ev.redacts !== undefined && !version.updatedRedactionRules ? { redacts: ev.redacts } : {}),
  };
  draft.auth_events = selectAuthEvents(draft, stateBefore, version).map((e) => e.event_id);
  return signWithinLimits(draft, version, serverName, signingKey);
}

/** The create event: no prev events, no state before it. v12 rooms take their id from it and omit room_id. */
export function buildCreateEvent(
  creator: string,
  version: RoomVersion,
  content: NewEvent['content'],
  roomIdForOldVersions: string,
  serverName: string,
  signingKey: SigningKey,
): Pdu {
  const draft: PduDraft = {
    ...(version.roomIdFromCreateEvent ? {} : { room_id: roomIdForOldVersions }),
    sender: creator,
    type: 'm.room.create',
    state_key: '',
    content,
    origin_server_ts: Date.now(),
    depth: 1,
    prev_events: [],
    auth_events: [],
    ...(version.updatedRedactionRules ? {} : { origin: serverName }),
  };
  return signWithinLimits(draft, version, serverName, signingKey);
}

/**
 * The spec's size limits and canonical JSON, checked on the draft (hashing would throw on
 * a float or a lone surrogate) and again on the signed event (its hashes and signatures count).
 */
function signWithinLimits(draft: PduDraft, version: RoomVersion, serverName: string, signingKey: SigningKey): Pdu {
  refuseOverLimits(draft);
  const pdu = hashAndSignEvent(draft, version, serverName, signingKey);
  refuseOverLimits(pdu);
  return pdu;
}

function refuseOverLimits(event: PduDraft): void {
  const problem = pduLimitProblem(event);
  if (!problem) return;
  if (problem.kind === 'too_large') throw new MatrixError(413, 'M_TOO_LARGE', describePduLimitProblem(problem));
  throw new MatrixError(400, 'M_BAD_JSON', describePduLimitProblem(problem));
}
