import type { Context } from 'hono';
import { z } from 'zod';
import { MatrixError } from './matrix-error.ts';

/**
 * Read the request body as a JSON object. Matrix distinguishes "not JSON at all"
 * (M_NOT_JSON) from "JSON of the wrong shape" (M_BAD_JSON); an empty body on an
 * endpoint whose fields are all optional is read as `{}`.
 */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MatrixError(400, 'M_NOT_JSON', 'Content not JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MatrixError(400, 'M_BAD_JSON', 'Content must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/** Read and validate a JSON body against a zod schema, mapping failures to Matrix errors. */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  return parseWith(schema, await readJsonObject(c));
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join('.') || 'body';
  // A required key that is absent is M_MISSING_PARAM; anything else malformed is M_BAD_JSON.
  if (issue?.code === 'invalid_type' && valueAt(value, issue.path) === undefined) {
    throw new MatrixError(400, 'M_MISSING_PARAM', `Missing parameter: ${path}`);
  }
  throw new MatrixError(400, 'M_BAD_JSON', `Invalid parameter ${path}: ${issue?.message ?? 'invalid'}`);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}
