import type { Pdu } from '../../federation/events/pdu.ts';

/** The RoomEventFilter / EventFilter keys that select events. */
export interface EventSelector {
  limit?: number | undefined;
  types?: string[] | undefined;
  not_types?: string[] | undefined;
  senders?: string[] | undefined;
  not_senders?: string[] | undefined;
  rooms?: string[] | undefined;
  not_rooms?: string[] | undefined;
  contains_url?: boolean | undefined;
  lazy_load_members?: boolean | undefined;
  include_redundant_members?: boolean | undefined;
}

const STAR = 42; // '*'

/**
 * `*` matches any run of characters, as the spec's filter types allow. Matched in place rather
 * than through a RegExp: a filter's patterns are tried on every event of every /sync, and
 * building an expression for each (a presence filter of `not_types: ['*']` did) was a
 * visible share of a busy server's time.
 */
export function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  let p = 0;
  let t = 0;
  // Where the last `*` was, and how much of `type` it has taken so far: a mismatch after it
  // gives it one more character and tries again from there.
  let star = -1;
  let taken = 0;
  while (t < type.length) {
    if (p < pattern.length && pattern.charCodeAt(p) === STAR) {
      star = p++;
      taken = t;
    } else if (p < pattern.length && pattern.charCodeAt(p) === type.charCodeAt(t)) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++taken;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p++;
  return p === pattern.length;
}

/**
 * A selector no event can pass: `not_types` with `*`, or an empty `types` or `senders`. A /sync
 * does not read a stream its filter blocks whole (clients and bots that turn presence or
 * ephemeral events off say so this way), and a change only to such a stream does not answer a
 * waiting long-poll with an empty room.
 */
export function blocksAll(f: EventSelector | undefined): boolean {
  return !!f && (f.not_types?.includes('*') === true || f.types?.length === 0 || f.senders?.length === 0);
}

export function matchesFilter(f: EventSelector | undefined, e: Pick<Pdu, 'type' | 'sender' | 'content'>, roomId?: string): boolean {
  if (!f) return true;
  if (f.not_types?.some((t) => typeMatches(t, e.type))) return false;
  if (f.types && !f.types.some((t) => typeMatches(t, e.type))) return false;
  if (f.not_senders?.includes(e.sender)) return false;
  if (f.senders && !f.senders.includes(e.sender)) return false;
  if (roomId !== undefined) {
    if (f.not_rooms?.includes(roomId)) return false;
    if (f.rooms && !f.rooms.includes(roomId)) return false;
  }
  if (f.contains_url !== undefined && (typeof e.content.url === 'string') !== f.contains_url) return false;
  return true;
}
