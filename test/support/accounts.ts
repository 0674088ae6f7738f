import { expect } from 'vitest';
import type { Sql } from '../../server/db/database.ts';
import { ApiClient, type Reply } from './client.ts';

/** POST /login with m.login.password and an m.id.user identifier. */
export function passwordLogin(baseUrl: string, user: string, password: string, extra: Record<string, unknown> = {}): Promise<Reply> {
  return new ApiClient(baseUrl).post('/_matrix/client/v3/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password,
    ...extra,
  });
}

/** The `auth` dict of a UIA m.login.password stage. */
export function passwordAuth(userId: string, password: string, session?: string): Record<string, unknown> {
  return { type: 'm.login.password', identifier: { type: 'm.id.user', user: userId }, password, ...(session ? { session } : {}) };
}

/**
 * An error as every client may rely on it: the status, the errcode, a JSON body
 * and the CORS headers a browser client needs to read it at all.
 */
export function expectMatrixError(reply: Reply, status: number, errcode: string): void {
  expect({ status: reply.status, errcode: reply.body.errcode }, JSON.stringify(reply.body)).toEqual({ status, errcode });
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.headers.get('access-control-allow-origin')).toBe('*');
  if (reply.body.error !== undefined) expect(typeof reply.body.error).toBe('string');
}

export interface RowCounts {
  users: number;
  devices: number;
  access_tokens: number;
  refresh_tokens: number;
}

/** Rows of the tables a bad request must not touch. */
export async function rowCounts(sql: Sql): Promise<RowCounts> {
  const [row] = await sql<RowCounts[]>`
    select (select count(*) from users)::int as users,
           (select count(*) from devices)::int as devices,
           (select count(*) from access_tokens)::int as access_tokens,
           (select count(*) from refresh_tokens)::int as refresh_tokens`;
  return row!;
}

/** URL path segment for a Matrix ID, encoded the way clients encode it. */
export const enc = encodeURIComponent;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
