import type { Hono, MiddlewareHandler } from 'hono';

import { batchedOn, direct, type KeyedReads } from '../db/batch.ts';
import type { Sql, Tx } from '../db/database.ts';
import type { SubscribeDomainEvents } from '../domain-events/index.ts';
import type { AppEnv, Requester } from '../http/hono-env.ts';
import type { Notifier } from '../notifier/index.ts';
import { keyRoutes } from './routes/keys.ts';
import { toDeviceRoutes } from './routes/to-device.ts';
import { createDeviceKeys } from './service/device-keys.ts';
import { createDeviceLists, type DeviceListChanges, type SharedRooms } from './service/device-lists.ts';
import { devicesConsumer } from './service/devices-consumer.ts';
import { createKeySignatures } from './service/key-signatures.ts';
import { createToDevice, type ToDeviceBatch } from './service/to-device.ts';
import { keyCountsOf, type KeyCounts } from './storage/device-keys.ts';

export type { DeviceListChanges, ToDeviceBatch, KeyCounts };

export interface E2eeDeps {
  sql: Sql;
  serverName: string;
  notifier: Notifier;
  auth: MiddlewareHandler<AppEnv>;
  rooms: SharedRooms;
  subscribe: SubscribeDomainEvents;
  /** Accounts' re-authentication, for replacing cross-signing keys. */
  confirm: (who: Requester, purpose: string, auth: unknown, path: string) => Promise<void>;
  /** A /sync token's stream position (keys/changes is given two). */
  streamPosOf: (token: string) => number;
  onRemoteRecipients?: (userIds: string[]) => void;
}

/** What /sync reads of end-to-end encryption for one device. */
export interface E2eeSyncReads {
  /** To-device messages after `acked` up to `upTo`, once those at or below `acked` are dropped. */
  toDeviceFor(tx: Tx, userId: string, deviceId: string, acked: number | undefined, upTo: number): Promise<ToDeviceBatch>;
  /** Users whose devices changed (or who came to share a room) and who stopped sharing any, in (since, upTo]. */
  deviceListsSince(tx: Tx, userId: string, since: number, upTo: number): Promise<DeviceListChanges>;
  /** One-time keys left and unused fallback key types of the device. */
  keyCountsFor(tx: Tx, userId: string, deviceId: string): Promise<KeyCounts>;
}

/** End-to-end encryption: device and cross-signing keys, signatures, to-device messages, device lists. */
export function createE2ee(deps: E2eeDeps) {
  const { sql, serverName, notifier, auth, rooms, subscribe, confirm, streamPosOf } = deps;
  const deviceLists = createDeviceLists({ sql, notifier, rooms });
  const signatures = createKeySignatures({ sql, deviceLists, confirm });
  const deviceKeys = createDeviceKeys({ sql, serverName, deviceLists, signatures });
  const toDevice = createToDevice({ sql, serverName, notifier, ...(deps.onRemoteRecipients ? { onRemote: deps.onRemoteRecipients } : {}) });
  subscribe(devicesConsumer({ sql, deviceLists }));

  function readsOver(k: KeyedReads): E2eeSyncReads {
    const counts = k.one((d: { userId: string; deviceId: string }) => `${d.userId}\n${d.deviceId}`, keyCountsOf);
    return {
      toDeviceFor: toDevice.toDeviceOver(k),
      deviceListsSince: deviceLists.changesOver(k),
      keyCountsFor: (tx, userId, deviceId) => counts(tx, { userId, deviceId }),
    };
  }
  const directReads = readsOver(direct);

  return {
    /** Housekeeping: to-device transaction ids older than this are forgotten. */
    pruneTransactionIds: (keptMs: number) => toDevice.pruneTransactionIds(keptMs),
    syncReads: directReads,
    /** The same reads, those of one tick (the passes one change woke) as one query per kind. */
    batched: (): E2eeSyncReads => readsOver(batchedOn(sql)),
    mount(app: Hono<AppEnv>): void {
      keyRoutes(app, {
        auth,
        deviceKeys,
        signatures,

        streamPosOf,
        changesBetween: (userId, from, to) => directReads.deviceListsSince(sql, userId, from, to),
      });
      toDeviceRoutes(app, { auth, toDevice });
    },
  };
}

export type E2ee = ReturnType<typeof createE2ee>;
