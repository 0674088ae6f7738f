import type { MiddlewareHandler } from 'hono';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppEnv } from '../http/hono-env.ts';

/** One registry per homeserver instance, so two in one process (tests) do not collide. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'commcomms_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'commcomms_http_request_duration_seconds',
    help: 'HTTP request latency by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      // The route pattern, not the URL: label cardinality stays bounded.
      const route = c.req.routePath || 'unmatched';
      requests.inc({ method: c.req.method, route, status: String(c.res.status) });
      latency.observe({ method: c.req.method, route }, (performance.now() - start) / 1000);
    }
  };
  return { registry, middleware };
}

export type Metrics = ReturnType<typeof createMetrics>;
