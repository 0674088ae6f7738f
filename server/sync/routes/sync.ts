import type { Hono, MiddlewareHandler } from 'hono';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import { filterSchema, type Filter } from '../../matrix/index.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { linkedAbort } from '../../http/linked-abort.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { Lru } from '../../cache/index.ts';
import type { createSync } from '../service/sync.ts';
import { parseSyncToken } from '../service/sync-token.ts';

export interface SyncRouteDeps {
  auth: MiddlewareHandler<AppEnv>;
  sync: ReturnType<typeof createSync>;
  getFilter: (userId: string, filterId: string) => Promise<JsonObject>;
  shutdown: AbortSignal;
  /**
   * Presence: a syncing client marks its user online (or idle) unless it asks not to, and keeps
   * them from going offline until it ends; returns what to call when the request ends.
   */
  syncing?: (userId: string, setPresence: SetPresence) => Promise<() => void>;
}

export type SetPresence = 'online' | 'offline' | 'unavailable';
const SET_PRESENCE = new Set<string>(['online', 'offline', 'unavailable']);

/**
 * Parsed filters, by user and filter id or inline JSON. A stored filter never
 * changes (there is no API to change one), so every process may keep its own copy;
 * a client long-polling with the same filter then skips its lookup and validation.
 */
const MAX_CACHED_FILTERS = 5_000;
/** Longer inline filters are parsed each time: a client cannot fill memory with them. */
const MAX_CACHED_INLINE_LENGTH = 1_024;

export function syncRoutes(app: Hono<AppEnv>, { auth, sync, getFilter, shutdown, syncing }: SyncRouteDeps): void {
  const filters = new Lru<string, Filter>(MAX_CACHED_FILTERS);
  async function cachedFilter(raw: string | undefined, userId: string): Promise<Filter> {
    if (raw === undefined || raw === '') return {};
    // Inline JSON means the same whoever sends it; a filter id is the user's own.
    const inline = raw.trimStart().startsWith('{');
    if (inline && raw.length > MAX_CACHED_INLINE_LENGTH) return resolveFilter(raw, inline, userId, getFilter);
    const key = inline ? raw : `${userId}\n${raw}`;
    let filter = filters.get(key);
    if (!filter) {
      filter = await resolveFilter(raw, inline, userId, getFilter);
      filters.set(key, filter);
    }
    return filter;
  }

  app.get('/_matrix/client/v3/sync', auth, async (c) => {
    const who = c.get('requester');
    const since = c.req.query('since');
    const timeoutRaw = c.req.query('timeout') ?? '0';
    if (!/^\d{1,9}$/.test(timeoutRaw)) throw new MatrixError(400, 'M_INVALID_PARAM', 'timeout must be a non-negative integer');
    const fullState = c.req.query('full_state') === 'true';
    const filter = await cachedFilter(c.req.query('filter'), who.userId);
    const setPresence = c.req.query('set_presence') ?? 'online';
    if (!SET_PRESENCE.has(setPresence))
      throw new MatrixError(400, 'M_INVALID_PARAM', 'set_presence must be online, offline or unavailable');
    const syncEnded = await syncing?.(who.userId, setPresence as SetPresence);
    // A client that goes away, or a server shutting down, ends the long-poll.
    const { signal, release } = linkedAbort([c.req.raw.signal, shutdown]);
    try {
      const body = await sync.sync(
        { userId: who.userId, deviceId: who.deviceId },
        { since: since ? parseSyncToken(since) : undefined, timeoutMs: Math.min(Number(timeoutRaw), 300_000), fullState, filter, signal },
      );
      return c.json(body);
    } finally {
      release();
      syncEnded?.();
    }
  });
}

/** The filter a /sync names: inline JSON, or the id of one the user uploaded. */
async function resolveFilter(raw: string, inline: boolean, userId: string, getFilter: SyncRouteDeps['getFilter']): Promise<Filter> {
  let value: unknown;
  if (inline) {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'filter is not valid JSON');
    }
  } else {
    value = await getFilter(userId, raw).catch(() => {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown filter');
    });
  }
  const parsed = filterSchema.safeParse(value);
  if (!parsed.success) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid filter');
  return parsed.data;
}
