/** Messages between the orchestrator (workers.ts) and a load-generator process (worker.ts). */

export interface Sender {
  token: string;
  roomId: string;
}

export interface SyncFilter {
  [key: string]: unknown;
}

export type WorkerOp =
  | { op: 'send'; url: string; senders: Sender[]; durationMs: number; maxRequests: number }
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

export interface SendResult {
  latencies: number[];
  errors: string[];
  start: number;
  end: number;
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
