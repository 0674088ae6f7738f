import type { Consumer } from '../../domain-events/index.ts';
import type { Sql } from '../../db/database.ts';
import { transaction } from '../../db/transaction.ts';
import type { DeviceLists } from './device-lists.ts';

/**
 * A device deleted (its keys and queued messages went with it) or renamed: everyone tracking
 * the user's devices hears of it in device_lists, so no one encrypts for a device that is gone.
 */
export function devicesConsumer({ sql, deviceLists }: { sql: Sql; deviceLists: DeviceLists }): Consumer<'account.devices_changed'> {
  return {
    name: 'e2ee.device_list_on_device_change',
    types: ['account.devices_changed'],
    async handle({ payload: { userId } }) {
      const pos = await transaction(sql, (tx) => deviceLists.record(tx, [userId]));
      await deviceLists.announce([userId], pos);
    },
  };
}
