import type { TestUser } from './client.ts';
import { syncOk } from './rooms.ts';

type SyncBody = Record<string, any>;
type Params = Record<string, string | number | boolean | object | undefined>;

/**
 * Long-polls /sync from `since` until `pick` finds something in a response, for
 * at most `withinMs` (a bound so a broken server fails the test instead of
 * hanging it, not a timing assertion). Responses that carry other changes
 * (another user's presence, say) are skipped. Syncs with set_presence=offline
 * unless told otherwise, so waiting does not itself change presence.
 */
export async function syncUntil<T>(
  user: TestUser,
  since: string,
  pick: (body: SyncBody) => T | undefined,
  opts: { withinMs?: number; params?: Params } = {},
): Promise<{ value: T; body: SyncBody }> {
  const deadline = Date.now() + (opts.withinMs ?? 15_000);
  let from = since;
  for (;;) {
    const body = await syncOk(user, { since: from, timeout: 1000, set_presence: 'offline', ...opts.params });
    const value = pick(body);
    if (value !== undefined) return { value, body };
    from = body.next_batch as string;
    if (Date.now() > deadline) throw new Error(`syncUntil: nothing found for ${user.userId} since ${since}`);
  }
}

/** A sync's next_batch without side effects on presence. */
export async function syncToken(user: TestUser, params: Params = {}): Promise<string> {
  return (await syncOk(user, { set_presence: 'offline', ...params })).next_batch as string;
}

/** The room's events of a type in a section (`ephemeral`, `account_data`, `timeline`, `state`) of a joined room. */
export function roomEvents(body: SyncBody, roomId: string, section: string, type?: string): Array<Record<string, any>> {
  const events = (body.rooms?.join?.[roomId]?.[section]?.events ?? []) as Array<Record<string, any>>;
  return type === undefined ? events : events.filter((e) => e.type === type);
}

/** Global account data of a type in a sync response. */
export function accountData(body: SyncBody, type: string): Record<string, any> | undefined {
  return (body.account_data?.events as Array<Record<string, any>> | undefined)?.find((e) => e.type === type);
}

/** m.presence events of a user in a sync response. */
export function presenceOf(body: SyncBody, userId: string): Array<Record<string, any>> {
  return ((body.presence?.events ?? []) as Array<Record<string, any>>).filter((e) => e.type === 'm.presence' && e.sender === userId);
}
