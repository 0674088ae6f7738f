import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monoMs } from '../http.ts';
import { CACHE_DIR } from '../options.ts';

/**
 * Installs Dendrite for the bench: `go install github.com/matrix-org/dendrite/cmd/...@vX`
 * from the Go module proxy into a bin directory in the cache (built once, a few minutes on
 * two cores; later runs reuse it). Nothing of Dendrite is kept in this repository. Run on
 * its own to install ahead of time: `npx tsx test/bench/dendrite/setup.ts`.
 */

/** Pinned so figures stay comparable between runs; BENCH_DENDRITE_VERSION overrides it. */
export const DENDRITE_VERSION = process.env.BENCH_DENDRITE_VERSION ?? '0.13.8';
export const DENDRITE_BIN = join(CACHE_DIR, `dendrite-${DENDRITE_VERSION}`, 'bin');
const TOOLS = ['dendrite', 'generate-config', 'generate-keys'] as const;

export type DendriteInstall = { ok: true; bin: string; version: string; installMs: number } | { ok: false; reason: string };

function goBinary(): string | undefined {
  const candidates = [process.env.BENCH_GO, '/usr/local/go/bin/go', 'go'].filter((c): c is string => !!c);
  return candidates.find((c) => spawnSync(c, ['version'], { encoding: 'utf8', timeout: 30_000 }).status === 0);
}

const installed = () => TOOLS.every((t) => existsSync(join(DENDRITE_BIN, t)));

/** The bin directory holding dendrite and its tools, building them the first time; never throws. */
export function ensureDendrite(log: (s: string) => void): DendriteInstall {
  if (installed()) return { ok: true, bin: DENDRITE_BIN, version: DENDRITE_VERSION, installMs: 0 };
  const go = goBinary();
  if (!go) return { ok: false, reason: 'no Go toolchain (looked for $BENCH_GO, /usr/local/go/bin/go, go on PATH)' };
  const started = monoMs();
  mkdirSync(DENDRITE_BIN, { recursive: true });
  const pkgs = TOOLS.map((t) => `github.com/matrix-org/dendrite/cmd/${t}@v${DENDRITE_VERSION}`);
  log(`go install ${pkgs.join(' ')} (first run only; a few minutes)`);
  const r = spawnSync(go, ['install', ...pkgs], {
    encoding: 'utf8',
    timeout: 1_800_000,
    env: { ...process.env, GOBIN: DENDRITE_BIN, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false' },
  });
  const logFile = join(CACHE_DIR, 'dendrite-go-install.log');
  writeFileSync(logFile, `${r.stdout}\n${r.stderr}`);
  if (r.status !== 0 || !installed()) {
    const tail = (r.stderr || String(r.error)).trim().split('\n').slice(-8).join('\n');
    return { ok: false, reason: `go install failed (see ${logFile}): ${tail}` };
  }
  const installMs = monoMs() - started;
  log(`Dendrite ${DENDRITE_VERSION} built in ${(installMs / 1000).toFixed(0)} s`);
  return { ok: true, bin: DENDRITE_BIN, version: DENDRITE_VERSION, installMs };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = ensureDendrite((s) => console.log(`[dendrite] ${s}`));
  console.log(r.ok ? `[dendrite] ready: Dendrite ${r.version} in ${r.bin}` : `[dendrite] unavailable: ${r.reason}`);
  process.exit(r.ok ? 0 : 1);
}
