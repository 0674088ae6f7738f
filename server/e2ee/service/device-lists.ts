import type { KeyedReads } from '../../db/batch.ts';
import type { Sql, Tx } from '../../db/database.ts';
import { nextStreamPosition } from '../../db/stream.ts';
import type { Notifier } from '../../notifier/index.ts';
import { deviceListChangesEach, recordDeviceListChange, recordSignatureChange, signatureChangesEach } from '../storage/device-lists.ts';

/** What the keys component asks of rooms: who shares a joined room with whom, and since when. */
export interface SharedRooms {
  /** Users joined to a room the user is joined to (of `among`, when given). */
  usersSharingRoomWith: (tx: Tx, userId: string, among?: readonly string[]) => Promise<string[]>;
  /** For each (user, since), the users who came to share a joined room with the user after `since`. */
  usersNewlySharingRoomWithEach: (tx: Tx, keys: readonly { userId: string; since: number }[]) => Promise<string[][]>;
  /** For each (user, since), the users who shared a room with the user at `since` and share none now. */
  usersNoLongerSharingRoomWithEach: (tx: Tx, keys: readonly { userId: string; since: number }[]) => Promise<string[][]>;
}

export interface DeviceListChanges {
  changed: string[];
  left: string[];
}

export interface DeviceListsDeps {
  sql: Sql;
  notifier: Notifier;
  rooms: SharedRooms;
}

/**
 * Device lists: a change to a user's devices or keys takes a stream position; /sync and
 * keys/changes tell everyone sharing a room with them (and their own other devices), so
 * their clients query the new keys before encrypting again.
 */
export function createDeviceLists({ sql, notifier, rooms }: DeviceListsDeps) {
  /** Records the change in `tx` and returns what to wake once it commits. */
  async function record(tx: Tx, userIds: readonly string[]): Promise<number> {
    const pos = await nextStreamPosition(tx);
    await recordDeviceListChange(tx, userIds, pos);
    return pos;
  }

  /**
   * Records, in `tx`, that `signer` signed other users' keys: a change only the signer's devices
   * hear of (the signature is shown to them alone). Returns the position to wake the signer at.
   */
  async function recordSigned(tx: Tx, signer: string, targets: readonly string[]): Promise<number> {
    const pos = await nextStreamPosition(tx);
    await recordSignatureChange(tx, signer, targets, pos);
    return pos;
  }

  /** Wakes the signer's devices once what recordSigned recorded commits. */
  function announceSigned(signer: string, pos: number): void {
    notifier.notify({ pos, userIds: [signer] });
  }

  /** Wakes the users concerned by a committed change: them, and everyone sharing a room with them. */
  async function announce(userIds: readonly string[], pos: number): Promise<void> {
    const audience = new Set(userIds);
    for (const u of userIds) for (const other of await rooms.usersSharingRoomWith(sql, u)) audience.add(other);
    notifier.notify({ pos, userIds: [...audience] });
  }

  function changesOver(k: KeyedReads) {
    // The passes one change woke ask about the same window: it is read once.
    const changedIn = k.one((w: { since: number; upTo: number }) => `${w.since}\n${w.upTo}`, deviceListChangesEach);
    const byUserSince = (n: { userId: string; since: number }) => `${n.userId}\n${n.since}`;
    const newlySharing = k.one(byUserSince, rooms.usersNewlySharingRoomWithEach);
    const noLongerSharing = k.one(byUserSince, rooms.usersNoLongerSharingRoomWithEach);
    const signedByMe = k.one(
      (n: { userId: string; since: number; upTo: number }) => `${n.userId}\n${n.since}\n${n.upTo}`,
      signatureChangesEach,
    );
    return async (tx: Tx, userId: string, since: number, upTo: number): Promise<DeviceListChanges> => {
      const window = await changedIn(tx, { since, upTo });
      const others = window.filter((u) => u !== userId);
      const [sharing, newcomers, gone, signed] = await Promise.all([
        others.length > 0 ? rooms.usersSharingRoomWith(tx, userId, others) : Promise.resolve([]),
        newlySharing(tx, { userId, since }),
        noLongerSharing(tx, { userId, since }),
        signedByMe(tx, { userId, since, upTo }),
      ]);
      const changed = new Set([...(window.includes(userId) ? [userId] : []), ...sharing, ...newcomers, ...signed]);
      return { changed: [...changed].sort(), left: gone.filter((u) => !changed.has(u)).sort() };
    };
  }

  return { record, recordSigned, announce, announceSigned, changesOver };
}

export type DeviceLists = ReturnType<typeof createDeviceLists>;
