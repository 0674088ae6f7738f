import { randomUUID } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import type { AppEnv } from './http/hono-env.ts';
import { MatrixError, unrecognized } from './http/matrix-error.ts';
import type { Metrics } from './ops/metrics.ts';

export interface AppDeps {
  log: Logger;
  metrics: Metrics;
  inFlight: MiddlewareHandler<AppEnv>;
  maxBodyBytes: number;
  /** Each component adds its routes. */
  mount: Array<(app: Hono<AppEnv>) => void>;
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'X-Requested-With, Content-Type, Authorization',
};

/** The HTTP front: request ids, logging, CORS, body limits, and one error handler. */
export function buildApp({ log, metrics, inFlight, maxBodyBytes, mount }: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', inFlight);

  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id')?.slice(0, 64) || randomUUID();
    c.set('requestId', requestId);
    // Set before the response exists, so every response is made with them: set after,
    // each would make Hono copy the finished response into a new web Response.
    c.header('X-Request-Id', requestId);
    for (const [k, v] of Object.entries(CORS_HEADERS)) c.header(k, v);
    const start = performance.now();
    await next();
    log.info(
      { requestId, method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - start) },
      'request',
    );
  });
  app.use('*', metrics.middleware);
  // A NUL in a path or query can only be an attack or a bug; PostgreSQL rejects it in text anyway.
  app.use('*', async (c, next) => {
    if (/%00/.test(c.req.url)) throw new MatrixError(400, 'M_INVALID_PARAM', 'NUL characters are not allowed in URLs');
    // Hono leaves what it cannot decode as it is, so `%ED%A0%80` (a lone surrogate) or a stray
    // `%` would reach a handler as a literal id, type or state key: refuse the URL instead.
    if (!percentEncodingValid(c.req.url)) throw new MatrixError(400, 'M_INVALID_PARAM', 'The URL is not valid percent-encoded UTF-8');
    await next();
  });
  // Browsers preflight every cross-origin call; answer without routing.
  app.options('*', (c) => c.body(null, 204));
  app.use('*', limitBody(maxBodyBytes));

  for (const add of mount) add(app);
  addMethodNotAllowed(app);

  app.notFound((c) => c.json(unrecognized().body(), 404));
  app.onError((err, c) => {
    if (err instanceof MatrixError) {
      // v1.10 (MSC4041): a 429 also says when to come back in the standard header, in seconds.
      const retryMs = err.status === 429 ? err.extra.retry_after_ms : undefined;
      if (typeof retryMs === 'number') c.header('Retry-After', String(Math.max(1, Math.ceil(retryMs / 1000))));
      return c.json(err.body(), err.status);
    }
    // No per-request child logger: making one for every request (a long-poll's each round
    // included) cost more than the rare line that uses it.
    log.error({ err, requestId: c.get('requestId') }, 'unhandled error');
    return c.json({ errcode: 'M_UNKNOWN', error: 'Internal server error' }, 500);
  });
  return app;
}

/**
 * A known path with the wrong method is 405 M_UNRECOGNIZED (the spec's rule),
 * not 404: registered after every route so it only matches when none did.
 */
function addMethodNotAllowed(app: Hono<AppEnv>): void {
  // Hono stores `app.options('*')` as '/*': a catch-all is not a known path.
  const paths = new Set(app.routes.filter((r) => r.method !== 'ALL' && r.path !== '*' && r.path !== '/*').map((r) => r.path));
  for (const path of paths) {
    app.all(path, () => {
      throw new MatrixError(405, 'M_UNRECOGNIZED', 'Unrecognized request: method not allowed');
    });
  }
}

/**
 * Media uploads (POST /upload, PUT /upload/{serverName}/{mediaId}) are not JSON and may be
 * far larger: server/media streams them to disk under media.max_upload_bytes instead.
 */
const OWN_BODY_LIMIT = /^\/_matrix\/media\/v3\/upload(\/|$)/;

/**
 * 413 M_TOO_LARGE for a body over `maxBytes`. A declared Content-Length is judged
 * from the header, which leaves the body to be read straight from the Node request;
 * only a chunked body is counted as it streams in (Hono's middleware, which turns
 * the request into a web Request to do it).
 */
function limitBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  const tooLarge = () => {
    throw new MatrixError(413, 'M_TOO_LARGE', `Request body is larger than ${maxBytes} bytes`);
  };
  const streamed = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    if (OWN_BODY_LIMIT.test(c.req.path)) return next();
    if (c.req.header('transfer-encoding') !== undefined) return streamed(c, next);
    const length = c.req.header('content-length');
    // Neither header: HTTP/1.1 says there is no body.
    if (length !== undefined && Number.parseInt(length, 10) > maxBytes) tooLarge();
    await next();
  };
}

function percentEncodingValid(url: string): boolean {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const hash = url.indexOf('#');
  try {
    decodeURIComponent(url.slice(start < 0 ? url.length : start, hash < 0 ? undefined : hash));
    return true;
  } catch {
    return false;
  }
}
