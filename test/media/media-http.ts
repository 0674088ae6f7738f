import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Reply, TestUser } from '../support/client.ts';

export const V1 = '/_matrix/client/v1/media';
export const V3 = '/_matrix/media/v3';

/** A reply with its raw bytes, for media, and its JSON body when it has one (errors). */
export interface BytesReply extends Reply {
  bytes: Buffer;
}

/** A raw request: media bodies are bytes, not JSON, so ApiClient does not fit. */
export async function raw(
  baseUrl: string,
  method: string,
  path: string,
  opts: { token?: string | null; body?: Uint8Array; headers?: Record<string, string> } = {},
): Promise<BytesReply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  // Node's fetch takes any Uint8Array; the DOM typings want an ArrayBuffer-backed one.
  const res = await fetch(baseUrl + path, { method, headers, ...(opts.body ? { body: opts.body as unknown as BodyInit } : {}) });
  const bytes = Buffer.from(await res.arrayBuffer());
  let body: Reply['body'] = {};
  if (res.headers.get('content-type')?.startsWith('application/json')) body = JSON.parse(bytes.toString('utf8')) as Reply['body'];
  return { status: res.status, headers: res.headers, body, bytes };
}

/** POST /upload as `user`; `filename` goes in the query. */
export function upload(
  baseUrl: string,
  user: TestUser | null,
  bytes: Uint8Array,
  opts: { contentType?: string; filename?: string } = {},
): Promise<BytesReply> {
  const q = opts.filename !== undefined ? `?filename=${encodeURIComponent(opts.filename)}` : '';
  return raw(baseUrl, 'POST', `${V3}/upload${q}`, {
    token: user?.accessToken ?? null,
    body: bytes,
    headers: opts.contentType ? { 'content-type': opts.contentType } : {},
  });
}

/** `mxc://server/id` -> `server/id`, the path tail of the download endpoints. */
export function mxcPath(mxc: string): string {
  const m = /^mxc:\/\/([^/]+)\/([A-Za-z0-9_-]+)$/.exec(mxc);
  if (!m) throw new Error(`not an mxc URI: ${mxc}`);
  return `${m[1]}/${m[2]}`;
}

/** Every file under the media store (content and temp files), relative to it. */
export function storeFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(d, e.name), join(rel, e.name));
      else out.push(join(rel, e.name));
    }
  };
  walk(dir, '');
  return out.sort();
}

/** A test image: a gradient, so a crop and a scale of it differ. */
export function testImage(width: number, height: number, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = (x * 255) / width;
      pixels[i + 1] = (y * 255) / height;
      pixels[i + 2] = 128;
    }
  }
  const img = sharp(pixels, { raw: { width, height, channels: 3 } });
  return (format === 'png' ? img.png() : img.jpeg()).toBuffer();
}

export async function dimensions(bytes: Buffer): Promise<{ width: number; height: number; format: string }> {
  const m = await sharp(bytes).metadata();
  return { width: m.width, height: m.height, format: m.format };
}

/** Polls `check` until it is true or `ms` pass; returns the last result. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 3_000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
