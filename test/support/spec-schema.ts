import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

/**
 * Validates response bodies against the Matrix spec's OpenAPI files
 * (data/api/client-server/*.yaml of matrix-org/matrix-spec, kept offline).
 *
 * `$ref`s are bundled rather than inlined: every referenced schema (a relative
 * file, a `#/components/...` pointer, or both) becomes one entry of the root
 * schema's `$defs`, so a schema that refers to itself compiles instead of
 * recursing for ever.
 */

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The matrix-spec checkout: MATRIX_SPEC_DIR, else ../shared/matrix-spec next to the repository. */
export function specDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MATRIX_SPEC_DIR ? resolve(env.MATRIX_SPEC_DIR) : resolve(REPO_ROOT, '..', 'shared', 'matrix-spec');
}

export function clientServerDir(): string {
  return join(specDir(), 'data', 'api', 'client-server');
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

const documents = new Map<string, Json>();

function loadDocument(file: string): Json {
  let doc = documents.get(file);
  if (doc === undefined) {
    try {
      doc = parse(readFileSync(file, 'utf8')) as Json;
    } catch (e) {
      throw new Error(`spec-schema: cannot read ${file}: ${(e as Error).message}`);
    }
    documents.set(file, doc);
  }
  return doc;
}

/** RFC 6901 pointer lookup ('' or '/' is the whole document). */
function atPointer(doc: Json, pointer: string, where: string): Json {
  let node: Json = doc;
  for (const raw of pointer.split('/').slice(1)) {
    if (raw === '') continue;
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    const next: Json | undefined = Array.isArray(node) ? node[Number(key)] : isObject(node) ? node[key] : undefined;
    if (next === undefined) throw new Error(`spec-schema: ${where}: no ${pointer}`);
    node = next;
  }
  return node;
}

interface Target {
  file: string;
  pointer: string;
  value: Json;
}

/** Follows one `$ref` written in `fromFile`: `other.yaml`, `other.yaml#/a/b` or `#/a/b`. */
function follow(ref: string, fromFile: string): Target {
  const hash = ref.indexOf('#');
  const filePart = hash < 0 ? ref : ref.slice(0, hash);
  const pointer = hash < 0 ? '' : ref.slice(hash + 1);
  const file = filePart ? resolve(dirname(fromFile), filePart) : fromFile;
  return { file, pointer, value: atPointer(loadDocument(file), pointer, `${ref} (from ${fromFile})`) };
}

/** Follows `$ref` chains on OpenAPI objects (responses, path items), which are not schemas. */
function deref(node: Json, file: string): { node: Json; file: string } {
  const seen = new Set<string>();
  while (isObject(node) && typeof node.$ref === 'string') {
    const t = follow(node.$ref, file);
    const key = `${t.file}#${t.pointer}`;
    if (seen.has(key)) throw new Error(`spec-schema: $ref cycle at ${key}`);
    seen.add(key);
    node = t.value;
    file = t.file;
  }
  return { node, file };
}

/** Copies a schema, moving every `$ref` target into `defs` once and pointing at it. */
class Bundler {
  readonly defs: JsonObject = {};
  private readonly names = new Map<string, string>();

  bundle(node: Json, file: string): Json {
    if (Array.isArray(node)) return node.map((n) => this.bundle(n, file));
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(node)) {
      // Examples are data, not schemas: copy them untouched.
      out[k] = k === '$ref' || k === 'example' || k === 'examples' ? v : this.bundle(v, file);
    }
    if (typeof node.$ref === 'string') out.$ref = `#/$defs/${this.define(node.$ref, file)}`;
    return out;
  }

  private define(ref: string, fromFile: string): string {
    const t = follow(ref, fromFile);
    const key = `${t.file}#${t.pointer}`;
    let name = this.names.get(key);
    if (name === undefined) {
      name = `${relative(clientServerDir(), t.file)}${t.pointer}`.replace(/[^A-Za-z0-9_.-]+/g, '_') + `_${this.names.size}`;
      // Registered before recursing: a cycle finds the name and stops.
      this.names.set(key, name);
      this.defs[name] = true;
      this.defs[name] = this.bundle(t.value, t.file);
    }
    return name;
  }
}

// The spec's string formats (data/string-formats.yaml), checked by their documented prefixes.
const MATRIX_FORMATS: Record<string, RegExp | true> = {
  'mx-user-id': /^@[^:]+:.+$/,
  'mx-room-id': /^!.+$/,
  'mx-event-id': /^\$.+$/,
  'mx-room-alias': /^#[^:]+:.+$/,
  'mx-mxc-uri': /^mxc:\/\/[^/]+\/.+$/,
  'mx-server-name': /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/,
  'mx-unpadded-base64': /^[A-Za-z0-9+/]*$/,
  'mx-urlsafe-unpadded-base64': /^[A-Za-z0-9_-]*$/,
  int64: true,
  float: true,
};

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    validateSchema: false,
    // Formats nobody defined are accepted, without a warning per compile.
    logger: { log: () => {}, warn: () => {}, error: (...args: unknown[]) => console.error(...args) },
  });
  addFormatsModule.default(ajv);
  for (const [name, check] of Object.entries(MATRIX_FORMATS)) ajv.addFormat(name, check);
  return ajv;
}

const ajv = newAjv();
const compiled = new Map<string, ValidateFunction>();

function compileAt(key: string, schema: Json, file: string): ValidateFunction {
  let validate = compiled.get(key);
  if (!validate) {
    const bundler = new Bundler();
    const root = bundler.bundle(schema, file);
    const withDefs = isObject(root) ? { ...root, $defs: { ...(isObject(root.$defs) ? root.$defs : {}), ...bundler.defs } } : root;
    validate = ajv.compile(withDefs as object);
    compiled.set(key, validate);
  }
  return validate;
}

function specFile(file: string): string {
  return resolve(clientServerDir(), file.endsWith('.yaml') ? file : `${file}.yaml`);
}

/** Finds the path item: by its template ('/profile/{userId}/displayname') or a concrete path, with or without the base path. */
function findPathItem(doc: JsonObject, path: string, file: string): JsonObject {
  const paths = isObject(doc.paths) ? doc.paths : {};
  const p = path.split('?')[0]!;
  if (isObject(paths[p])) return paths[p];
  const server = Array.isArray(doc.servers) ? doc.servers[0] : undefined;
  const variables = isObject(server) && isObject(server.variables) ? server.variables : {};
  const basePath = isObject(variables.basePath) && typeof variables.basePath.default === 'string' ? variables.basePath.default : '';
  const local = basePath && p.startsWith(basePath) ? p.slice(basePath.length) : p;
  if (isObject(paths[local])) return paths[local];
  for (const [template, item] of Object.entries(paths)) {
    const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (re.test(local) && isObject(item)) return item;
  }
  throw new Error(`spec-schema: ${file} has no path ${path} (paths: ${Object.keys(paths).join(', ')})`);
}

/** The JSON schema of one response, or undefined when the spec documents no body for it. */
function responseSchema(
  file: string,
  path: string,
  method: string,
  status: number,
): { key: string; schema: Json; file: string } | undefined {
  const abs = specFile(file);
  const doc = loadDocument(abs);
  if (!isObject(doc)) throw new Error(`spec-schema: ${abs} is not a mapping`);
  const item = findPathItem(doc, path, file);
  const op = item[method.toLowerCase()];
  if (!isObject(op)) throw new Error(`spec-schema: ${file} ${path} has no ${method.toUpperCase()} operation`);
  const responses = isObject(op.responses) ? op.responses : {};
  const raw = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  if (raw === undefined) {
    throw new Error(
      `spec-schema: ${file} ${method.toUpperCase()} ${path} documents no ${status} response (has ${Object.keys(responses).join(', ')})`,
    );
  }
  const { node: response, file: responseFile } = deref(raw, abs);
  const content = isObject(response) && isObject(response.content) ? response.content : undefined;
  const media = content && isObject(content['application/json']) ? content['application/json'] : undefined;
  if (!media || media.schema === undefined) return undefined;
  return { key: `${abs} ${method.toLowerCase()} ${path} ${status}`, schema: media.schema, file: responseFile };
}

/** Does the spec document a JSON body for this response? */
export function hasSpecSchema(file: string, path: string, method: string, status: number): boolean {
  try {
    return responseSchema(file, path, method, status) !== undefined;
  } catch {
    return false;
  }
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => {
      const extra =
        e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
      return `  - ${e.instancePath || '(root)'} ${e.message ?? e.keyword}${extra}  [${e.schemaPath}]`;
    })
    .join('\n');
}

function check(validate: ValidateFunction, body: unknown, what: string): void {
  if (validate(body)) return;
  const shown = JSON.stringify(body, null, 2) ?? String(body);
  throw new Error(
    `${what}: body does not match the spec:\n${describeErrors(validate.errors)}\nbody: ${shown.length > 2000 ? `${shown.slice(0, 2000)}...` : shown}`,
  );
}

/**
 * Throws a readable error when `body` does not match the response schema the spec
 * gives for `method path` answering `status` in `file` (e.g. 'login.yaml' or 'login').
 * `path` is the spec's template ('/login') or the request path ('/_matrix/client/v3/login').
 */
export function expectMatchesSpec(file: string, path: string, method: string, status: number, body: unknown): void {
  const found = responseSchema(file, path, method, status);
  const what = `${method.toUpperCase()} ${path} ${status} (${file})`;
  if (!found) throw new Error(`spec-schema: ${what} has no JSON body in the spec`);
  check(compileAt(found.key, found.schema, found.file), body, what);
}

/** Validates against a schema file of the spec, relative to data/api/client-server (e.g. 'definitions/errors/error.yaml'). */
export function expectMatchesSchemaFile(file: string, body: unknown): void {
  const abs = specFile(file);
  check(compileAt(abs, loadDocument(abs), abs), body, file);
}
