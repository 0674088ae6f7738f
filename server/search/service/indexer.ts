import type { Pdu } from '../../../federation/events/pdu.ts';
import type { Sql } from '../../db/database.ts';
import type { Consumer, DeliveredEvent } from '../../domain-events/index.ts';
import { indexEvents, unindexEvents, type IndexedEvent, type SearchKey } from '../storage/event-search.ts';

/** The event types search looks into, with the one key of each (the spec's `keys`). */
/** `state`: the room's name and topic are state events with the empty state key; a message is no state event. */
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
  /** From rooms: of these events, those in a room's timeline and not redacted. */
  searchableEvents: (eventIds: readonly string[]) => Promise<Map<string, SearchableEvent>>;
}

type Persisted = DeliveredEvent<'room.event_persisted'>;

/**
 * Keeps event_search up to date after events commit: a searchable event is indexed, and a
 * redaction takes its target out (once it applied: a redaction held back, or one whose sender
 * may not redact, leaves it). Off the send path, like push; idempotent, as consumers must be.
 * Events come in batches (one read of the events and one insert for all): under a burst of
 * sends, one event at a time left the index seconds behind.
 */
export function searchIndexer({ sql, searchableEvents }: IndexerDeps): Consumer<'room.event_persisted'> {
  async function handleBatch(events: Persisted[]): Promise<void> {
    const indexed = events.filter(({ payload: p }) => {
      const searched = SEARCHED[p.type];
      return searched !== undefined && (searched.state ? p.stateKey === '' : p.stateKey === null);
    });
    const redactions = events.filter((e) => e.payload.type === 'm.room.redaction');
    const loaded = await searchableEvents([...indexed, ...redactions].map((e) => e.payload.eventId));

    const rows: IndexedEvent[] = [];
    for (const { payload } of indexed) {
      const e = loaded.get(payload.eventId);
      const searched = SEARCHED[payload.type]!;
      const value = e?.pdu.content[searched.field];
      if (!e || typeof value !== 'string') continue;
      rows.push({
        eventId: payload.eventId,
        roomId: e.roomId,
        sender: e.pdu.sender,
        key: searched.key,
        value,
        streamPos: e.streamPos,
        originServerTs: e.pdu.origin_server_ts,
        containsUrl: payload.type === 'm.room.message' && typeof e.pdu.content.url === 'string',
      });
    }
    await indexEvents(sql, rows);

    // Room versions before 11 name a redaction's target at the top level, later ones in the content.
    const targets = redactions.flatMap(({ payload }) => {
      const r = loaded.get(payload.eventId)?.pdu;
      const target = r?.content.redacts ?? r?.redacts;
      return typeof target === 'string' ? [target] : [];
    });
    if (targets.length === 0) return;
    // A target still searchable is one the redaction did not apply to.
    const unredacted = await searchableEvents(targets);
    await unindexEvents(
      sql,
      targets.filter((t) => !unredacted.has(t)),
    );
  }

  return {
    name: 'search.index_event',
    types: ['room.event_persisted'],
    handle: (event) => handleBatch([event]),
    handleBatch,
  };
}
