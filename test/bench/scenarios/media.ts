import type { BenchUser, Server } from '../matrix.ts';
import type { Scale } from '../options.ts';
import { median, round, summarize } from '../stats.ts';
import type { LoopResult, ThumbnailResult, UploadResult } from '../worker-protocol.ts';
import type { WorkerPool } from '../workers.ts';

/**
 * media: U users upload concurrently from the load workers (POST /_matrix/media/v3/upload,
 * closed loop) a photo-like JPEG of about 256 KiB made at setup with sharp, each upload's
 * bytes made unique; then the authenticated thumbnail of every upload is fetched once
 * (GET /_matrix/client/v1/media/thumbnail/…?width=96&height=96&method=scale: "cold", the
 * first request for it) and then `warmRounds` more times ("warm", which a server answers
 * from the thumbnail it kept). Reports uploads/s and thumbnails/s with their latencies.
 *
 * Where the work happens differs by server, with their default settings: CommComms makes
 * a thumbnail on its first request; Synapse makes all its configured sizes during the
 * upload (so its upload time includes thumbnailing and its cold request reads one it
 * made then); Dendrite starts making them in the background when the upload is stored.
 *
 * Every upload must answer an mxc URI, and every thumbnail must be an image smaller than
 * the original; anything else fails the scenario.
 */

export interface ThroughputOutcome {
  requests: number;
  seconds: number;
  perSec: number;
  latencyMs: ReturnType<typeof summarize>;
}

export interface MediaOutcome {
  image: { bytes: number; width: number; height: number };
  uploaders: number;
  upload: ThroughputOutcome;
  cold: ThroughputOutcome;
  warm: ThroughputOutcome;
  /** Median size of the thumbnails received. */
  thumbnailBytes: number;
  errors: string[];
  window: { start: number; end: number };
}

const WIDTH = 1024;
const HEIGHT = 768;
const images = new Map<number, Buffer>();

/**
 * A 1024×768 JPEG that looks like a photograph to an encoder (smooth gradients, texture,
 * noise), at the quality whose size comes closest to `targetKiB`. Deterministic.
 */
export async function makeTestJpeg(targetKiB: number): Promise<Buffer> {
  const cached = images.get(targetKiB);
  if (cached) return cached;
  const { default: sharp } = await import('sharp');
  const raw = Buffer.alloc(WIDTH * HEIGHT * 3);
  let seed = 12345;
  const noise = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 60;
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 3;
      const n = noise();
      raw[i] = Math.min(255, (x / WIDTH) * 180 + n);
      raw[i + 1] = Math.min(255, (y / HEIGHT) * 180 + n);
      raw[i + 2] = Math.min(255, 128 + 40 * Math.sin(x / 30) * Math.cos(y / 40) + n);
    }
  }
  let best: Buffer | undefined;
  for (let quality = 50; quality <= 95; quality += 5) {
    const jpeg = await sharp(raw, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
      .jpeg({ quality })
      .toBuffer();
    if (!best || Math.abs(jpeg.length - targetKiB * 1024) < Math.abs(best.length - targetKiB * 1024)) best = jpeg;
  }
  images.set(targetKiB, best!);
  return best!;
}

function throughput(results: LoopResult[]): ThroughputOutcome {
  const latencies = results.flatMap((r) => r.latencies);
  const seconds = (Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start))) / 1000;
  return {
    requests: latencies.length,
    seconds: round(seconds, 2),
    perSec: round(latencies.length / seconds, 1),
    latencyMs: summarize(latencies),
  };
}

/** The authenticated thumbnail path of an mxc URI. */
export function thumbnailPath(mxc: string): string {
  const m = /^mxc:\/\/([^/]+)\/([^/]+)$/.exec(mxc);
  if (!m) throw new Error(`not an mxc URI: ${mxc}`);
  return `/_matrix/client/v1/media/thumbnail/${encodeURIComponent(m[1]!)}/${encodeURIComponent(m[2]!)}?width=96&height=96&method=scale`;
}

export async function runMedia(d: { server: Server; pool: WorkerPool; users: BenchUser[]; scale: Scale['media'] }): Promise<MediaOutcome> {
  const { server, pool, scale } = d;
  if (d.users.length < scale.uploaders) throw new Error(`media needs ${scale.uploaders} users, got ${d.users.length}`);
  const uploaders = d.users.slice(0, scale.uploaders);
  const jpeg = await makeTestJpeg(scale.imageKiB);
  const image = jpeg.toString('base64');
  const timeLimit = 300_000;

  const uploads = await Promise.all(
    pool.split(uploaders.map((u) => u.token)).map((s) =>
      s.worker.call<UploadResult>({
        op: 'media-upload',
        url: server.url,
        tokens: s.items,
        perUploader: scale.uploadsPerUploader,
        uploaderOffset: s.offset,
        image,
        durationMs: timeLimit,
      }),
    ),
  );
  const uris = uploads.flatMap((r) => r.uris);
  const errors = uploads.flatMap((r) => r.errors);
  if (new Set(uris).size !== uris.length) errors.push(`uploads answered ${uris.length - new Set(uris).size} content_uri(s) twice`);

  const fetch = (paths: string[]) => {
    const shares = pool.split(paths);
    const lanes = Math.max(1, Math.ceil(scale.thumbnailConcurrency / shares.length));
    return Promise.all(
      shares.map((s) =>
        s.worker.call<ThumbnailResult>({
          op: 'media-thumbnails',
          url: server.url,
          token: uploaders[0]!.token,
          paths: s.items,
          concurrency: lanes,
          durationMs: timeLimit,
          originalBytes: jpeg.length,
        }),
      ),
    );
  };
  const paths = uris.map(thumbnailPath);
  const cold = paths.length ? await fetch(paths) : [];
  const warmPaths = Array.from({ length: scale.warmRounds }, () => paths).flat();
  const warm = warmPaths.length ? await fetch(warmPaths) : [];
  errors.push(...cold.flatMap((r) => r.errors), ...warm.flatMap((r) => r.errors));

  const all = [...uploads, ...cold, ...warm];
  return {
    image: { bytes: jpeg.length, width: WIDTH, height: HEIGHT },
    uploaders: uploaders.length,
    upload: throughput(uploads),
    cold: throughput(cold),
    warm: throughput(warm),
    thumbnailBytes: median([...cold, ...warm].flatMap((r) => r.bytes)),
    errors,
    window: { start: Math.min(...all.map((r) => r.start)), end: Math.max(...all.map((r) => r.end)) },
  };
}
