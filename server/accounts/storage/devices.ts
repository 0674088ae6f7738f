import type { Tx } from '../../db/database.ts';

export interface DeviceRow {
  device_id: string;
  display_name: string | null;
  last_seen_ip: string | null;
  last_seen_ts: number | null;
}

/**
 * Create the device, or keep it (and its name) when a client logs in again with its id:
 * the spec ignores initial_device_display_name for a known device.
 */
export async function upsertDevice(tx: Tx, userId: string, deviceId: string, displayName: string | null): Promise<void> {
  await tx`
    insert into devices (user_id, device_id, display_name)
    values (${userId}, ${deviceId}, ${displayName})
    on conflict (user_id, device_id) do nothing`;
}

export async function listDevices(tx: Tx, userId: string): Promise<DeviceRow[]> {
  return tx<DeviceRow[]>`
    select device_id, display_name, last_seen_ip, last_seen_ts
    from devices where user_id = ${userId} order by created_at, device_id`;
}

export async function getDevice(tx: Tx, userId: string, deviceId: string): Promise<DeviceRow | undefined> {
  const [row] = await tx<DeviceRow[]>`
    select device_id, display_name, last_seen_ip, last_seen_ts
    from devices where user_id = ${userId} and device_id = ${deviceId}`;
  return row;
}

export async function renameDevice(tx: Tx, userId: string, deviceId: string, displayName: string): Promise<boolean> {
  const rows = await tx`update devices set display_name = ${displayName}
    where user_id = ${userId} and device_id = ${deviceId} returning device_id`;
  return rows.length === 1;
}

/** Deleting a device cascades to its access and refresh tokens. */
export async function deleteDevices(tx: Tx, userId: string, deviceIds: readonly string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  await tx`delete from devices where user_id = ${userId} and device_id in ${tx(deviceIds as string[])}`;
}

export async function deleteAllDevices(tx: Tx, userId: string, exceptDeviceId?: string): Promise<void> {
  if (exceptDeviceId === undefined) await tx`delete from devices where user_id = ${userId}`;
  else await tx`delete from devices where user_id = ${userId} and device_id <> ${exceptDeviceId}`;
}

export async function touchDevice(
  tx: Tx,
  userId: string,
  deviceId: string,
  ip: string | null,
  userAgent: string | null,
  ts: number,
): Promise<void> {
  await tx`update devices set last_seen_ip = ${ip}, last_seen_user_agent = ${userAgent}, last_seen_ts = ${ts}
    where user_id = ${userId} and device_id = ${deviceId}`;
}
