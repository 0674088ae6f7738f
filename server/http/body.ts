import type { Context } from 'hono';
import { z } from 'zod';
import { MatrixError } from './matrix-error.ts';

/**
 * Read the request body as a JSON object. Matrix distinguishes "not JSON at all"
 * (M_NOT_JSON) from "JSON of the wrong shape" (M_BAD_JSON). An empty body on an
 * endpoint whose fields are all optional is read as `{}`; where the body is the
 * thing being stored (event content), `required` refuses it instead.
 */
export async function readJsonObject(c: Context, opts: { required?: boolean } = {}): Promise<Record<string, unknown>> {
  const text = decodeUtf8(await c.req.arrayBuffer());
  if (text.trim() === '') {
    if (opts.required) throw new MatrixError(400, 'M_NOT_JSON', 'Content not JSON: the body is empty.');
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MatrixError(400, 'M_NOT_JSON', 'Content not JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MatrixError(400, 'M_BAD_JSON', 'Content must be a JSON object.');
  }
  const problem = unstorable(parsed, 0);
  if (problem) throw new MatrixError(400, 'M_BAD_JSON', `Content not acceptable: ${problem}`);
  return parsed as Record<string, unknown>;
}

// JSON is UTF-8 (RFC 8259). A lenient decode would store U+FFFD in place of the
// bytes the client sent, silently changing its data.
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: ArrayBuffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new MatrixError(400, 'M_NOT_JSON', 'Content not JSON: the body is not valid UTF-8.');
  }
}

/** Deeper nesting is refused: nothing in the API comes close, and walking it costs stack. */
const MAX_JSON_DEPTH = 128;

// PostgreSQL text and jsonb cannot hold U+0000, and jsonb refuses unpaired surrogates
// (which JSON.parse lets through from "\ud800"): refused here as 400, not 500 at the INSERT.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function unstorable(value: unknown, depth: number): string | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? 'strings may not contain U+0000 or unpaired surrogates' : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels`;
  for (const [key, item] of Object.entries(value)) {
    if (UNSTORABLE.test(key)) return 'keys may not contain U+0000 or unpaired surrogates';
    const problem = unstorable(item, depth + 1);
    if (problem) return problem;
  }
  return undefined;
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
  // (zod reports an absent enum as invalid_value, an absent union member as invalid_union.)
  const absentable = issue?.code === 'invalid_type' || issue?.code === 'invalid_value' || issue?.code === 'invalid_union';
  if (absentable && valueAt(value, issue.path) === undefined) {
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
