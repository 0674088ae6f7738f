import type { Context } from 'hono';
import { parseWith } from '../../http/body.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { roomEventFilterSchema, type EventSelector } from '../../matrix/index.ts';

/** The appendices cap room and user ids at 255 bytes: a longer one names nothing that can exist. */
const MAX_ID_BYTES = 255;

export function roomIdParam(c: Context, name = 'roomId'): string {
  const id = c.req.param(name) ?? '';
  if (!/^![^\s]+$/.test(id)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room ID');
  if (Buffer.byteLength(id) > MAX_ID_BYTES) throw new MatrixError(400, 'M_INVALID_PARAM', `Room ID is longer than ${MAX_ID_BYTES} bytes`);
  return id;
}

export function userIdValue(value: unknown, field = 'user_id'): string {
  if (typeof value !== 'string' || !/^@[^\s:]+:[^\s]+$/.test(value)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid ${field}`);
  if (Buffer.byteLength(value) > MAX_ID_BYTES)
    throw new MatrixError(400, 'M_INVALID_PARAM', `${field} is longer than ${MAX_ID_BYTES} bytes`);
  return value;
}

/** An integer query parameter within bounds, or its default. */
export function intQuery(c: Context, name: string, dflt: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d{1,9}$/.test(raw)) throw new MatrixError(400, 'M_INVALID_PARAM', `${name} must be a non-negative integer`);
  return Math.min(Number(raw), max);
}

/** The `filter` query parameter of /messages and /context: a RoomEventFilter as JSON. */
export function filterQuery(c: Context): EventSelector | undefined {
  const raw = c.req.query('filter');
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'filter is not valid JSON');
  }
  try {
    return parseWith(roomEventFilterSchema, parsed);
  } catch {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'filter is not a valid RoomEventFilter');
  }
}
