import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { parse, stringify } from 'yaml';
import { generateConfigYaml } from '../../server/config/generate.ts';
import { loadConfig, type Config } from '../../server/config/load.ts';
import { startHomeserver, type Homeserver } from '../../server/main.ts';
import { copyTemplate } from './pglite-template.ts';

/**
 * Which database leg this test run is: vitest's projects set COMMCOMMS_TEST_DB.
 * The postgres leg creates a fresh database per server from COMMCOMMS_TEST_DATABASE_URL.
 */
export const TEST_DB = (process.env.COMMCOMMS_TEST_DB ?? 'pglite') as 'pglite' | 'postgres';

export const SHARED_SECRET = 'test-shared-secret-0123456789abcdef';

export interface TestHomeserver {
  url: string;
  config: Config;
  dataDir: string;
  hs: Homeserver;
  /** Stop and start again on the same data (and database), running `whileStopped` in between (e.g. to change the database). */
  restart(whileStopped?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? merge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Creates a scratch database on the PostgreSQL leg and returns its URL plus a dropper. */
export async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  if (TEST_DB !== 'postgres') return undefined;
  const admin = process.env.COMMCOMMS_TEST_DATABASE_URL;
  if (!admin) throw new Error('COMMCOMMS_TEST_DB=postgres needs COMMCOMMS_TEST_DATABASE_URL');
  const name = `cc_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe(`create database ${name}`);
  await sql.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const s = postgres(admin, { max: 1, onnotice: () => {} });
      await s.unsafe(`drop database if exists ${name} with (force)`);
      await s.end();
    },
  };
}

export interface TestServerOptions {
  /**
   * Another process of the same deployment: share this server's PostgreSQL database
   * (and signing key) instead of a scratch database of its own. The postgres leg only;
   * the server that made the database drops it.
   */
  sameDeploymentAs?: TestHomeserver;
}

/** Writes a config for a test server (port 0, quiet logs, generous rate limits) and returns its path. */
export async function writeTestConfig(
  overrides: DeepPartial<Record<string, unknown>> = {},
  opts: TestServerOptions = {},
): Promise<{ dataDir: string; configPath: string; dropDb?: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'commcomms-test-'));
  const peer = opts.sameDeploymentAs;
  if (peer && !peer.config.database.url) throw new Error('sameDeploymentAs needs a PostgreSQL database (the postgres leg)');
  const db = peer ? undefined : await scratchDatabase();
  if (peer) {
    overrides = merge(
      { database: { url: peer.config.database.url }, server_name: peer.config.server_name, signing_key_path: peer.config.signing_key_path },
      overrides as Record<string, unknown>,
    ) as DeepPartial<Record<string, unknown>>;
  }
  const base = parse(generateConfigYaml({ serverName: 'localhost', port: 0, bindAddress: '127.0.0.1' })) as Record<string, unknown>;
  const doc = merge(
    merge(base, {
      database: { url: db?.url ?? null },
      registration: { open: true, shared_secret: SHARED_SECRET },
      rate_limits: {
        login: { per_second: 1000, burst_count: 1000 },
        register: { per_second: 1000, burst_count: 1000 },
        message: { per_second: 1000, burst_count: 1000 },
      },
      logging: { level: process.env.COMMCOMMS_TEST_LOG ?? 'silent' },
    }),
    overrides as Record<string, unknown>,
  );
  if (!db && !peer) copyTemplate(dataDir);
  const configPath = join(dataDir, 'homeserver.yaml');
  writeFileSync(configPath, stringify(doc));
  return { dataDir, configPath, ...(db ? { dropDb: db.drop } : {}) };
}

export async function startTestHomeserver(
  overrides: DeepPartial<Record<string, unknown>> = {},
  opts: TestServerOptions = {},
): Promise<TestHomeserver> {
  const { dataDir, configPath, dropDb } = await writeTestConfig(overrides, opts);
  const config = loadConfig({ configPath, env: {} });
  let hs = await startHomeserver(config);
  // Keep the same port across restarts so clients holding the URL keep working.
  const port = Number(new URL(hs.url).port);
  const t: TestHomeserver = {
    url: hs.url,
    config,
    dataDir,
    hs,
    async restart(whileStopped) {
      await hs.close();
      await whileStopped?.();
      hs = await startHomeserver({ ...config, listeners: config.listeners.map((l) => ({ ...l, port })) });
      t.hs = hs;
    },
    async close() {
      await hs.close();
      await dropDb?.();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}
