import type { Pdu } from '../../../federation/events/pdu.ts';
import type { Sql } from '../../db/database.ts';
import type { Consumer } from '../../domain-events/index.ts';
import { indexEvent, unindexEvent, type SearchKey } from '../storage/event-search.ts';

/** The event types search looks into, with the one key of each (the spec's `keys`). */
export const SEARCHED: Readonly<Record<string, { key: SearchKey; field: string; state: boolean }>> = {
  'm.room.message': { key: 'content.body', field: 'body', state: false },
  'm.room.name': { key: 'content.name', field: 'name', state: true },
  'm.room.topic': { key: 'content.topic', field: 'topic', state: true },
};

export interface SearchableEvent {
  roomId: string;
  pdu: Pdu;
  streamPos: number;
}

export interface IndexerDeps {
  sql: Sql;
  /** From rooms: the event when it is in a room's timeline and not redacted. */
  searchableEvent: (eventId: string) => Promise<SearchableEvent | undefined>;
}

/**
 * Keeps event_search up to date after events commit: a searchable event is indexed, and a
 * redaction takes its target out (once it applied: a redaction held back, or one whose sender
 * may not redact, leaves it). Off the send path, like push; idempotent, as consumers must be.
 */
export function searchIndexer({ sql, searchableEvent }: IndexerDeps): Consumer<'room.event_persisted'> {
  return {
    name: 'search.index_event',
    types: ['room.event_persisted'],
    async handle({ payload: { eventId, type, stateKey } }) {
      if (type === 'm.room.redaction') return unindexRedacted(eventId);
      const searched = SEARCHED[type];
      if (!searched || searched.state !== (stateKey !== null)) return;
      const e = await searchableEvent(eventId);
      const value = e?.pdu.content[searched.field];
      if (!e || typeof value !== 'string') return;
      await indexEvent(sql, {
        eventId,
        roomId: e.roomId,
        sender: e.pdu.sender,
        key: searched.key,
        value,
        streamPos: e.streamPos,
        originServerTs: e.pdu.origin_server_ts,
        containsUrl: type === 'm.room.message' && typeof e.pdu.content.url === 'string',
      });
    },
  };

  async function unindexRedacted(redactionId: string): Promise<void> {
    const redaction = await searchableEvent(redactionId);
    // Room versions before 11 name the target at the top level, later ones in the content.
    const target = redaction?.pdu.content.redacts ?? redaction?.pdu.redacts;
    if (typeof target !== 'string') return;
    // Still searchable means the redaction did not apply to it.
    if (await searchableEvent(target)) return;
    await unindexEvent(sql, target);
  }
}
