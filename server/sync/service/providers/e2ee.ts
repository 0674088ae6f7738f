import type { JsonObject } from '../../../../federation/events/pdu.ts';
import type { ToDeviceBatch } from '../../../e2ee/index.ts';
import type { SyncPass } from './pass.ts';

export interface E2eeSection {
  toDevice: JsonObject[];
  /** Set when more to-device messages wait than one response carries: where the next resumes. */
  toDeviceResumeAfter?: number;
  deviceLists: { changed: string[]; left: string[] };
  /** Absent for a requester without a device (nothing to count). */
  oneTimeKeyCounts?: Record<string, number>;
  unusedFallbackKeyTypes?: string[];
}

/**
 * The device's end-to-end encryption streams: to-device messages (acknowledged by the since
 * token), device-list changes of the users it shares rooms with (incremental syncs only, as an
 * initial sync's client queries everyone's keys anyway), and its key counts.
 */
export async function e2eeProvider(pass: SyncPass): Promise<E2eeSection> {
  const { userId, deviceId } = pass.viewer;
  const none: ToDeviceBatch = { events: [] };
  const [toDevice, deviceLists, counts] = await Promise.all([
    deviceId !== undefined ? pass.src.toDeviceFor(pass.sql, userId, deviceId, pass.toDeviceAcked, pass.upTo.pos) : none,
    pass.since ? pass.src.deviceListsSince(pass.sql, userId, pass.sincePos, pass.upTo.pos) : { changed: [], left: [] },
    deviceId !== undefined ? pass.src.keyCountsFor(pass.sql, userId, deviceId) : undefined,
  ]);
  return {
    toDevice: toDevice.events,
    ...(toDevice.resumeAfter !== undefined ? { toDeviceResumeAfter: toDevice.resumeAfter } : {}),
    deviceLists,
    // Clients read a missing signed_curve25519 as "unknown", not "none left": say 0.
    ...(counts
      ? { oneTimeKeyCounts: { signed_curve25519: 0, ...counts.oneTimeKeys }, unusedFallbackKeyTypes: counts.unusedFallbackTypes }
      : {}),
  };
}
