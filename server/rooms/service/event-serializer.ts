import { stateKey, type JsonObject } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';
import type { StoredEvent } from '../storage/events.ts';
import { toClientEvent, type ClientEvent } from './client-event.ts';
import type { CachedReads } from './room-state.ts';
import { directReads, type StreamReads } from './stream-reads.ts';

export interface Viewer {
  userId: string;
  deviceId?: string;
}

/**
 * Turns stored events into client events with everything the spec bundles:
 * prev_content, redacted_because, and the m.replace / m.thread / m.reference
 * aggregations, loaded in batches for the whole page.
 */
export function createEventSerializer(roomState: CachedReads, reads: StreamReads = directReads) {
  async function serialize(tx: Tx, events: StoredEvent[], viewer: Viewer, opts: { bundle?: boolean } = {}): Promise<ClientEvent[]> {
    if (events.length === 0) return [];
    const bundle = opts.bundle ?? true;
    const replaced = events.flatMap((e) => (typeof e.pdu.unsigned?.replaces_state === 'string' ? [e.pdu.unsigned.replaces_state] : []));
    const redactions = events.flatMap((e) => (e.redactedBy ? [e.redactedBy] : []));
    const extra = await roomState.loadEvents(tx, [...replaced, ...redactions]);
    const relations = bundle ? await aggregations(tx, events, viewer) : new Map<string, JsonObject>();
    const memberships = await membershipsAfter(tx, events, viewer.userId);
    const now = Date.now();
    const ctx = {
      userId: viewer.userId,
      ...(viewer.deviceId !== undefined ? { deviceId: viewer.deviceId } : {}),
      now,
      prevContent: (id: string) => extra.get(id)?.pdu.content,
      redactedBecause: (id: string) => {
        const r = extra.get(id);
        return r ? toClientEvent(r, { userId: viewer.userId, now }) : undefined;
      },
      relations: (id: string) => relations.get(id),
      membership: (id: string) => memberships.get(id),
    };
    return events.map((e) => toClientEvent(e, ctx));
  }

  /**
   * MSC4115's unsigned.membership: the viewer's membership in the state after each
   * event (so their own member event gives what it set), `leave` with none.
   * Events of a page share few state groups, so this is a handful of cached lookups.
   */
  async function membershipsAfter(tx: Tx, events: StoredEvent[], userId: string): Promise<Map<string, string>> {
    const key = stateKey('m.room.member', userId);
    const groups = [...new Set(events.map((e) => e.stateGroup))];
    const memberIdByGroup = new Map(await Promise.all(groups.map(async (g) => [g, (await roomState.stateIds(tx, g)).get(key)] as const)));
    const ids = [...new Set([...memberIdByGroup.values()].filter((id): id is string => id !== undefined))];
    const memberEvents = await roomState.loadEvents(tx, ids);
    const out = new Map<string, string>();
    for (const e of events) {
      const id = memberIdByGroup.get(e.stateGroup);
      const m = id === undefined ? undefined : memberEvents.get(id)?.pdu.content.membership;
      out.set(e.pdu.event_id, typeof m === 'string' ? m : 'leave');
    }
    return out;
  }

  async function aggregations(tx: Tx, events: StoredEvent[], viewer: Viewer): Promise<Map<string, JsonObject>> {
    const byId = new Map(events.map((e) => [e.pdu.event_id, e]));
    const ids = [...byId.keys()];
    const out = new Map<string, JsonObject>();
    const slot = (id: string) => {
      let m = out.get(id);
      if (!m) out.set(id, (m = {}));
      return m;
    };

    // Edits and references, and thread summaries, in the same round.
    const [children, threads] = await Promise.all([reads.editsAndReferences(tx, ids), reads.threads(tx, ids, viewer.userId)]);
    const latestEdit = new Map<string, { id: string; ts: number }>();
    for (const c of children) {
      if (c.rel_type === 'm.reference') {
        const m = slot(c.relates_to);
        const ref = (m['m.reference'] ??= { chunk: [] }) as { chunk: JsonObject[] };
        ref.chunk.push({ event_id: c.event_id });
        continue;
      }
      // A valid replacement comes from the original's sender and keeps its type.
      const original = byId.get(c.relates_to);
      if (!original || original.pdu.sender !== c.sender || original.pdu.type !== c.type) continue;
      const best = latestEdit.get(c.relates_to);
      if (!best || c.origin_server_ts > best.ts || (c.origin_server_ts === best.ts && c.event_id > best.id)) {
        latestEdit.set(c.relates_to, { id: c.event_id, ts: c.origin_server_ts });
      }
    }

    const toLoad = [...[...latestEdit.values()].map((v) => v.id), ...threads.map((t) => t.latest_event_id)];
    const loaded = await roomState.loadEvents(tx, toLoad);
    const nested = await serialize(tx, [...loaded.values()], viewer, { bundle: false });
    const nestedById = new Map(nested.map((e) => [e.event_id, e]));

    for (const [parent, { id }] of latestEdit) {
      const e = nestedById.get(id);
      if (e) slot(parent)['m.replace'] = e as unknown as JsonObject;
    }
    for (const t of threads) {
      const latest = nestedById.get(t.latest_event_id);
      if (!latest) continue;
      const root = byId.get(t.root);
      slot(t.root)['m.thread'] = {
        latest_event: latest as unknown as JsonObject,
        count: t.count,
        current_user_participated: t.participated || root?.pdu.sender === viewer.userId,
      };
    }
    return out;
  }

  return { serialize };
}

export type EventSerializer = ReturnType<typeof createEventSerializer>;
