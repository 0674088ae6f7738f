import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { aliasesOf, deleteAlias, getAlias, insertAlias } from '../storage/aliases.ts';
import { getRoom } from '../storage/rooms.ts';
import { parseRoomAlias } from './canonical-alias.ts';
import { canEditDirectory, type DirectoryActor } from './directory-permission.ts';
import type { EventWriter } from './persister/index.ts';
import type { Membership } from './membership.ts';

export interface RoomAliasDeps {
  sql: Sql;
  serverName: string;
  writer: EventWriter;
  membership: Membership;
}

/**
 * The room alias directory of this server: `#name:our.server` -> room ID.
 * Aliases of other servers resolve over federation, which this server does not
 * speak yet, so they are reported as unknown.
 */
export function createRoomAliases({ sql, serverName, writer, membership }: RoomAliasDeps) {
  function checkSyntax(alias: string): { localpart: string; server: string } {
    const parsed = parseRoomAlias(alias);
    if (!parsed) throw new MatrixError(400, 'M_INVALID_PARAM', 'Room alias invalid');
    return parsed;
  }

  /** An alias this server may create or delete. */
  function localAlias(alias: string): string {
    if (checkSyntax(alias).server !== serverName)
      throw new MatrixError(400, 'M_INVALID_PARAM', `Room alias must be on this server (${serverName})`);
    return alias;
  }

  /** Removes `alias` from the room's m.room.canonical_alias, as Synapse does when an alias is deleted. */
  async function unadvertise(actor: DirectoryActor, roomId: string, alias: string): Promise<void> {
    const { state } = await membership.currentState(roomId);
    const current = state.get('m.room.canonical_alias', '')?.content;
    if (!current) return;
    const alt = Array.isArray(current.alt_aliases) ? current.alt_aliases : [];
    if (current.alias !== alias && !alt.includes(alias)) return;
    const next: JsonObject = { ...current };
    if (next.alias === alias) delete next.alias;
    if (Array.isArray(current.alt_aliases)) next.alt_aliases = alt.filter((a) => a !== alias);
    // The spec recommends deleting the alias even when the user may not update the event.
    await writer.send({ roomId, type: 'm.room.canonical_alias', stateKey: '', content: next, sender: actor.userId }).catch((e: unknown) => {
      if (!(e instanceof MatrixError && e.status === 403)) throw e;
    });
  }

  return {
    async resolve(alias: string): Promise<{ room_id: string; servers: string[] }> {
      checkSyntax(alias);
      const row = await getAlias(sql, alias);
      if (!row) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
      return { room_id: row.room_id, servers: [serverName] };
    },

    /** PUT /directory/room/{alias}: a joined member (or a server admin) names a room. */
    async create(actor: DirectoryActor, alias: string, roomId: string): Promise<void> {
      localAlias(alias);
      if (!(await getRoom(sql, roomId))) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room');
      if (!actor.isAdmin) {
        const { state } = await membership.currentState(roomId);
        if (state.get('m.room.member', actor.userId)?.content.membership !== 'join') {
          throw new MatrixError(403, 'M_FORBIDDEN', 'You must be in the room to give it an alias');
        }
      }
      if (!(await insertAlias(sql, alias, roomId, actor.userId)))
        throw new MatrixError(409, 'M_UNKNOWN', `Room alias ${alias} already exists`);
    },

    /**
     * DELETE /directory/room/{alias}: by whoever created the alias, a server admin,
     * or a member who may change the room's canonical alias. The alias also leaves
     * the room's m.room.canonical_alias event.
     */
    async remove(actor: DirectoryActor, alias: string): Promise<void> {
      localAlias(alias);
      const row = await getAlias(sql, alias);
      if (!row) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
      if (row.creator !== actor.userId && !(await canEditDirectory(membership, actor, row.room_id))) {
        throw new MatrixError(403, 'M_FORBIDDEN', 'You may not delete this alias');
      }
      await deleteAlias(sql, alias);
      await unadvertise(actor, row.room_id, alias);
    },

    /** GET /rooms/{roomId}/aliases: for members, or anyone when the room is world_readable. */
    async localAliases(actor: DirectoryActor, roomId: string): Promise<string[]> {
      const forbidden = () => new MatrixError(403, 'M_FORBIDDEN', 'You are not a member of the room');
      if (!(await getRoom(sql, roomId))) throw forbidden();
      if (!actor.isAdmin) {
        const { state } = await membership.currentState(roomId);
        const joined = state.get('m.room.member', actor.userId)?.content.membership === 'join';
        const worldReadable = state.get('m.room.history_visibility', '')?.content.history_visibility === 'world_readable';
        if (!joined && !worldReadable) throw forbidden();
      }
      return aliasesOf(sql, roomId);
    },
  };
}

export type RoomAliases = ReturnType<typeof createRoomAliases>;
