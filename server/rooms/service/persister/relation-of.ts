import type { JsonObject } from '../../../../federation/events/pdu.ts';

/** The m.relates_to of an event's content, if well-formed. */
export function relationOf(content: JsonObject): { relType: string; eventId: string; key: string | null } | undefined {
  const rel = content['m.relates_to'];
  if (!rel || typeof rel !== 'object' || Array.isArray(rel)) return undefined;
  const relType = rel.rel_type;
  const eventId = rel.event_id;
  if (typeof relType !== 'string' || typeof eventId !== 'string') return undefined;
  return { relType, eventId, key: typeof rel.key === 'string' ? rel.key : null };
}
