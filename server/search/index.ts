import type { Hono, MiddlewareHandler } from 'hono';
import type { Sql } from '../db/database.ts';
import type { SubscribeDomainEvents } from '../domain-events/index.ts';
import type { AppEnv } from '../http/hono-env.ts';
import { searchRoutes } from './routes/search.ts';
import { searchIndexer, type IndexerDeps } from './service/indexer.ts';
import { createSearch, type SearchDeps } from './service/search.ts';

export interface SearchComponentDeps extends SearchDeps {
  auth: MiddlewareHandler<AppEnv>;
  subscribe: SubscribeDomainEvents;
  searchableEvents: IndexerDeps['searchableEvents'];
  sql: Sql;
}

/**
 * Server-side search (POST /search, room_events): PostgreSQL full-text search over an index
 * that a consumer of room.event_persisted keeps, read through rooms' visibility rules.
 */
export function createSearchComponent(deps: SearchComponentDeps) {
  deps.subscribe(searchIndexer({ sql: deps.sql, searchableEvents: deps.searchableEvents }));
  const search = createSearch(deps);
  return {
    mount(app: Hono<AppEnv>): void {
      searchRoutes(app, { auth: deps.auth, search });
    },
  };
}
