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
}

export interface RequestOptions {
  token?: string | undefined;
  body?: unknown;
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
 * One request. A keep-alive socket the server closed while it sat idle fails with a
 * reset before anything was sent to the server; that case (and only that) is retried
 * once on a new socket, as Node's documentation advises (`request.reusedSocket`).
 */
export async function request<T = any>(baseUrl: string, method: string, path: string, opts: RequestOptions = {}): Promise<HttpReply<T>> {
  try {
    return await once<T>(baseUrl, method, path, opts);
  } catch (e) {
    if (!(e instanceof StaleSocketError) || opts.signal?.aborted) throw e instanceof StaleSocketError ? e.cause : e;
    return once<T>(baseUrl, method, path, opts);
  }
}

class StaleSocketError extends Error {}

function once<T>(baseUrl: string, method: string, path: string, opts: RequestOptions): Promise<HttpReply<T>> {
  const url = new URL(path, baseUrl);
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const headers: Record<string, string | number> = { accept: 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (payload) {
    headers['content-type'] = 'application/json';
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
          let body: unknown = {};
          try {
            body = buf.length ? JSON.parse(buf.toString('utf8')) : {};
          } catch {
            body = { _raw: buf.toString('utf8').slice(0, 500) };
          }
          resolve({ status: res.statusCode ?? 0, body: body as T, bytes: buf.length, ms: monoMs() - started });
        });
      },
    );
    req.setTimeout(opts.timeoutMs ?? 120_000, () =>
      req.destroy(new Error(`${method} ${url.pathname} timed out after ${opts.timeoutMs ?? 120_000} ms`)),
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      const stale = req.reusedSocket && (err.code === 'ECONNRESET' || err.message === 'socket hang up');
      reject(stale ? new StaleSocketError('stale keep-alive socket', { cause: err }) : err);
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
