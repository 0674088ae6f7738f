import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from './config-error.ts';
import { generateConfigYaml, isLoopback } from './generate.ts';
import { configSchema, type FileConfig } from './schema.ts';

/** The validated configuration with every path made absolute. */
export type Config = FileConfig & { config_path: string; public_baseurl: string };

export interface LoadOptions {
  /** From --config; falls back to COMMCOMMS_CONFIG, then <data dir>/homeserver.yaml. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Write a config if none exists (npm start does; tools that only read do not). */
  generateIfMissing?: boolean;
}

/** The only place that reads the environment. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const envDataDir = env.COMMCOMMS_DATA_DIR ? resolve(env.COMMCOMMS_DATA_DIR) : undefined;
  const configPath = resolve(opts.configPath ?? env.COMMCOMMS_CONFIG ?? resolve(envDataDir ?? 'data', 'homeserver.yaml'));

  if (!existsSync(configPath)) {
    if (!opts.generateIfMissing) throw new ConfigError('config', `no config file at ${configPath}`);
    mkdirSync(dirname(configPath), { recursive: true });
    writeFileSync(
      configPath,
      generateConfigYaml({
        serverName: env.COMMCOMMS_SERVER_NAME ?? 'localhost',
        port: env.COMMCOMMS_PORT ? Number(env.COMMCOMMS_PORT) : 8008,
        bindAddress: '127.0.0.1',
      }),
      { mode: 0o600 },
    );
  }

  let raw: unknown;
  try {
    raw = parse(readFileSync(configPath, 'utf8')) ?? {};
  } catch (e) {
    throw new ConfigError(configPath, `not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(configPath, 'must be a YAML mapping');
  }
  const doc = applyEnv(raw as Record<string, unknown>, env, envDataDir);

  const parsed = configSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(issue?.path.join('.') || 'config', issue?.message ?? 'invalid');
  }
  const cfg = parsed.data;
  const base = dirname(configPath);
  const dataDir = resolve(base, cfg.data_dir);
  const listener = cfg.listeners[0]!;
  const config: Config = {
    ...cfg,
    config_path: configPath,
    data_dir: dataDir,
    signing_key_path: resolve(dataDir, cfg.signing_key_path),
    media: { ...cfg.media, store_dir: resolve(dataDir, cfg.media.store_dir) },
    public_baseurl: withSlash(cfg.public_baseurl ?? `http://${hostFor(listener.bind_addresses[0]!)}:${listener.port}/`),
  };
  checkSemantics(config);
  return config;
}

function applyEnv(doc: Record<string, unknown>, env: NodeJS.ProcessEnv, envDataDir: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc };
  const section = (key: string): Record<string, unknown> => {
    const v = out[key];
    const obj = v && typeof v === 'object' && !Array.isArray(v) ? { ...(v as Record<string, unknown>) } : {};
    out[key] = obj;
    return obj;
  };
  if (env.COMMCOMMS_SERVER_NAME) out.server_name = env.COMMCOMMS_SERVER_NAME;
  if (envDataDir) out.data_dir = envDataDir;
  if (env.COMMCOMMS_PORT !== undefined && env.COMMCOMMS_PORT !== '') {
    const port = Number(env.COMMCOMMS_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('COMMCOMMS_PORT', 'must be a port number');
    const listeners = Array.isArray(out.listeners) && out.listeners.length > 0 ? [...(out.listeners as unknown[])] : [{}];
    listeners[0] = { ...(listeners[0] as Record<string, unknown>), port };
    out.listeners = listeners;
  }
  // Configs generated before the media section named the store `media_store_path`.
  if (typeof doc.media_store_path === 'string') section('media').store_dir ??= doc.media_store_path;
  if (env.DATABASE_URL) section('database').url = env.DATABASE_URL;
  if (env.REDIS_URL) section('redis').url = env.REDIS_URL;
  if (env.NEO4J_URL) section('neo4j').url = env.NEO4J_URL;
  if (env.TEMPORAL_ADDRESS) section('temporal').address = env.TEMPORAL_ADDRESS;
  return out;
}

function checkSemantics(c: Config): void {
  const publicBind = c.listeners.some((l) => l.bind_addresses.some((a) => !isLoopback(a)));
  if (c.registration.enabled && c.registration.open && publicBind && !c.registration.open_on_public_address) {
    throw new ConfigError(
      'registration.open',
      'open registration on a non-loopback address lets anyone create accounts; set registration.open_on_public_address: true to allow it, or use registration tokens',
    );
  }
  const ports = c.listeners.map((l) => l.port);
  if (new Set(ports).size !== ports.length) throw new ConfigError('listeners', 'two listeners use the same port');
}

/** Below this a shared secret can be guessed; test suites (Complement: `complement`) still use one. */
export const SHORT_SHARED_SECRET = 16;

/**
 * What is allowed but probably a mistake, for the server to log at start-up: refusing to
 * start would break test harnesses that configure such values on purpose.
 */
export function configWarnings(c: Config): string[] {
  const warnings: string[] = [];
  const secret = c.registration.shared_secret;
  if (secret !== null && secret.length < SHORT_SHARED_SECRET) {
    warnings.push(
      `registration.shared_secret is shorter than ${SHORT_SHARED_SECRET} characters: anyone who guesses it can create admin accounts`,
    );
  }
  return warnings;
}

function hostFor(bind: string): string {
  if (bind === '0.0.0.0' || bind === '::') return '127.0.0.1';
  return bind.includes(':') ? `[${bind}]` : bind;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
