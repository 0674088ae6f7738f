import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { MatrixError } from '../../http/matrix-error.ts';

/** Where some bytes were stored: their sha256 (hex), which names the file, and their length. */
export interface StoredFile {
  sha256: string;
  size: number;
}

/**
 * Files named by the sha256 of their bytes under `<dir>/content/ab/cd/<sha256>`, so the
 * same bytes are kept once however often they are uploaded. Bytes arrive in a temp file
 * under `<dir>/tmp/`, on the same filesystem, and are renamed into place only once whole:
 * a reader never sees half a file, and an upload that fails leaves nothing behind.
 */
export function createFileStore(dir: string) {
  const tmpDir = join(dir, 'tmp');
  const pathOf = (sha256: string): string => join(dir, 'content', sha256.slice(0, 2), sha256.slice(2, 4), sha256);

  async function tempFile(): Promise<{ path: string; file: FileHandle }> {
    await mkdir(tmpDir, { recursive: true });
    const path = join(tmpDir, `${randomBytes(12).toString('hex')}.part`);
    return { path, file: await open(path, 'wx', 0o600) };
  }

  /** Moves a finished temp file to its content name (or drops it: those bytes are already there). */
  async function place(tmp: string, sha256: string): Promise<void> {
    const final = pathOf(sha256);
    if (await exists(final)) {
      await rm(tmp, { force: true });
      return;
    }
    await mkdir(join(final, '..'), { recursive: true });
    await rename(tmp, final);
  }

  /** Writes the temp file with `write`, then places it; on any failure the temp file goes. */
  async function storeVia(write: (file: FileHandle, hash: ReturnType<typeof createHash>) => Promise<number>): Promise<StoredFile> {
    const { path, file } = await tempFile();
    let isOpen = true;
    try {
      const hash = createHash('sha256');
      const size = await write(file, hash);
      // On disk before a row names it: a crash must not leave a row pointing at a torn file.
      await file.datasync();
      await file.close();
      isOpen = false;
      const sha256 = hash.digest('hex');
      await place(path, sha256);
      return { sha256, size };
    } catch (err) {
      if (isOpen) await file.close().catch(() => {});
      await rm(path, { force: true });
      throw err;
    }
  }

  return {
    /**
     * Streams a request body to the store, refusing it (413 M_TOO_LARGE) once it passes
     * `maxBytes`. A client that goes away mid-upload aborts `signal`: the read stops and
     * the temp file is removed.
     */
    receive(body: ReadableStream<Uint8Array> | null, opts: { maxBytes: number; signal: AbortSignal }): Promise<StoredFile> {
      return storeVia(async (file, hash) => {
        if (!body) return 0;
        const reader = body.getReader();
        // A cancelled read resolves as done: the signal is checked again after the loop.
        const stop = () => void reader.cancel().catch(() => {});
        opts.signal.addEventListener('abort', stop, { once: true });
        let size = 0;
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            size += value.byteLength;
            if (size > opts.maxBytes) throw tooLarge(opts.maxBytes);
            hash.update(value);
            await writeAll(file, value);
          }
        } finally {
          opts.signal.removeEventListener('abort', stop);
        }
        if (opts.signal.aborted) throw new MatrixError(400, 'M_UNKNOWN', 'The upload was interrupted');
        return size;
      });
    },

    /** Stores bytes made here (thumbnails). */
    put(bytes: Uint8Array): Promise<StoredFile> {
      return storeVia(async (file, hash) => {
        hash.update(bytes);
        await writeAll(file, bytes);
        return bytes.byteLength;
      });
    },

    path: pathOf,

    /** The stored bytes, or undefined when the file is missing (a store restored without it). */
    async read(sha256: string): Promise<ReadStream | undefined> {
      const path = pathOf(sha256);
      if (!(await exists(path))) return undefined;
      return createReadStream(path);
    },

    /** Temp files of uploads cut short by a crash; a live upload's file is younger than `olderThanMs`. */
    async sweepTemp(olderThanMs: number, now = Date.now()): Promise<number> {
      let names: string[];
      try {
        names = await readdir(tmpDir);
      } catch {
        return 0;
      }
      let removed = 0;
      for (const name of names) {
        const path = join(tmpDir, name);
        const info = await stat(path).catch(() => undefined);
        if (info && now - info.mtimeMs > olderThanMs) {
          await rm(path, { force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}

export type FileStore = ReturnType<typeof createFileStore>;

export const tooLarge = (maxBytes: number): MatrixError => new MatrixError(413, 'M_TOO_LARGE', `Uploads are limited to ${maxBytes} bytes`);

async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
