import type { JsonObject, JsonValue } from '../../../federation/events/pdu.ts';
import { isValidServerName } from '../../../federation/auth/index.ts';
import type { Tx } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { getAlias } from '../storage/aliases.ts';

/** `#localpart:server`, at most 255 bytes; the localpart has no ':' and no NUL. */
export function parseRoomAlias(alias: string): { localpart: string; server: string } | undefined {
  if (!alias.startsWith('#') || Buffer.byteLength(alias) > 255) return undefined;
  const colon = alias.indexOf(':');
  if (colon < 2) return undefined;
  const localpart = alias.slice(1, colon);
  const server = alias.slice(colon + 1);
  if (/[\s\u0000]/.test(localpart) || !isValidServerName(server)) return undefined;
  return { localpart, server };
}

/** The aliases an m.room.canonical_alias content names (alias, then alt_aliases), checked for syntax. */
export function canonicalAliasesOf(content: JsonObject): string[] {
  const out: string[] = [];
  const alias = content.alias;
  if (alias !== undefined && alias !== null && alias !== '') out.push(aliasValue(alias, 'alias'));
  const alt = content.alt_aliases;
  if (alt !== undefined) {
    if (!Array.isArray(alt)) throw new MatrixError(400, 'M_INVALID_PARAM', 'alt_aliases must be an array of room aliases');
    for (const a of alt) out.push(aliasValue(a, 'alt_aliases'));
  }
  return out;
}

function aliasValue(value: JsonValue, field: string): string {
  if (typeof value !== 'string' || !parseRoomAlias(value))
    throw new MatrixError(400, 'M_INVALID_PARAM', `${field} contains an invalid room alias`);
  return value;
}

/**
 * A new m.room.canonical_alias may only advertise aliases that point to the
 * room (M_BAD_ALIAS otherwise). Only aliases the event adds are checked, so an
 * alias that has since been deleted does not block unrelated edits. An alias of
 * another server cannot be verified without federation, so it is refused.
 */
export async function validateCanonicalAlias(tx: Tx, roomId: string, content: JsonObject, previous: JsonObject | undefined): Promise<void> {
  const before = new Set(previous ? safeAliases(previous) : []);
  for (const alias of canonicalAliasesOf(content)) {
    if (before.has(alias)) continue;
    const row = await getAlias(tx, alias);
    if (!row || row.room_id !== roomId) throw new MatrixError(400, 'M_BAD_ALIAS', `The alias ${alias} does not point to this room`);
  }
}

function safeAliases(content: JsonObject): string[] {
  const alt = Array.isArray(content.alt_aliases) ? content.alt_aliases : [];
  return [content.alias, ...alt].filter((a): a is string => typeof a === 'string');
}
