import type { Pdu } from '../../../../federation/events/pdu.ts';
import type { Tx } from '../../../db/database.ts';
import { AuthChainIndexError, indexAuthChains, insertAuthEdges, type EventToIndex } from '../../storage/auth-chains.ts';
import { unindexedRoomEvents } from '../../storage/events.ts';

function toIndex(pdu: Pdu): EventToIndex {
  return {
    eventId: pdu.event_id,
    authEventIds: pdu.auth_events,
    isState: pdu.state_key !== undefined,
    type: pdu.type,
    ...(pdu.state_key !== undefined ? { stateKey: pdu.state_key } : {}),
  };
}

/**
 * Adds an event to the room's auth-chain index, in the transaction that stores it.
 * A room created before the index existed is indexed first, in stream order (its
 * events are local, so auth events come before the events citing them). A rejected
 * event whose auth events cannot be indexed (a message cited as an auth event) is
 * left out: nothing accepted can cite it.
 */
export async function indexEventAuthChain(
  tx: Tx,
  roomId: string,
  pdu: Pdu,
  { rejected, fresh }: { rejected: boolean; fresh: boolean },
): Promise<void> {
  if (fresh && pdu.state_key === undefined) {
    // Edges only, written blind: the common local message costs one statement.
    if (await insertAuthEdges(tx, roomId, pdu.event_id, pdu.auth_events)) return;
    await indexRoom(tx, roomId, pdu.event_id);
    return;
  }
  try {
    await indexAuthChains(tx, roomId, [toIndex(pdu)]);
    return;
  } catch (err) {
    // The index reports a bad auth event before writing anything, so the transaction is intact.
    if (!(err instanceof AuthChainIndexError)) throw err;
    if (rejected) return;
  }
  await indexRoom(tx, roomId, pdu.event_id);
  await indexAuthChains(tx, roomId, [toIndex(pdu)]);
}

/** Indexes the room's events not yet indexed except `exceptId`, oldest first. */
async function indexRoom(tx: Tx, roomId: string, exceptId: string): Promise<void> {
  for (let batch = await unindexedRoomEvents(tx, roomId, exceptId, 500); batch.length > 0;) {
    await indexAuthChains(tx, roomId, batch.map(toIndex));
    batch = await unindexedRoomEvents(tx, roomId, exceptId, 500);
  }
}
