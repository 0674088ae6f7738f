/**
 * The spec's history visibility rules ("Room History Visibility", server behaviour)
 * as a pure function over what is known of one event and one user.
 */

export type HistoryVisibility = 'world_readable' | 'shared' | 'invited' | 'joined';

/** Unknown or missing values count as `shared`, as the spec says. */
export function parseHistoryVisibility(value: unknown): HistoryVisibility {
  return value === 'world_readable' || value === 'invited' || value === 'joined' || value === 'shared' ? value : 'shared';
}

export interface EventVisibilityFacts {
  /** history_visibility in the room state before the event. */
  visibilityBefore: HistoryVisibility;
  /** For an m.room.history_visibility event: the value it sets. */
  visibilityAfter?: HistoryVisibility | undefined;
  /** The user's membership in the state before the event (undefined: none). */
  membershipBefore?: string | undefined;
  /** The event is the user's own m.room.member event. */
  ownMembership?: boolean | undefined;
  /** The user's membership was `join` at some point after the event (now, or later but left again). */
  joinedLater: boolean;
}

/** Rules 1-5 of the spec, for one history_visibility and one membership. */
function allows(visibility: HistoryVisibility, membership: string | undefined, joinedLater: boolean): boolean {
  if (visibility === 'world_readable') return true;
  if (membership === 'join') return true;
  if (visibility === 'shared' && joinedLater) return true;
  if (visibility === 'invited' && membership === 'invite') return true;
  return false;
}

export function isEventVisible(f: EventVisibilityFacts): boolean {
  // A user always sees their own membership events: the spec requires it when the
  // membership before or after allows, and the others (an invite to a `joined` room,
  // a rejected invite) only tell the user what they did or what was done to them.
  if (f.ownMembership) return true;
  if (allows(f.visibilityBefore, f.membershipBefore, f.joinedLater)) return true;
  // A history_visibility change is seen by whoever either setting would show it to.
  return f.visibilityAfter !== undefined && allows(f.visibilityAfter, f.membershipBefore, f.joinedLater);
}
