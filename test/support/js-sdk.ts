import { ClientEvent, MatrixError, SyncState, type MatrixClient } from 'matrix-js-sdk';
import type { Logger } from 'matrix-js-sdk/lib/logger.js';

/**
 * What the matrix-js-sdk end-to-end suites share. Importing it also gives Node 20 the
 * Promise.withResolvers (ES2024) that matrix-js-sdk 37 queues its sends with: it targets
 * Node 22+ and browsers.
 */
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** A client logger that says nothing (the SDK logs every request otherwise). */
export const quietLogger: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, getChild: () => quietLogger };

/** Runs `fn`, which must fail with a MatrixError; returns it. */
export async function matrixError(fn: () => Promise<unknown>): Promise<MatrixError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof MatrixError) return err;
    throw err;
  }
  throw new Error('expected the request to fail');
}

/** Starts the client and resolves once its first sync is PREPARED (rejects on a sync error other than 429). */
export async function startPrepared(client: MatrixClient): Promise<void> {
  const prepared = new Promise<void>((resolve, reject) => {
    const onSync = (state: SyncState, _prev: SyncState | null, data?: { error?: Error }) => {
      if (state === SyncState.Prepared) {
        client.off(ClientEvent.Sync, onSync);
        resolve();
      } else if (state === SyncState.Error && data?.error instanceof MatrixError && data.error.httpStatus !== 429) {
        client.off(ClientEvent.Sync, onSync);
        reject(data.error);
      }
    };
    client.on(ClientEvent.Sync, onSync);
  });
  await client.startClient({ initialSyncLimit: 20 });
  await prepared;
}
