import { createHmac } from 'node:crypto';
import { mapLimit, ok } from './http.ts';

/** The client-server calls the bench sets up with, the same for every homeserver. */

export const CS = '/_matrix/client/v3';
const enc = encodeURIComponent;

/** What a scenario needs to know about the server under test. */
export interface Server {
  /** e.g. http://127.0.0.1:8008 */
  url: string;
  /** registration.shared_secret (CommComms) / registration_shared_secret (Synapse). */
  sharedSecret: string;
}

export interface BenchUser {
  userId: string;
  token: string;
}

let runTag = `${Date.now().toString(36)}${process.pid.toString(36)}`;
/** Localparts are made unique per run so a reused server never collides. */
export function setRunTag(tag: string): void {
  runTag = tag;
}

let userCounter = 0;
/** Shared-secret registration (Synapse's admin API, which CommComms also serves). */
export async function registerUser(server: Server, prefix = 'u'): Promise<BenchUser> {
  const localpart = `bench_${prefix}_${runTag}_${++userCounter}`;
  const password = `pw-${localpart}`;
  const { body: n } = await ok<{ nonce: string }>(server.url, 'GET', '/_synapse/admin/v1/register');
  const mac = createHmac('sha1', server.sharedSecret).update(`${n.nonce}\x00${localpart}\x00${password}\x00notadmin`).digest('hex');
  const { body } = await ok<{ user_id: string; access_token: string }>(server.url, 'POST', '/_synapse/admin/v1/register', {
    body: { nonce: n.nonce, username: localpart, password, admin: false, mac },
  });
  return { userId: body.user_id, token: body.access_token };
}

export const registerUsers = (server: Server, count: number, prefix: string, concurrency = 4): Promise<BenchUser[]> =>
  mapLimit(Array.from({ length: count }), concurrency, () => registerUser(server, prefix));

export async function createRoom(server: Server, user: BenchUser, name: string): Promise<string> {
  const { body } = await ok<{ room_id: string }>(server.url, 'POST', `${CS}/createRoom`, {
    token: user.token,
    body: { preset: 'public_chat', name },
  });
  return body.room_id;
}

export async function joinRoom(server: Server, user: BenchUser, roomId: string): Promise<number> {
  const reply = await ok(server.url, 'POST', `${CS}/join/${enc(roomId)}`, { token: user.token, body: {} });
  return reply.ms;
}

/** Joins every user to the room, `concurrency` at a time. */
export async function joinAll(server: Server, users: readonly BenchUser[], roomId: string, concurrency = 4): Promise<void> {
  await mapLimit(users, concurrency, (u) => joinRoom(server, u, roomId));
}

let txn = 0;
export const txnId = (): string => `b${process.pid}.${Date.now().toString(36)}.${++txn}`;

export function sendPath(roomId: string): string {
  return `${CS}/rooms/${enc(roomId)}/send/m.room.message/${txnId()}`;
}

export async function sendText(server: Server, user: BenchUser, roomId: string, body: string, extra: Record<string, unknown> = {}) {
  return ok<{ event_id: string }>(server.url, 'PUT', sendPath(roomId), {
    token: user.token,
    body: { msgtype: 'm.text', body, ...extra },
  });
}

/** A sync path; `filter` is sent inline as JSON, as Element does for its first sync. */
export function syncPath(params: { since?: string | undefined; timeout?: number; filter?: object }): string {
  const q: string[] = [];
  if (params.since) q.push(`since=${enc(params.since)}`);
  if (params.timeout !== undefined) q.push(`timeout=${params.timeout}`);
  if (params.filter) q.push(`filter=${enc(JSON.stringify(params.filter))}`);
  return `${CS}/sync${q.length ? `?${q.join('&')}` : ''}`;
}
