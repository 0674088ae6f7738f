import type { Sql } from '../../server/db/database.ts';
import { sleep } from './accounts.ts';

/**
 * Waits until a domain-event consumer has handled every room.event_persisted written so far
 * (its position, an outbox id, is past them), so what it derives from events (unread counts,
 * the search index) is there when read. Bounded: a consumer that is stuck fails the test
 * instead of hanging it.
 */
export async function untilConsumed(sql: Sql, consumer: string, withinMs = 10_000): Promise<void> {
  const [row] = await sql<{ target: number }[]>`
    select coalesce(max(id), 0)::bigint as target from domain_event_outbox where type = 'room.event_persisted'`;
  const deadline = Date.now() + withinMs;
  for (;;) {
    const [c] = await sql<{ position: number }[]>`select position::bigint as position from domain_event_consumers where name = ${consumer}`;
    if (c && Number(c.position) >= Number(row!.target)) return;
    if (Date.now() > deadline) throw new Error(`${consumer} did not reach outbox id ${row!.target}`);
    await sleep(20);
  }
}
