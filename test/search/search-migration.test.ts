import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/database.ts';
import { migrateDown, readMigrations } from '../../server/db/migrate.ts';
import { MIGRATIONS_DIR } from '../../server/main.ts';
import { untilConsumed } from '../support/consumers.ts';
import { CS, createRoom, ok, sendEvent, sendText } from '../support/rooms.ts';
import { withHomeserver } from '../support/with-homeserver.ts';

/**
 * Messages sent before the search index existed are searchable after the upgrade: the migration
 * indexes them (a body that is not a string is left out, not a failure), and the indexer goes
 * on from there without indexing anything twice.
 */

const {
  hs,
  users: [alice],
} = withHomeserver({ users: ['sm_alice'] });

const SEARCH_MIGRATION = 13;
const log = pino({ level: 'silent' });

async function search(term: string) {
  await untilConsumed(hs.hs.db.sql, 'search.index_event');
  const body = ok(
    await alice.client.post(`${CS}/search`, { search_categories: { room_events: { search_term: term, order_by: 'recent' } } }),
  );
  return (body.search_categories.room_events.results as Array<{ result: { content: { body: string } } }>).map((r) => r.result.content.body);
}

describe('the search index migration', () => {
  it('indexes what was sent before it, and the indexer carries on after', async () => {
    const room = await createRoom(alice, { preset: 'private_chat', name: 'Archive' });
    await sendText(alice, room, 'a walrus from the old days');
    await sendEvent(alice, room, 'm.room.message', { msgtype: 'm.text', body: 42 });

    const migrations = readMigrations(MIGRATIONS_DIR);
    await hs.restart(async () => {
      const { database } = hs.config;
      const db = await openDatabase({ url: database.url, maxConnections: 1, dataDir: hs.config.data_dir, log });
      try {
        const newer = migrations.filter((m) => m.version >= SEARCH_MIGRATION).length;
        await migrateDown(db.sql, migrations, newer, log);
        const [t] = await db.sql<{ exists: boolean }[]>`select to_regclass('event_search') is not null as exists`;
        expect(t!.exists).toBe(false);
      } finally {
        await db.close();
      }
    });

    expect(await search('walrus')).toEqual(['a walrus from the old days']);
    await sendText(alice, room, 'a walrus from the new days');
    expect(await search('walrus')).toEqual(['a walrus from the new days', 'a walrus from the old days']);
    const [row] = await hs.hs.db.sql<{ n: number }[]>`select count(*)::int as n from event_search where room_id = ${room}`;
    // The room's name and the two walruses; not the body that is a number.
    expect(row!.n).toBe(3);
  });
});
