import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monoMs } from '../http.ts';
import { CACHE_DIR } from '../options.ts';

/**
 * Installs Synapse for the bench: a virtualenv outside the repo (cached between runs)
 * with `pip install matrix-synapse psycopg2-binary` from PyPI. Run on its own to
 * install ahead of time: `npx tsx test/bench/synapse/setup.ts`.
 */

export const VENV = join(CACHE_DIR, 'synapse-venv');
/** Pinned so figures stay comparable between runs; BENCH_SYNAPSE_VERSION overrides it. */
export const SYNAPSE_VERSION = process.env.BENCH_SYNAPSE_VERSION ?? '1.163.2';
export const PYTHON = join(VENV, 'bin', 'python');

export type SynapseInstall = { ok: true; python: string; version: string; installMs: number } | { ok: false; reason: string };

function installedVersion(): string | undefined {
  if (!existsSync(PYTHON)) return undefined;
  const r = spawnSync(PYTHON, ['-c', 'import synapse, psycopg2; print(synapse.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The venv's python with Synapse in it, installing it the first time (minutes); never throws. */
export function ensureSynapse(log: (s: string) => void): SynapseInstall {
  const have = installedVersion();
  if (have === SYNAPSE_VERSION) return { ok: true, python: PYTHON, version: have, installMs: 0 };
  const started = monoMs();
  mkdirSync(CACHE_DIR, { recursive: true });
  const python3 = process.env.BENCH_PYTHON ?? 'python3';
  if (!existsSync(PYTHON)) {
    log(`creating a virtualenv at ${VENV}`);
    const v = spawnSync(python3, ['-m', 'venv', VENV], { encoding: 'utf8', timeout: 300_000 });
    if (v.status !== 0) return { ok: false, reason: `${python3} -m venv failed: ${(v.stderr || String(v.error)).trim().slice(-400)}` };
  }
  log(`pip install matrix-synapse==${SYNAPSE_VERSION} psycopg2-binary (first run only; takes a minute or two)`);
  const pip = spawnSync(
    PYTHON,
    ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', `matrix-synapse==${SYNAPSE_VERSION}`, 'psycopg2-binary'],
    {
      encoding: 'utf8',
      timeout: 900_000,
    },
  );
  writeFileSync(join(CACHE_DIR, 'pip-install.log'), `${pip.stdout}\n${pip.stderr}`);
  if (pip.status !== 0) {
    return {
      ok: false,
      reason: `pip install failed (see ${join(CACHE_DIR, 'pip-install.log')}): ${(pip.stderr || String(pip.error)).trim().slice(-400)}`,
    };
  }
  const version = installedVersion();
  if (!version) return { ok: false, reason: 'Synapse installed but `import synapse, psycopg2` fails' };
  const installMs = monoMs() - started;
  log(`Synapse ${version} installed in ${(installMs / 1000).toFixed(0)} s`);
  return { ok: true, python: PYTHON, version, installMs };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = ensureSynapse((s) => console.log(`[synapse] ${s}`));
  console.log(r.ok ? `[synapse] ready: Synapse ${r.version} at ${r.python}` : `[synapse] unavailable: ${r.reason}`);
  process.exit(r.ok ? 0 : 1);
}
