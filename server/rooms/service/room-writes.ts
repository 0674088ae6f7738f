import { CanonicalJsonError, canonicalJson } from '../../../federation/events/index.ts';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { duplicateAnnotation } from '../storage/relations.ts';
import { getRoom } from '../storage/rooms.ts';
import { currentPowerLevels, userPowerLevel } from '../../../federation/auth/index.ts';
import { roomVersion, type RoomVersion } from '../../../federation/room-versions.ts';
import { getEvent } from '../storage/events.ts';
import { validateCanonicalAlias } from './canonical-alias.ts';
import { relationOf, type EventWriter } from './persister/index.ts';
import type { Membership } from './membership.ts';

/**
 * Event content must have a canonical JSON form to be hashed and signed: no
 * floats, no integers beyond ±(2^53-1). Room versions 6+ require refusing
 * such content with M_BAD_JSON; v1-v5 only ask servers not to be strict with
 * what they receive, and we cannot sign such content either, so it is refused
 * in every version rather than failing later as a 500.
 */
export function assertCanonicalContent(content: JsonObject): string {
  try {
    return canonicalJson(content);
  } catch (e) {
    if (e instanceof CanonicalJsonError) throw new MatrixError(400, 'M_BAD_JSON', `Event content is not canonical JSON: ${e.message}`);
    throw e;
  }
}

export interface Sender {
  userId: string;
  deviceId: string;
}

/** Messages, state changes and redactions sent by local users. */
export function createRoomWrites({ sql, writer, membership }: { sql: Sql; writer: EventWriter; membership: Membership }) {
  /**
   * The auth rules let any member send a redaction, and the federation rule applies it
   * when the senders share a server; for its own users the server must check more:
   * one redacts one's own events, or needs the redact level.
   */
  async function mayRedact(userId: string, roomId: string, eventId: string, version: RoomVersion): Promise<void> {
    const target = await getEvent(sql, eventId);
    if (target && target.roomId === roomId && target.pdu.sender === userId) return;
    const { state } = await membership.currentState(roomId);
    if (userPowerLevel(userId, state.get, version) >= currentPowerLevels(state.get, version).redact) return;
    throw new MatrixError(403, 'M_FORBIDDEN', "You don't have permission to redact this event");
  }

  return {
    async sendMessage(who: Sender, roomId: string, type: string, txnId: string, content: JsonObject): Promise<string> {
      if (type === 'm.room.redaction') throw new MatrixError(400, 'M_BAD_JSON', 'Use the /redact endpoint to redact events');
      assertCanonicalContent(content);
      const rel = relationOf(content);
      if (rel?.relType === 'm.annotation' && rel.key !== null && (await duplicateAnnotation(sql, rel.eventId, who.userId, type, rel.key))) {
        throw new MatrixError(400, 'M_DUPLICATE_ANNOTATION', 'You have already sent this annotation');
      }
      // A retry is the same txnId on the same path: the room and event type are part of the key.
      const key = JSON.stringify(['send', roomId, type, txnId]);
      const e = await writer.send({ roomId, type, content, sender: who.userId, txn: { deviceId: who.deviceId, txnId, key } });
      return e.pdu.event_id;
    },

    async setState(who: Sender, roomId: string, type: string, stateKey: string, content: JsonObject): Promise<string> {
      // Clients also PUT member events directly (e.g. a per-room display name); the auth rules judge them.
      if (type === 'm.room.member' && typeof content.membership !== 'string')
        throw new MatrixError(400, 'M_BAD_JSON', 'membership is required');
      const canonical = assertCanonicalContent(content);
      // Re-sending identical state is a no-op that returns the existing event, as clients expect.
      const { state } = await membership.currentState(roomId);
      const existing = state.get(type, stateKey);
      if (existing && existing.sender === who.userId && canonicalJson(existing.content) === canonical) return existing.event_id;
      if (type === 'm.room.canonical_alias' && stateKey === '') await validateCanonicalAlias(sql, roomId, content, existing?.content);
      const e = await writer.send({ roomId, type, stateKey, content, sender: who.userId });
      return e.pdu.event_id;
    },

    async redact(who: Sender, roomId: string, eventId: string, txnId: string, reason?: string): Promise<string> {
      const room = await getRoom(sql, roomId);
      if (!room) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
      const version = roomVersion(room.room_version)!;
      const v11 = version.updatedRedactionRules;
      await mayRedact(who.userId, roomId, eventId, version);
      const content: JsonObject = { ...(reason !== undefined ? { reason } : {}), ...(v11 ? { redacts: eventId } : {}) };
      const e = await writer.send({
        roomId,
        type: 'm.room.redaction',
        content,
        sender: who.userId,
        redacts: eventId,
        txn: { deviceId: who.deviceId, txnId, key: JSON.stringify(['redact', roomId, eventId, txnId]) },
      });
      return e.pdu.event_id;
    },
  };
}

export type RoomWrites = ReturnType<typeof createRoomWrites>;
