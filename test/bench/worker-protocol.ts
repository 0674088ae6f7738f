/** Messages between the orchestrator (workers.ts) and a load-generator process (worker.ts). */

export interface Sender {
  token: string;
  roomId: string;
}

export interface SyncFilter {
  [key: string]: unknown;
}

export interface ClaimedDevice {
  userId: string;
  deviceId: string;
}

export type WorkerOp =
  | {
      op: 'send';
      url: string;
      senders: Sender[];
      durationMs: number;
      maxRequests: number;
      /** Word-list messages (search-text.ts) from a PRNG seeded per sender, counting those holding each `track` word. */
      text?: { seed: number; track: string[] };
    }
  /** keys-claim: every claimer claims a one-time key of every device, back to back, `claims` in all. */
  | { op: 'keys-claim'; url: string; tokens: string[]; devices: ClaimedDevice[]; claims: number; claimOffset: number; durationMs: number }
  /** media: each uploader uploads `perUploader` copies of the image, each made unique. */
  | {
      op: 'media-upload';
      url: string;
      tokens: string[];
      perUploader: number;
      uploaderOffset: number;
      /** base64 of a JPEG. */
      image: string;
      durationMs: number;
    }
  /** media: GET each path (an authenticated thumbnail), `concurrency` at a time. */
  | { op: 'media-thumbnails'; url: string; token: string; paths: string[]; concurrency: number; durationMs: number; originalBytes: number }
  | {
      op: 'fanout-start';
      url: string;
      runId: string;
      roomId: string;
      /** Access tokens, one per long-polling client. */
      clients: string[];
      /** Index of this worker's first client among all clients. */
      clientOffset: number;
      filter: SyncFilter;
      pollTimeoutMs: number;
    }
  | { op: 'fanout-wait'; url: string; runId: string; seq: number; timeoutMs: number }
  | { op: 'fanout-stop'; url: string; runId: string }
  /** This worker's connection-reset counts since the last ask (http.ts takeResetStats). */
  | { op: 'http-stats'; url: string }
  | {
      op: 'requests';
      url: string;
      requests: Array<{ method: string; path: string; token?: string; body?: unknown; sinceFromPrevious?: boolean; keepBody?: boolean }>;
    };

/** A timed closed loop: every request's latency, the first errors, and when it ran (monotonic ms). */
export interface LoopResult {
  latencies: number[];
  errors: string[];
  start: number;
  end: number;
}

export interface SendResult extends LoopResult {
  /** With `text`: how many of the messages sent (200) hold each tracked word. */
  tracked?: Record<string, number>;
}

export interface KeysClaimResult extends LoopResult {
  /** One row per key handed out: which claim (global index), which device (index into `devices`), the key id and its `key`. */
  got: Array<[claim: number, device: number, keyId: string, key: string]>;
  /** The (global) index of every claim answered 200. */
  answered: number[];
}

export interface UploadResult extends LoopResult {
  /** The content_uri of every upload, in no particular order. */
  uris: string[];
}

export interface ThumbnailResult extends LoopResult {
  /** Size of each thumbnail received. */
  bytes: number[];
}

export interface FanoutStartResult {
  ready: number;
  errors: string[];
}

export interface FanoutWaitResult {
  complete: boolean;
  have: number;
  errors: string[];
}

export interface FanoutStopResult {
  deliveries: Array<[client: number, seq: number, at: number]>;
  /** Long-poll responses the clients got after their initial sync (timeouts and wake-ups). */
  polls: number;
  errors: string[];
}

export interface TimedReply {
  status: number;
  ms: number;
  bytes: number;
  nextBatch?: string;
  body?: unknown;
}
