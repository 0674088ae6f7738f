import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDatabase } from './homeserver.ts';
import { copyTemplate } from './pglite-template.ts';

/**
 * A homeserver run as its own process, started the way `npm start` starts it
 * (`bin/commcomms.mjs start`, with the Node flags of its first line, COMMCOMMS_DATA_DIR and COMMCOMMS_PORT), so tests
 * can crash it, signal it and start it again on the same data. On the postgres leg
 * (COMMCOMMS_TEST_DB=postgres) it gets a scratch database through DATABASE_URL.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LAUNCHER = join(ROOT, 'bin', 'commcomms.mjs');
const KEEP_LINES = 300;

export interface SpawnOptions {
  /** Reuse a data dir (default: a fresh temporary one, removed by dispose()). */
  dataDir?: string;
  port?: number;
  /** Extra environment for the server (on top of a scrubbed copy of ours). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /**
   * On the pglite leg, start from the migrated template the test run made
   * (test/support/pglite-template.ts) instead of running initdb in a fresh data dir.
   * Leave it off to test a first start exactly as a user gets it.
   */
  fromTemplate?: boolean;
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A free loopback port (asked of the kernel, then released for the server to bind). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Settings from the developer's shell must not leak into a server a test starts. */
function scrubbedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('COMMCOMMS_') || ['DATABASE_URL', 'REDIS_URL', 'NEO4J_URL', 'TEMPORAL_ADDRESS'].includes(k)) continue;
    env[k] = v;
  }
  return env;
}

function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SpawnedServer {
  child: ChildProcess | undefined;
  private lines: string[] = [];
  private exited: Promise<ServerExit> = Promise.resolve({ code: null, signal: null });

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly readyTimeoutMs: number,
    private readonly cleanup: () => Promise<void>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The last lines the server printed (stdout and stderr), for failure messages. */
  output(): string {
    return this.lines.join('\n');
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  static async spawn(opts: SpawnOptions = {}): Promise<SpawnedServer> {
    const ownDir = !opts.dataDir;
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'commcomms-spawned-'));
    const port = opts.port ?? (await freePort());
    const db = await scratchDatabase();
    if (!db && opts.fromTemplate) copyTemplate(dataDir);
    const env: NodeJS.ProcessEnv = {
      ...scrubbedEnv(),
      COMMCOMMS_DATA_DIR: dataDir,
      COMMCOMMS_PORT: String(port),
      ...(db ? { DATABASE_URL: db.url } : {}),
      ...opts.env,
    };
    const server = new SpawnedServer(dataDir, port, env, opts.readyTimeoutMs ?? 90_000, async () => {
      await db?.drop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    });
    try {
      await server.start();
    } catch (err) {
      await server.dispose();
      throw err;
    }
    return server;
  }

  /** Starts the process (again, on the same data dir and port) and waits until it answers. */
  async start(): Promise<void> {
    if (this.running) throw new Error('server is already running');
    this.lines = [];
    // Its own process group, so dispose() also takes down a child it may have (PGlite's initdb).
    const child = spawn(LAUNCHER, ['start'], {
      cwd: ROOT,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(line);
      if (this.lines.length > KEEP_LINES) this.lines.splice(0, this.lines.length - KEEP_LINES);
      if (process.env.COMMCOMMS_TEST_LOG) process.stderr.write(chunk);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    await this.waitReady();
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      if (!this.running) {
        const exit = await this.exited;
        throw new Error(`homeserver exited before it was ready (${JSON.stringify(exit)}):\n${this.output()}`);
      }
      try {
        const res = await fetch(`${this.url}/_matrix/client/versions`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = err;
      }
      await sleep(100);
    }
    throw new Error(`homeserver not ready after ${this.readyTimeoutMs} ms (last: ${String(last)}):\n${this.output()}`);
  }

  /**
   * Sends `signal` and waits for the process to end. SIGKILL is a crash: no handler runs,
   * and whatever the server had started in its group goes with it.
   */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<ServerExit> {
    const child = this.child;
    if (!child?.pid || !this.running) return this.exited;
    process.kill(child.pid, signal);
    const exit = await this.exited;
    if (signal === 'SIGKILL') await this.killGroup();
    return exit;
  }

  /** The exit of the current process, whenever it comes. */
  exit(): Promise<ServerExit> {
    return this.exited;
  }

  /** SIGTERM (or `signal`), wait for exit, then start again on the same data dir and port. */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<ServerExit> {
    const exit = await this.kill(signal);
    await this.start();
    return exit;
  }

  /** Whatever is left of the process group is killed, and waited for until it is gone. */
  private async killGroup(): Promise<void> {
    const pid = this.child?.pid;
    if (!pid) return;
    const members = [pid, ...childPids(pid)];
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* the group is already gone */
    }
    await this.exited;
    for (let i = 0; i < 200 && members.some(running); i++) await sleep(50);
  }

  /** Stops the server for good (SIGKILL to the whole group if still up) and removes its data and database. */
  async dispose(): Promise<void> {
    await this.killGroup();
    await this.cleanup();
  }
}

export const spawnServer = (opts?: SpawnOptions): Promise<SpawnedServer> => SpawnedServer.spawn(opts);
