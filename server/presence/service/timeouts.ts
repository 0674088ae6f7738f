/**
 * The presence timers (homeserver.yaml `presence`), Synapse's rules and defaults:
 * - online with no activity for `idleTimeoutMs` (5 min): unavailable;
 * - no /sync in flight and none for `syncOnlineTimeoutMs` (30 s) after the last one ended, nor
 *   any activity in that time: offline;
 * - `currently_active` for `lastActiveGranularityMs` (60 s) after the last activity.
 * Activity: a message sent, a presence set, a /sync with set_presence=online.
 */
export interface PresenceTimeouts {
  idleTimeoutMs: number;
  syncOnlineTimeoutMs: number;
  lastActiveGranularityMs: number;
  /** How often each process looks for users whose timers ran out. */
  sweepIntervalMs: number;
  /** How often each process records the /syncs it has in flight and the activity it saw. */
  syncHeartbeatIntervalMs: number;
}

/**
 * Syncs and activity reach the database with the next heartbeat, up to one interval late: the
 * sweeper allows for that before timing anyone out, so what one process has seen but not yet
 * recorded never makes another process time the user out.
 */
export const recordingLagMs = (t: PresenceTimeouts): number => t.syncHeartbeatIntervalMs;

/**
 * How long a heartbeat's "still syncing" lasts. Renewed when less than two intervals are left,
 * so it outlives a late heartbeat; no shorter than the sync timeout, so that it is renewed
 * rarely, and no longer, so that a process that dies with syncs in flight lets its users time
 * out about as soon as if their syncs had ended.
 */
export const syncLeaseMs = (t: PresenceTimeouts): number => Math.max(t.syncOnlineTimeoutMs, 3 * t.syncHeartbeatIntervalMs);
