import { Agent, request as httpRequest } from 'node:http';

/**
 * A small keep-alive JSON client over node:http, shared by the orchestrator and the
 * load-generator workers. Every request is to loopback (the harness refuses other hosts)
 * and carries a timeout, so no loop can hang or leave the machine.
 */

export interface HttpReply<T = any> {
  status: number;
  body: T;
  /** Size of the response body on the wire (after any decoding, we never ask for gzip). */
  bytes: number;
  /** Time from writing the request to the last byte of the body, in ms. */
  ms: number;
  /** The response's Content-Type header, if any. */
  contentType?: string | undefined;
}

export interface RequestOptions {
  token?: string | undefined;
  body?: unknown;
  /** Bytes to send as they are (a media upload) instead of a JSON `body`. */
  raw?: { data: Buffer; contentType: string } | undefined;
  /** The answer may be binary (a thumbnail): only a JSON Content-Type is parsed, anything else leaves `body` as {}. */
  binary?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 2048 });

/** A monotonic clock shared by every process on the machine (CLOCK_MONOTONIC), in ms. */
export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export function assertLoopback(baseUrl: string): void {
  const host = new URL(baseUrl).hostname;
  if (!(host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new Error(`the bench only sends load to loopback addresses, not ${host}`);
  }
}

export class HttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${method} ${path.replace(/access_token=[^&]+/, 'access_token=…')} -> ${status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

/**
 * Connection resets seen by this process: the server closing a connection a request was
 * on (ECONNRESET, EPIPE, or "socket hang up" before any response). Counted apart from
 * other errors, because a reset on a reused keep-alive connection says the server closed
 * it while the client still held it as idle (a keep-alive timeout shorter than the
 * client's), not that a request failed.
 */
export interface ResetStats {
  /** Resets on a reused keep-alive connection before any response, retried once on a new one. */
  retried: number;
  /** Resets that failed the request (on a new connection, or again on the retry). */
  failed: number;
  /** The last few, with how long the connection had sat idle in the client's pool. */
  recent: Array<{ method: string; path: string; code: string; reused: boolean; idleMs: number | undefined }>;
}

const resets: ResetStats = { retried: 0, failed: 0, recent: [] };

/** This process's reset counts since the last call (and clears them). */
export function takeResetStats(): ResetStats {
  const out = { retried: resets.retried, failed: resets.failed, recent: resets.recent.slice() };
  resets.retried = 0;
  resets.failed = 0;
  resets.recent = [];
  return out;
}

/** When each socket went back to the agent's free list (for the idle time at a reset). */
const freedAt = new WeakMap<object, number>();
agent.on('free', (socket: object) => freedAt.set(socket, monoMs()));

/** A request the server's end of the connection reset; `reused`: it was on a keep-alive connection. */
export class ConnectionResetError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly code: string,
    readonly reused: boolean,
    readonly idleMs: number | undefined,
    options?: ErrorOptions,
  ) {
    const where = reused
      ? `a reused keep-alive connection (idle ${idleMs === undefined ? '?' : Math.round(idleMs)} ms)`
      : 'a new connection';
    super(`RESET by the server: ${method} ${path} got ${code} on ${where}`, options);
  }
}

const isReset = (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'socket hang up';

/**
 * One request. A keep-alive socket the server closed while it sat idle fails with a
 * reset before anything was sent to the server; that case (and only that) is retried
 * once on a new socket, as Node's documentation advises (`request.reusedSocket`), and
 * counted (`takeResetStats`). Any other reset fails the request as a ConnectionResetError.
 */
export async function request<T = any>(baseUrl: string, method: string, path: string, opts: RequestOptions = {}): Promise<HttpReply<T>> {
  try {
    return await once<T>(baseUrl, method, path, opts);
  } catch (e) {
    const retryable = e instanceof ConnectionResetError && e.reused && !opts.signal?.aborted;
    if (e instanceof ConnectionResetError) note(e, retryable);
    if (!retryable) throw e;
    try {
      return await once<T>(baseUrl, method, path, opts);
    } catch (again) {
      if (again instanceof ConnectionResetError) note(again, false);
      throw again;
    }
  }
}

function note(e: ConnectionResetError, retried: boolean): void {
  if (retried) resets.retried++;
  else resets.failed++;
  resets.recent.push({ method: e.method, path: e.path, code: e.code, reused: e.reused, idleMs: e.idleMs });
  if (resets.recent.length > 20) resets.recent.shift();
}

function once<T>(baseUrl: string, method: string, path: string, opts: RequestOptions): Promise<HttpReply<T>> {
  const url = new URL(path, baseUrl);
  const payload = opts.raw ? opts.raw.data : opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const headers: Record<string, string | number> = { accept: opts.binary ? '*/*' : 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (payload) {
    headers['content-type'] = opts.raw ? opts.raw.contentType : 'application/json';
    headers['content-length'] = payload.length;
  }
  return new Promise((resolve, reject) => {
    const started = monoMs();
    const req = httpRequest(
      { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, signal: opts.signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const contentType = res.headers['content-type'];
          let body: unknown = {};
          if (!opts.binary || contentType?.includes('json')) {
            try {
              body = buf.length ? JSON.parse(buf.toString('utf8')) : {};
            } catch {
              body = { _raw: buf.subarray(0, 500).toString('utf8') };
            }
          }
          resolve({ status: res.statusCode ?? 0, body: body as T, bytes: buf.length, ms: monoMs() - started, contentType });
        });
      },
    );
    req.setTimeout(opts.timeoutMs ?? 120_000, () =>
      req.destroy(new Error(`${method} ${url.pathname} timed out after ${opts.timeoutMs ?? 120_000} ms`)),
    );
    let idleMs: number | undefined;
    let responded = false;
    req.once('socket', (socket) => {
      const freed = freedAt.get(socket);
      if (req.reusedSocket && freed !== undefined) idleMs = monoMs() - freed;
    });
    req.once('response', () => (responded = true));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!responded && isReset(err) && !opts.signal?.aborted) {
        reject(new ConnectionResetError(method, url.pathname, err.code ?? err.message, req.reusedSocket, idleMs, { cause: err }));
      } else reject(err);
    });
    req.end(payload);
  });
}

/** A request that must answer 200; anything else throws with the body. */
export async function ok<T = any>(baseUrl: string, method: string, path: string, opts: RequestOptions = {}): Promise<HttpReply<T>> {
  const reply = await request<T>(baseUrl, method, path, opts);
  if (reply.status !== 200) throw new HttpError(method, path, reply.status, reply.body);
  return reply;
}

/** Runs `fn` over `items` with at most `limit` in flight; the first failure rejects. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
