import { transaction } from '../../db/transaction.ts';
import type { Config } from '../../config/load.ts';
import type { Sql, Tx } from '../../db/database.ts';
import type { PublishDomainEvent } from '../../domain-events/index.ts';
import type { Requester } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { deleteAllDevices, deleteDevices, getDevice, listDevices, renameDevice, type DeviceRow } from '../storage/devices.ts';
import { deleteUiaSession } from '../storage/uia.ts';
import { setDeactivated, setPasswordHash } from '../storage/users.ts';
import { hashPassword } from './secrets.ts';
import { PASSWORD, passwordStage } from './stages.ts';
import { requireUia } from './uia.ts';

export interface AccountSecurityDeps {
  sql: Sql;
  config: Config;
  checkPassword: (password: string) => void;
  /** account.deactivated goes out with the deactivation; rooms leaves every room on hearing it. */
  publish: PublishDomainEvent;
}

export interface DeviceView {
  device_id: string;
  display_name?: string;
  last_seen_ip?: string;
  last_seen_ts?: number;
}

function view(d: DeviceRow): DeviceView {
  return {
    device_id: d.device_id,
    ...(d.display_name !== null ? { display_name: d.display_name } : {}),
    ...(d.last_seen_ip !== null ? { last_seen_ip: d.last_seen_ip } : {}),
    ...(d.last_seen_ts !== null ? { last_seen_ts: d.last_seen_ts } : {}),
  };
}

/** Devices, logout, password change and deactivation: everything that ends sessions. */
export function createAccountSecurity({ sql, config, checkPassword, publish }: AccountSecurityDeps) {
  const password = passwordStage(config.server_name);

  function reauth(who: Requester, purpose: string, auth: unknown, path: string) {
    return requireUia(sql, {
      purpose,
      userId: who.userId,
      auth,
      flows: [[PASSWORD]],
      stages: { [PASSWORD]: password },
      request: { method: 'POST', path },
    });
  }

  // The keys component tells those who track the user's devices (end-to-end encryption).
  const devicesChanged = (tx: Tx, userId: string) => publish(tx, { type: 'account.devices_changed', payload: { userId } });

  return {
    async listDevices(userId: string): Promise<DeviceView[]> {
      return (await listDevices(sql, userId)).map(view);
    },

    async getDevice(userId: string, deviceId: string): Promise<DeviceView> {
      const d = await getDevice(sql, userId, deviceId);
      if (!d) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown device');
      return view(d);
    },

    async renameDevice(userId: string, deviceId: string, displayName: string): Promise<void> {
      await transaction(sql, async (tx) => {
        if (!(await renameDevice(tx, userId, deviceId, displayName))) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown device');
        await devicesChanged(tx, userId);
      });
    },

    async deleteDevices(who: Requester, deviceIds: string[], auth: unknown, path: string): Promise<void> {
      const uia = await reauth(who, 'delete_devices', auth, path);
      await transaction(sql, async (tx) => {
        await deleteDevices(tx, who.userId, deviceIds);
        await devicesChanged(tx, who.userId);
        await deleteUiaSession(tx, uia.sessionId);
      });
    },

    /** Logout ends the device, not just the token: the spec deletes the device with it. */
    async logout(who: Requester): Promise<void> {
      await transaction(sql, async (tx) => {
        await deleteDevices(tx, who.userId, [who.deviceId]);
        await devicesChanged(tx, who.userId);
      });
    },

    async logoutAll(who: Requester): Promise<void> {
      await transaction(sql, async (tx) => {
        await deleteAllDevices(tx, who.userId);
        await devicesChanged(tx, who.userId);
      });
    },

    /**
     * User-interactive authentication for an operation another component performs (uploading
     * cross-signing keys): completes or challenges, and spends the session once completed.
     */
    async confirm(who: Requester, purpose: string, auth: unknown, path: string): Promise<void> {
      const uia = await reauth(who, purpose, auth, path);
      await deleteUiaSession(sql, uia.sessionId);
    },

    async changePassword(who: Requester, newPassword: string, logoutDevices: boolean, auth: unknown, path: string): Promise<void> {
      checkPassword(newPassword);
      const uia = await reauth(who, 'password', auth, path);
      const hash = await hashPassword(newPassword);
      await transaction(sql, async (tx) => {
        await setPasswordHash(tx, who.userId, hash);
        if (logoutDevices) {
          await deleteAllDevices(tx, who.userId, who.deviceId);
          await devicesChanged(tx, who.userId);
        }
        await deleteUiaSession(tx, uia.sessionId);
      });
    },

    /**
     * What the user must see at once (no login, no sessions, no profile) commits here;
     * leaving their rooms follows from account.deactivated, after the response, as
     * Synapse parts a deactivated user in the background: a room that refuses the
     * leave is retried and reported instead of failing or silently skipping.
     */
    async deactivate(who: Requester, auth: unknown, path: string): Promise<void> {
      const uia = await reauth(who, 'deactivate', auth, path);
      await transaction(sql, async (tx) => {
        await setDeactivated(tx, who.userId);
        await deleteAllDevices(tx, who.userId);
        await devicesChanged(tx, who.userId);
        await deleteUiaSession(tx, uia.sessionId);
        await publish(tx, { type: 'account.deactivated', payload: { userId: who.userId } });
      });
    },
  };
}

export type AccountSecurity = ReturnType<typeof createAccountSecurity>;
