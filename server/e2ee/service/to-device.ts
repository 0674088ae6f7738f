import { domainOf } from '../../../federation/auth/index.ts';
import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { KeyedReads } from '../../db/batch.ts';
import type { Sql, Tx } from '../../db/database.ts';
import { nextStreamPosition } from '../../db/stream.ts';
import { transaction } from '../../db/transaction.ts';
import type { Requester } from '../../http/hono-env.ts';
import type { Notifier } from '../../notifier/index.ts';
import { pruneInBatches } from '../../db/prune.ts';
import {
  claimToDeviceTxn,
  deleteAckedToDevice,
  devicesOfUsers,
  pendingToDevice,
  queueToDevice,
  type ToDeviceRow,
  pruneToDeviceTxns,
} from '../storage/to-device.ts';

export interface ToDeviceDeps {
  sql: Sql;
  serverName: string;
  notifier: Notifier;
  onRemote?: (userIds: string[]) => void;
}

/** How many to-device messages one /sync carries; the rest follow in the next (Synapse's figure). */
export const TO_DEVICE_PER_SYNC = 100;

export interface ToDeviceBatch {
  events: JsonObject[];
  /** Set when more are waiting: the position of the last one carried, to resume after. */
  resumeAfter?: number;
}

/** Messages from one device to others (room keys, verification), queued until each recipient device acknowledges them. */
export function createToDevice({ sql, serverName, notifier, onRemote }: ToDeviceDeps) {
  return {
    /** Housekeeping: forgets transaction ids older than `keptMs` (a batch at a time); how many went. */
    pruneTransactionIds: (keptMs: number): Promise<number> => pruneInBatches((limit) => pruneToDeviceTxns(sql, keptMs, limit)),
    /**
     * sendToDevice: each recipient device gets its message once per transaction id of the
     * sending device, however often the client retries. "*" means every device of the user.
     */
    async send(who: Requester, type: string, txnId: string, messages: Record<string, Record<string, JsonObject>>): Promise<void> {
      const local = Object.keys(messages).filter((u) => domainOf(u) === serverName);
      const remote = Object.keys(messages).filter((u) => !local.includes(u));
      // Other servers' users wait for federation; say so rather than drop them silently.
      if (remote.length > 0) onRemote?.(remote);
      const pos = await transaction(sql, async (tx) => {
        if (!(await claimToDeviceTxn(tx, who.userId, who.deviceId, txnId))) return undefined;
        const everyDevice = local.filter((u) => Object.hasOwn(messages[u]!, '*'));
        const all = await devicesOfUsers(tx, everyDevice);
        const rows = new Map<string, ToDeviceRow>();
        const add = (userId: string, deviceId: string, content: JsonObject) =>
          rows.set(`${userId}\n${deviceId}`, {
            user_id: userId,
            device_id: deviceId,
            sender: who.userId,
            type,
            content: JSON.stringify(content),
          });
        for (const userId of local) {
          const byDevice = messages[userId]!;
          // "*" first, so a message addressed to a device by name wins over the one for all.
          if (Object.hasOwn(byDevice, '*'))
            for (const d of all.filter((d) => d.user_id === userId)) add(userId, d.device_id, byDevice['*']!);
          for (const [deviceId, content] of Object.entries(byDevice)) if (deviceId !== '*') add(userId, deviceId, content);
        }
        if (rows.size === 0) return undefined;
        const p = await nextStreamPosition(tx);
        await queueToDevice(tx, p, [...rows.values()]);
        return p;
      });
      if (pos !== undefined) notifier.notify({ pos, userIds: local });
    },

    /**
     * For /sync: first drops what the device acknowledged (everything at or below `acked`, the
     * position its since token says it has), then reads what is waiting up to `upTo`.
     */
    toDeviceOver(k: KeyedReads) {
      type Window = { userId: string; deviceId: string; acked: number; upTo: number; limit: number };
      const key = (w: Window) => `${w.userId}\n${w.deviceId}\n${w.acked}\n${w.upTo}`;
      const ack = k.one(key, async (tx, ws: Window[]) => {
        await deleteAckedToDevice(tx, ws);
        return ws.map(() => undefined);
      });
      const pending = k.one(key, pendingToDevice);
      return async (tx: Tx, userId: string, deviceId: string, acked: number | undefined, upTo: number): Promise<ToDeviceBatch> => {
        const w = { userId, deviceId, acked: acked ?? 0, upTo, limit: TO_DEVICE_PER_SYNC };
        if (acked !== undefined) await ack(tx, w);
        const rows = await pending(tx, w);
        const carried = rows.slice(0, TO_DEVICE_PER_SYNC);
        const events = carried.map(
          (r) => ({ sender: r.sender, type: r.type, content: JSON.parse(r.content) as JsonObject }) as unknown as JsonObject,
        );
        return rows.length > TO_DEVICE_PER_SYNC ? { events, resumeAfter: carried.at(-1)!.stream_pos } : { events };
      };
    },
  };
}

export type ToDevice = ReturnType<typeof createToDevice>;
