import type { Sql } from '../../db/database.ts';
import { transaction } from '../../db/transaction.ts';
import type { Requester } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { deletePusher, deletePushersOfKeyForOthers, pushersOf, putPusher } from '../storage/pushers.ts';

/** The one path a push gateway answers on (push-gateway-api.md); any other URL is refused. */
export const GATEWAY_PATH = '/_matrix/push/v1/notify';

export interface PusherSettings {
  pushkey: string;
  kind: string | null;
  app_id: string;
  app_display_name?: string | undefined;
  device_display_name?: string | undefined;
  profile_tag?: string | undefined;
  lang?: string | undefined;
  data?: Record<string, unknown> | undefined;
  append?: boolean | undefined;
}

/** The gateway URL of a pusher's data, checked: http(s), the spec's path, no credentials. */
export function gatewayUrl(data: Record<string, unknown> | undefined): URL {
  const raw = data?.url;
  if (typeof raw !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'data.url is required for an http pusher');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'data.url is not a URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== GATEWAY_PATH || url.username || url.password)
    throw new MatrixError(400, 'M_INVALID_PARAM', `data.url must be an http(s) URL whose path is ${GATEWAY_PATH}`);
  return url;
}

/** A user's pushers: set, replaced, deleted with kind null, listed. */
export function createPushers({ sql }: { sql: Sql }) {
  return {
    async list(userId: string) {
      return (await pushersOf(sql, [userId])).map((p) => ({
        pushkey: p.pushkey,
        kind: p.kind,
        app_id: p.app_id,
        app_display_name: p.app_display_name,
        device_display_name: p.device_display_name,
        ...(p.profile_tag !== null ? { profile_tag: p.profile_tag } : {}),
        lang: p.lang,
        data: p.data,
      }));
    },

    async set(who: Requester, s: PusherSettings): Promise<void> {
      if (s.kind === null) {
        await deletePusher(sql, who.userId, s.app_id, s.pushkey);
        return;
      }
      if (s.kind !== 'http') throw new MatrixError(400, 'M_INVALID_PARAM', `Pusher kind ${JSON.stringify(s.kind)} is not supported`);
      gatewayUrl(s.data);
      if (s.app_display_name === undefined || s.device_display_name === undefined || s.lang === undefined || s.data === undefined)
        throw new MatrixError(400, 'M_MISSING_PARAM', 'app_display_name, device_display_name, lang and data are required');
      await transaction(sql, async (tx) => {
        // Without append, the key belongs to this user only: another account's pusher of it goes.
        if (!s.append) await deletePushersOfKeyForOthers(tx, s.app_id, s.pushkey, who.userId);
        await putPusher(tx, {
          user_id: who.userId,
          device_id: who.deviceId,
          app_id: s.app_id,
          pushkey: s.pushkey,
          kind: s.kind!,
          app_display_name: s.app_display_name!,
          device_display_name: s.device_display_name!,
          profile_tag: s.profile_tag ?? null,
          lang: s.lang!,
          data: s.data!,
          created_ts: Date.now(),
        });
      });
    },
  };
}

export type Pushers = ReturnType<typeof createPushers>;
