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

/** `*` matches any run of characters, as the spec's filter types allow. */
function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(type);
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
