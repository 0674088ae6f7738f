/**
 * The two orderings of state resolution v2 (unchanged in v2.1):
 * reverse topological power ordering and mainline ordering.
 */
import type { Pdu } from '../events/pdu.ts';
import { compareIds, powerLevelsAuthEvent } from './events.ts';
import { MinHeap } from './heap.ts';
import type { FetchEvent } from './types.ts';

/** What the power-ordering comparison needs to know about one event. */
export interface PowerSortKey {
  eventId: string;
  /** Sender's power level per the event's auth events; may be Infinity (v12 creators). */
  power: number;
  originServerTs: number;
}

/**
 * Comparison relation of the reverse topological power ordering: x < y if
 * (1) x's sender has GREATER power, else (2) smaller origin_server_ts, else
 * (3) smaller event id. Written with comparisons, not subtraction, because
 * Infinity - Infinity is NaN.
 */
export function comparePowerOrder(x: PowerSortKey, y: PowerSortKey): number {
  if (x.power !== y.power) return x.power > y.power ? -1 : 1;
  if (x.originServerTs !== y.originServerTs) return x.originServerTs < y.originServerTs ? -1 : 1;
  return compareIds(x.eventId, y.eventId);
}

/**
 * "Reverse topological power ordering": the lexicographically smallest
 * topological ordering (earliest first) of the DAG formed by auth events,
 * found with Kahn's algorithm, taking at each step the smallest candidate per
 * `comparePowerOrder`.
 *
 * The DAG is the one induced on `eventIds`: an edge for each `auth_events`
 * entry that is itself in the set. An event becomes a candidate once all its
 * auth events in the set have been output. Ids that cannot be fetched are
 * dropped (they cannot be ordered or authorised).
 *
 * @throws if the auth events form a cycle, which content-hashed event ids
 *   make impossible; silently truncating would hide corrupted input.
 */
export function reverseTopologicalPowerOrder(
  eventIds: Iterable<string>,
  fetchEvent: FetchEvent,
  powerOf: (event: Pdu) => number,
): string[] {
  const events = new Map<string, Pdu>();
  for (const id of eventIds) {
    const event = fetchEvent(id);
    if (event) events.set(id, event);
  }

  // remaining[e] = auth events of e (in the set) not yet output;
  // citedBy[a] = events in the set that cite a.
  const remaining = new Map<string, number>();
  const citedBy = new Map<string, string[]>();
  for (const [id, event] of events) {
    const deps = new Set(event.auth_events.filter((a) => events.has(a)));
    remaining.set(id, deps.size);
    for (const a of deps) {
      const list = citedBy.get(a);
      if (list) list.push(id);
      else citedBy.set(a, [id]);
    }
  }

  const keyOf = (id: string): PowerSortKey => {
    const event = events.get(id) as Pdu;
    return { eventId: id, power: powerOf(event), originServerTs: event.origin_server_ts };
  };
  const candidates = new MinHeap<PowerSortKey>(comparePowerOrder);
  for (const [id, count] of remaining) if (count === 0) candidates.push(keyOf(id));

  const ordered: string[] = [];
  for (let next = candidates.pop(); next !== undefined; next = candidates.pop()) {
    ordered.push(next.eventId);
    for (const child of citedBy.get(next.eventId) ?? []) {
      const left = (remaining.get(child) ?? 0) - 1;
      remaining.set(child, left);
      if (left === 0) candidates.push(keyOf(child));
    }
  }
  if (ordered.length !== events.size) {
    throw new Error('state resolution: auth events of the events to sort contain a cycle');
  }
  return ordered;
}

/**
 * "Mainline of P": [P0 = P, P1, ..., Pn], each P(i+1) being the power levels
 * event in the auth events of Pi. Stops at an event we cannot fetch or that
 * has no power levels auth event (or, defensively, on a repeat).
 */
export function mainline(powerLevelsEventId: string, fetchEvent: FetchEvent): string[] {
  const list: string[] = [];
  const seen = new Set<string>();
  let current: Pdu | undefined = fetchEvent(powerLevelsEventId);
  if (!current) return [powerLevelsEventId];
  while (current && !seen.has(current.event_id)) {
    seen.add(current.event_id);
    list.push(current.event_id);
    current = powerLevelsAuthEvent(current, fetchEvent);
  }
  return list;
}

/**
 * "Mainline position" of e: walk e1, e2, ... (the power levels event in the
 * auth events of the previous one, e0 = e itself excluded) and return i for
 * the first ej that is Pi in the mainline; Infinity if none is.
 * `positions` maps mainline event id -> i.
 */
export function mainlinePosition(event: Pdu, positions: ReadonlyMap<string, number>, fetchEvent: FetchEvent): number {
  const seen = new Set<string>();
  for (let e = powerLevelsAuthEvent(event, fetchEvent); e && !seen.has(e.event_id);) {
    const position = positions.get(e.event_id);
    if (position !== undefined) return position;
    seen.add(e.event_id);
    e = powerLevelsAuthEvent(e, fetchEvent);
  }
  return Infinity;
}

/** What the mainline comparison needs to know about one event. */
export interface MainlineSortKey {
  eventId: string;
  /** Mainline position; Infinity when the event's power levels chain never meets the mainline. */
  position: number;
  originServerTs: number;
}

/**
 * Comparison relation of the mainline ordering: x < y if (1) x's mainline
 * position is GREATER (based on an earlier mainline event), else (2) smaller
 * origin_server_ts, else (3) smaller event id.
 */
export function compareMainlineOrder(x: MainlineSortKey, y: MainlineSortKey): number {
  if (x.position !== y.position) return x.position > y.position ? -1 : 1;
  if (x.originServerTs !== y.originServerTs) return x.originServerTs < y.originServerTs ? -1 : 1;
  return compareIds(x.eventId, y.eventId);
}

/**
 * "Mainline ordering based on P" of `eventIds`, smallest first. With no
 * power levels event (`powerLevelsEventId` undefined) the mainline is empty,
 * every position is Infinity, and the order falls back to timestamp then id.
 * Ids that cannot be fetched are dropped.
 */
export function mainlineOrder(eventIds: Iterable<string>, powerLevelsEventId: string | undefined, fetchEvent: FetchEvent): string[] {
  const positions = new Map<string, number>();
  if (powerLevelsEventId !== undefined) {
    mainline(powerLevelsEventId, fetchEvent).forEach((id, i) => positions.set(id, i));
  }
  const keys: MainlineSortKey[] = [];
  for (const id of eventIds) {
    const event = fetchEvent(id);
    if (!event) continue;
    keys.push({
      eventId: id,
      position: mainlinePosition(event, positions, fetchEvent),
      originServerTs: event.origin_server_ts,
    });
  }
  return keys.sort(compareMainlineOrder).map((k) => k.eventId);
}
