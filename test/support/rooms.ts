import { expect } from 'vitest';
import type { Reply, TestUser } from './client.ts';

/**
 * Small helpers for the room engine's HTTP tests: each call asserts its status
 * (printing the body when it is wrong) and returns what the test needs next.
 */

export const CS = '/_matrix/client/v3';
export const enc = encodeURIComponent;
export const roomPath = (roomId: string, rest = ''): string => `${CS}/rooms/${enc(roomId)}${rest}`;

let txnCounter = 0;
/** A transaction id unique within this test process. */
export const newTxnId = (prefix = 'txn'): string => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++txnCounter}`;

/** Asserts the status and returns the body. */
export function ok<T = Record<string, any>>(reply: Reply<T>, status = 200): T {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  return reply.body;
}

/** The query string for a request; objects (filters) are sent as JSON. */
export function query(params: Record<string, string | number | boolean | object | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    parts.push(`${enc(k)}=${enc(typeof v === 'object' ? JSON.stringify(v) : String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export async function createRoom(user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  const res = ok(await user.client.post(`${CS}/createRoom`, body));
  expect(res.room_id).toMatch(/^!/);
  return res.room_id as string;
}

export async function sendEvent(
  user: TestUser,
  roomId: string,
  type: string,
  content: Record<string, unknown>,
  txnId = newTxnId(),
): Promise<string> {
  const res = ok(await user.client.put(roomPath(roomId, `/send/${enc(type)}/${enc(txnId)}`), content));
  expect(res.event_id).toMatch(/^\$/);
  return res.event_id as string;
}

export const sendText = (user: TestUser, roomId: string, body: string, txnId?: string): Promise<string> =>
  sendEvent(user, roomId, 'm.room.message', { msgtype: 'm.text', body }, txnId);

export async function setState(
  user: TestUser,
  roomId: string,
  type: string,
  stateKey: string,
  content: Record<string, unknown>,
): Promise<string> {
  const res = ok(await user.client.put(roomPath(roomId, `/state/${enc(type)}/${enc(stateKey)}`), content));
  return res.event_id as string;
}

/** The content of a state event (404 fails the assertion). */
export async function getState(user: TestUser, roomId: string, type: string, stateKey = ''): Promise<Record<string, any>> {
  return ok(await user.client.get(roomPath(roomId, `/state/${enc(type)}/${enc(stateKey)}`)));
}

/** The whole state event, in the client format. */
export async function getStateEvent(user: TestUser, roomId: string, type: string, stateKey = ''): Promise<Record<string, any>> {
  return ok(await user.client.get(roomPath(roomId, `/state/${enc(type)}/${enc(stateKey)}?format=event`)));
}

export async function joinRoom(user: TestUser, roomId: string): Promise<void> {
  const res = ok(await user.client.post(`${CS}/join/${enc(roomId)}`, {}));
  expect(res.room_id).toBe(roomId);
}

export async function inviteUser(inviter: TestUser, roomId: string, userId: string): Promise<void> {
  ok(await inviter.client.post(roomPath(roomId, '/invite'), { user_id: userId }));
}

export async function leaveRoom(user: TestUser, roomId: string): Promise<void> {
  ok(await user.client.post(roomPath(roomId, '/leave'), {}));
}

export function sync(user: TestUser, params: Record<string, string | number | boolean | object | undefined> = {}): Promise<Reply> {
  return user.client.get(`${CS}/sync${query(params)}`);
}

/** A /sync that must succeed. */
export async function syncOk(
  user: TestUser,
  params: Record<string, string | number | boolean | object | undefined> = {},
): Promise<Record<string, any>> {
  return ok(await sync(user, params));
}

export function messages(
  user: TestUser,
  roomId: string,
  params: Record<string, string | number | boolean | object | undefined> = {},
): Promise<Reply> {
  return user.client.get(roomPath(roomId, `/messages${query(params)}`));
}

export interface Paged {
  events: Array<Record<string, any>>;
  pages: number;
}

/**
 * Follows `end` tokens from `from` (or the room's end) until the server stops
 * giving one or returns an empty chunk; `maxPages` guards against a token that never ends.
 */
export async function paginate(
  user: TestUser,
  roomId: string,
  opts: { dir: 'b' | 'f'; limit: number; from?: string; filter?: object; maxPages?: number },
): Promise<Paged> {
  const events: Array<Record<string, any>> = [];
  let from = opts.from;
  let pages = 0;
  for (;;) {
    const body = ok(await messages(user, roomId, { dir: opts.dir, limit: opts.limit, from, filter: opts.filter }));
    pages += 1;
    expect(body.chunk.length).toBeLessThanOrEqual(opts.limit);
    events.push(...body.chunk);
    if (body.end === undefined || body.chunk.length === 0) break;
    expect(body.end, 'a page must move the token').not.toBe(from);
    from = body.end;
    if (pages > (opts.maxPages ?? 1000)) throw new Error(`pagination did not end after ${pages} pages`);
  }
  return { events, pages };
}

/** Event types of a list of client events. */
export const typesOf = (events: Array<Record<string, any>>): string[] => events.map((e) => e.type as string);
/** Message bodies of the m.room.message events of a list. */
export const bodiesOf = (events: Array<Record<string, any>>): string[] =>
  events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body as string);
