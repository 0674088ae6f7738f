import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerOp } from './worker-protocol.ts';

/**
 * The load generators: node child processes running worker.ts, separate from the
 * server under test and from the orchestrator. Each call sends one operation and
 * resolves with its answer; a worker that dies fails every call waiting on it.
 */

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class LoadWorker {
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly up: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    let markUp: () => void = () => {};
    this.up = new Promise((r) => (markUp = r));
    child.on('message', (msg: { id: number; result?: unknown; error?: string }) => {
      if (msg.id === 0) return markUp();
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(`load worker: ${msg.error}`));
      else p.resolve(msg.result);
    });
    child.on('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`load worker exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  static async start(): Promise<LoadWorker> {
    // `--import tsx` runs the TypeScript worker directly; cwd is the repo so `tsx` resolves.
    const child = fork(join(HERE, 'worker.ts'), [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx', '--max-old-space-size=2048'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const w = new LoadWorker(child);
    await Promise.race([
      w.up,
      new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`load worker failed to start (exit ${code})`)))),
    ]);
    return w;
  }

  call<T>(op: WorkerOp): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...op, id });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** A fixed set of load workers for one run. */
export class WorkerPool {
  private constructor(readonly workers: LoadWorker[]) {}

  static async start(count: number): Promise<WorkerPool> {
    return new WorkerPool(await Promise.all(Array.from({ length: count }, () => LoadWorker.start())));
  }

  get size(): number {
    return this.workers.length;
  }

  /** Splits `items` into one contiguous share per worker (empty shares are dropped). */
  split<T>(items: readonly T[]): Array<{ worker: LoadWorker; items: T[]; offset: number }> {
    const per = Math.ceil(items.length / this.workers.length);
    return this.workers
      .map((worker, i) => ({ worker, items: items.slice(i * per, (i + 1) * per), offset: i * per }))
      .filter((s) => s.items.length > 0);
  }

  /**
   * As `split`, and `total` (requests, say) divided among the shares in proportion to their
   * items: each share's `count`, and `countOffset`, the sum of the counts before it.
   */
  splitCount<T>(
    items: readonly T[],
    total: number,
  ): Array<{ worker: LoadWorker; items: T[]; offset: number; count: number; countOffset: number }> {
    const shares = this.split(items);
    let given = 0;
    return shares.map((s, i) => {
      const count = i === shares.length - 1 ? total - given : Math.round((total * s.items.length) / items.length);
      const countOffset = given;
      given += count;
      return { ...s, count, countOffset };
    });
  }

  first(): LoadWorker {
    return this.workers[0]!;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
