import { createHmac } from 'node:crypto';
import { SHARED_SECRET } from './homeserver.ts';

/** What a raw HTTP call returned: status and parsed JSON body. */
export interface Reply<T = Record<string, any>> {
  status: number;
  body: T;
  headers: Headers;
}

/** A minimal client that speaks the client-server API the way a Matrix client would. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    public accessToken?: string,
  ) {}

  async request<T = Record<string, any>>(
    method: string,
    path: string,
    body?: unknown,
    opts: { token?: string | null; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply<T>> {
    const token = opts.token === undefined ? this.accessToken : opts.token;
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined = opts.raw;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(this.baseUrl + path, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { _raw: text };
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get = <T = Record<string, any>>(path: string, opts?: { token?: string | null }) => this.request<T>('GET', path, undefined, opts);
  post = <T = Record<string, any>>(path: string, body?: unknown, opts?: { token?: string | null }) =>
    this.request<T>('POST', path, body ?? {}, opts);
  put = <T = Record<string, any>>(path: string, body?: unknown, opts?: { token?: string | null }) =>
    this.request<T>('PUT', path, body ?? {}, opts);
  delete = <T = Record<string, any>>(path: string, body?: unknown, opts?: { token?: string | null }) =>
    this.request<T>('DELETE', path, body, opts);
}

export interface TestUser {
  userId: string;
  deviceId: string;
  accessToken: string;
  password: string;
  client: ApiClient;
}

/** Registers through the UIA dance with m.login.dummy, as Element does on an open server. */
export async function registerUser(baseUrl: string, localpart: string, password = 'correct horse battery'): Promise<TestUser> {
  const client = new ApiClient(baseUrl);
  const first = await client.post('/_matrix/client/v3/register', { username: localpart, password });
  if (first.status !== 401) throw new Error(`register challenge: ${first.status} ${JSON.stringify(first.body)}`);
  const done = await client.post('/_matrix/client/v3/register', {
    username: localpart,
    password,
    auth: { type: 'm.login.dummy', session: first.body.session },
  });
  if (done.status !== 200) throw new Error(`register: ${done.status} ${JSON.stringify(done.body)}`);
  client.accessToken = done.body.access_token;
  return { userId: done.body.user_id, deviceId: done.body.device_id, accessToken: done.body.access_token, password, client };
}

/** Shared-secret admin registration, the way Synapse's register_new_matrix_user does it. */
export async function adminRegister(
  baseUrl: string,
  localpart: string,
  password: string,
  admin = false,
  secret = SHARED_SECRET,
): Promise<Reply> {
  const client = new ApiClient(baseUrl);
  const { body } = await client.get('/_synapse/admin/v1/register');
  const mac = createHmac('sha1', secret)
    .update(`${body.nonce}\x00${localpart}\x00${password}\x00${admin ? 'admin' : 'notadmin'}`)
    .digest('hex');
  return client.post('/_synapse/admin/v1/register', { nonce: body.nonce, username: localpart, password, admin, mac });
}
