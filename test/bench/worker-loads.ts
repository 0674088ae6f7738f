import { monoMs, request } from './http.ts';
import { CS } from './matrix.ts';
import type { KeysClaimResult, LoopResult, ThumbnailResult, UploadResult, WorkerOp } from './worker-protocol.ts';

/**
 * The request loops a load worker (worker.ts) runs for the keys-claim and media
 * scenarios. Each is closed: `lanes` clients, one request in flight each, issue back to
 * back until the count is reached, the time is up, or 20 requests have failed.
 */

const MAX_ERRORS = 20;
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Runs `fn(seq, lane)` for seq = 0..total-1 from `lanes` concurrent lanes; `fn` resolves with a latency or throws. */
export async function closedLoop(
  lanes: number,
  total: number,
  durationMs: number,
  fn: (seq: number, lane: number) => Promise<number>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  const errors: string[] = [];
  let issued = 0;
  const start = monoMs();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      while (issued < total && monoMs() < deadline && errors.length < MAX_ERRORS) {
        const seq = issued++;
        try {
          latencies.push(await fn(seq, lane));
        } catch (e) {
          errors.push(errText(e));
        }
      }
    }),
  );
  const end = monoMs();
  if (issued < total && errors.length < MAX_ERRORS) errors.push(`only ${issued} of ${total} requests issued in ${durationMs / 1000} s`);
  return { latencies, errors, start, end };
}

const fail = (what: string, r: { status: number; body: unknown }) =>
  new Error(`${what} -> ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);

/** keys/claim, each claim naming every device; every key handed out is reported back. */
export async function claimKeys(op: Extract<WorkerOp, { op: 'keys-claim' }>): Promise<KeysClaimResult> {
  const wanted: Record<string, Record<string, string>> = {};
  for (const d of op.devices) (wanted[d.userId] ??= {})[d.deviceId] = 'signed_curve25519';
  const body = { one_time_keys: wanted };
  const got: KeysClaimResult['got'] = [];
  const answered: number[] = [];
  const loop = await closedLoop(op.tokens.length, op.claims, op.durationMs, async (seq, lane) => {
    const r = await request(op.url, 'POST', `${CS}/keys/claim`, { token: op.tokens[lane], body, timeoutMs: 30_000 });
    if (r.status !== 200) throw fail('keys/claim', r);
    const claim = op.claimOffset + seq;
    answered.push(claim);
    const keys = (r.body as { one_time_keys?: Record<string, Record<string, Record<string, unknown>>> }).one_time_keys ?? {};
    op.devices.forEach((d, i) => {
      for (const [keyId, v] of Object.entries(keys[d.userId]?.[d.deviceId] ?? {})) {
        const key = typeof v === 'string' ? v : String((v as { key?: unknown } | null)?.key);
        got.push([claim, i, keyId, key]);
      }
    });
    return r.ms;
  });
  return { ...loop, got, answered };
}

/** The JPEG with a comment segment (FF FE) after its start marker: the same image, different bytes. */
export function uniqueJpeg(image: Buffer, tag: string): Buffer {
  if (image[0] !== 0xff || image[1] !== 0xd8) throw new Error('not a JPEG');
  const text = Buffer.from(`bench ${tag}`);
  const len = text.length + 2;
  return Buffer.concat([image.subarray(0, 2), Buffer.from([0xff, 0xfe, len >> 8, len & 0xff]), text, image.subarray(2)]);
}

/**
 * Uploads through /_matrix/media/v3/upload. Every upload's bytes differ (a content-addressed
 * store must not get away with storing one file), so each is a new file for every server.
 */
export async function uploadMedia(op: Extract<WorkerOp, { op: 'media-upload' }>): Promise<UploadResult> {
  const image = Buffer.from(op.image, 'base64');
  const nonce = `${process.pid}.${Date.now().toString(36)}`;
  const uris: string[] = [];
  const loop = await closedLoop(op.tokens.length, op.tokens.length * op.perUploader, op.durationMs, async (seq, lane) => {
    const data = uniqueJpeg(image, `${nonce} ${op.uploaderOffset + lane} ${seq}`);
    const r = await request(op.url, 'POST', `/_matrix/media/v3/upload?filename=bench-${seq}.jpg`, {
      token: op.tokens[lane],
      raw: { data, contentType: 'image/jpeg' },
      timeoutMs: 60_000,
    });
    const uri = (r.body as { content_uri?: unknown }).content_uri;
    if (r.status !== 200 || typeof uri !== 'string' || !/^mxc:\/\/[^/]+\/[^/]+$/.test(uri)) throw fail('media upload', r);
    uris.push(uri);
    return r.ms;
  });
  return { ...loop, uris };
}

/** GETs thumbnails; each must be an image, and smaller than the original (a thumbnail, not the upload sent back). */
export async function fetchThumbnails(op: Extract<WorkerOp, { op: 'media-thumbnails' }>): Promise<ThumbnailResult> {
  const bytes: number[] = [];
  const loop = await closedLoop(op.concurrency, op.paths.length, op.durationMs, async (seq) => {
    const r = await request(op.url, 'GET', op.paths[seq]!, { token: op.token, binary: true, timeoutMs: 60_000 });
    if (r.status !== 200) throw fail('thumbnail', r);
    if (!r.contentType?.startsWith('image/')) throw new Error(`thumbnail has Content-Type ${r.contentType}`);
    if (r.bytes === 0 || r.bytes >= op.originalBytes)
      throw new Error(`thumbnail of ${r.bytes} bytes for an original of ${op.originalBytes}: not a thumbnail`);
    bytes.push(r.bytes);
    return r.ms;
  });
  return { ...loop, bytes };
}
