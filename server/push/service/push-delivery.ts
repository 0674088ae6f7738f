import type { Logger } from 'pino';
import type { Sql } from '../../db/database.ts';
import { linkedAbort } from '../../http/linked-abort.ts';
import { transaction } from '../../db/transaction.ts';
import type { EventAudience } from '../../rooms/index.ts';
import {
  claimDueDeliveries,
  deferDelivery,
  deleteDelivery,
  deletePusher,
  nextDueTs,
  pushersOf,
  type DeliveryRow,
} from '../storage/pushers.ts';
import { gatewayUrl } from './pushers.ts';

export interface PushDeliveryDeps {
  sql: Sql;
  log: Logger;
  eventAudience: (eventId: string) => Promise<EventAudience | undefined>;
  /** The user's unread notification count (the badge a gateway shows). */
  unreadCount: (userId: string) => Promise<number>;
  /** Bounds, for tests; the defaults are the production ones. */
  timing?: { firstRetryMs?: number; maxRetryMs?: number; requestTimeoutMs?: number; idleWakeMs?: number };
}

const CLAIM_BATCH = 20;
/** A claimed delivery not settled by then (its process died) is claimed again. */
const LEASE_MS = 60_000;

/**
 * Sends queued notifications to the pushers' gateways: each until the gateway takes it (200),
 * retried with exponential backoff while it does not, in order per pusher, across restarts. A
 * pushkey the gateway rejects removes its pusher. Runs beside the send path, never in it.
 */
export function createPushDelivery({ sql, log, eventAudience, unreadCount, timing = {} }: PushDeliveryDeps) {
  const firstRetryMs = timing.firstRetryMs ?? 1_000;
  const maxRetryMs = timing.maxRetryMs ?? 3_600_000;
  const requestTimeoutMs = timing.requestTimeoutMs ?? 10_000;
  const idleWakeMs = timing.idleWakeMs ?? 30_000;
  let stopped = false;
  let wake: (() => void) | undefined;
  let woken = false;
  let loop: Promise<void> | undefined;
  const abort = new AbortController();

  async function send(d: DeliveryRow): Promise<void> {
    const [pusher] = (await pushersOf(sql, [d.user_id])).filter((p) => p.app_id === d.app_id && p.pushkey === d.pushkey);
    if (!pusher) return; // gone (the cascade took the row too, unless it raced).
    const audience = await eventAudience(d.event_id);
    const { url: _url, format, ...deviceData } = pusher.data;
    const eventIdOnly = format === 'event_id_only';
    const event = audience?.event;
    const notification = {
      event_id: d.event_id,
      room_id: d.room_id,
      ...(!eventIdOnly && event
        ? {
            type: event.type,
            sender: event.sender,
            ...(event.type === 'm.room.member' ? { user_is_target: event.state_key === d.user_id } : {}),
            content: event.content,
          }
        : {}),
      prio: 'high',
      counts: { unread: await unreadCount(d.user_id) },
      devices: [{ app_id: pusher.app_id, pushkey: pusher.pushkey, pushkey_ts: Math.floor(pusher.created_ts / 1000), data: deviceData }],
    };
    // Linked by listeners removed afterwards: AbortSignal.any keeps every composed signal for as
    // long as the process-long one lives.
    const { signal, release } = linkedAbort([abort.signal, AbortSignal.timeout(requestTimeoutMs)]);
    let res: Response;
    let body: { rejected?: unknown };
    try {
      res = await fetch(gatewayUrl(pusher.data), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ notification }),
        signal,
      });
      body = (await res.json().catch(() => ({}))) as { rejected?: unknown };
    } finally {
      release();
    }
    if (!res.ok) throw new Error(`gateway answered ${res.status}`);
    if (Array.isArray(body.rejected) && body.rejected.includes(pusher.pushkey)) {
      log.info({ userId: d.user_id, appId: d.app_id }, 'push gateway rejected a pushkey; its pusher is removed');
      await deletePusher(sql, d.user_id, d.app_id, d.pushkey);
    }
  }

  async function settle(d: DeliveryRow): Promise<void> {
    try {
      await send(d);
      await deleteDelivery(sql, d.id);
    } catch (err) {
      const delay = Math.min(maxRetryMs, firstRetryMs * 2 ** Math.min(d.attempts, 30));
      log.warn({ err, userId: d.user_id, appId: d.app_id, attempts: d.attempts + 1, retryInMs: delay }, 'push delivery failed; will retry');
      await deferDelivery(sql, d.id, Date.now() + delay, String((err as Error)?.message ?? err)).catch(() => undefined);
    }
  }

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        const now = Date.now();
        const claimed = await transaction(sql, (tx) => claimDueDeliveries(tx, now, now + LEASE_MS, CLAIM_BATCH));
        if (claimed.length > 0) {
          await Promise.all(claimed.map(settle));
          continue;
        }
        const due = await nextDueTs(sql);
        await sleep(due === undefined ? idleWakeMs : Math.max(10, Math.min(idleWakeMs, due - Date.now())));
      } catch (err) {
        if (stopped) return;
        log.error({ err }, 'push delivery loop failed; retrying');
        await sleep(firstRetryMs);
      }
    }
  }

  function sleep(ms: number): Promise<void> {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  return {
    start(): void {
      loop = run();
    },
    /** Something was queued: look now rather than at the next timer. */
    poke(): void {
      if (wake) wake();
      else woken = true;
    },
    async stop(): Promise<void> {
      stopped = true;
      abort.abort();
      wake?.();
      await loop;
    },
  };
}

export type PushDelivery = ReturnType<typeof createPushDelivery>;
