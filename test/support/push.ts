import type { Sql } from '../../server/db/database.ts';
import { sleep } from './accounts.ts';

/**
 * Waits until the push consumer has judged every event persisted so far (its position, an outbox
 * id, is a stream position past them), so unread counts read afterwards include them. Bounded: a
 * consumer that is stuck fails the test instead of hanging it.
 */
export async function untilPushEvaluated(sql: Sql, withinMs = 10_000): Promise<void> {
  const [row] = await sql<{ target: number }[]>`
    select coalesce(max(id), 0)::bigint as target from domain_event_outbox where type = 'room.event_persisted'`;
  const deadline = Date.now() + withinMs;
  for (;;) {
    const [c] = await sql<
      { position: number }[]
    >`select position::bigint as position from domain_event_consumers where name = 'push.evaluate_event'`;
    if (c && Number(c.position) >= Number(row!.target)) return;
    if (Date.now() > deadline) throw new Error(`push evaluation did not reach outbox id ${row!.target}`);
    await sleep(20);
  }
}
