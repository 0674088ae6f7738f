import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { monoMs, sleep } from '../http.ts';

/** A server process the bench started: its output tail, readiness and a clean stop. */
export class ServerProcess {
  private lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.lines.push(line);
      if (this.lines.length > 200) this.lines.splice(0, this.lines.length - 200);
      if (process.env.BENCH_SERVER_LOG) process.stderr.write(chunk);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static spawn(command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): ServerProcess {
    return new ServerProcess(spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.lines.join('\n');
  }

  /** Polls /_matrix/client/versions until it answers 200; returns how long that took. */
  async waitReady(url: string, timeoutMs: number): Promise<number> {
    const started = monoMs();
    let last = '';
    while (monoMs() - started < timeoutMs) {
      if (!this.running) throw new Error(`server exited before it was ready (${JSON.stringify(await this.exited)}):\n${this.output()}`);
      try {
        const res = await fetch(`${url}/_matrix/client/versions`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return monoMs() - started;
        last = `HTTP ${res.status}`;
      } catch (e) {
        last = String(e);
      }
      await sleep(100);
    }
    throw new Error(`server not ready after ${timeoutMs} ms (${last}):\n${this.output()}`);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A free loopback port (asked of the kernel, then released for the server to bind). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The environment without the developer's CommComms/database settings. */
export function scrubbedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('COMMCOMMS_') || ['DATABASE_URL', 'REDIS_URL', 'NEO4J_URL', 'TEMPORAL_ADDRESS', 'NODE_OPTIONS'].includes(k)) continue;
    env[k] = v;
  }
  return env;
}
