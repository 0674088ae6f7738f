import type { Context } from 'hono';
import { invalidParam, missingParam } from '../../http/matrix-error.ts';

/** The spec's default wait for an async upload, and this server's bound on it. */
const DEFAULT_TIMEOUT_MS = 20_000;
const MAX_TIMEOUT_MS = 60_000;

/** A non-negative integer query parameter, or `fallback` when absent. */
export function intParam(c: Context, name: string, fallback?: number): number {
  const raw = c.req.query(name);
  if (raw === undefined) {
    if (fallback === undefined) throw missingParam(`Missing query parameter: ${name}`);
    return fallback;
  }
  if (!/^\d{1,15}$/.test(raw)) throw invalidParam(`${name} must be a non-negative integer`);
  return Number(raw);
}

export const timeoutParam = (c: Context): number => Math.min(intParam(c, 'timeout_ms', DEFAULT_TIMEOUT_MS), MAX_TIMEOUT_MS);

/** `true`/`false`, or undefined when absent. */
export function boolParam(c: Context, name: string): boolean | undefined {
  const raw = c.req.query(name);
  if (raw === undefined) return undefined;
  if (raw !== 'true' && raw !== 'false') throw invalidParam(`${name} must be true or false`);
  return raw === 'true';
}
