import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { configWarnings, loadConfig, type Config } from './load.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'commcomms-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes homeserver.yaml into the scratch directory; returns its path. */
function write(yaml: string, name = 'homeserver.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

const MINIMAL = 'server_name: example.org\nlisteners:\n  - port: 8008\n    bind_addresses: ["127.0.0.1"]\n';

/** Loads and expects a ConfigError: one line, naming the key. */
function configError(load: () => Config, key: string): ConfigError {
  let caught: unknown;
  try {
    load();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const err = caught as ConfigError;
  expect(err.key).toBe(key);
  expect(err.message).not.toContain('\n');
  expect(err.message).toContain(key);
  return err;
}

describe('loadConfig: a valid file', () => {
  it('fills defaults and makes paths absolute, relative to the config file', () => {
    const c = loadConfig({ configPath: write(MINIMAL), env: {} });
    expect(c.server_name).toBe('example.org');
    expect(c.config_path).toBe(join(dir, 'homeserver.yaml'));
    expect(c.data_dir).toBe(dir);
    expect(c.signing_key_path).toBe(join(dir, 'signing.key'));
    expect(c.media.store_dir).toBe(join(dir, 'media'));
    expect(c.media.max_upload_bytes).toBe(50 * 1024 * 1024);
    expect(c.media.url_preview.enabled).toBe(false);
    expect(c.public_baseurl).toBe('http://127.0.0.1:8008/');
    expect(c.database.url).toBeNull();
    expect(c.registration.open).toBe(false);
    expect(c.max_request_body_bytes).toBe(2 * 1024 * 1024);
    expect(c.rate_limits.login).toEqual({ per_second: 0.17, burst_count: 3 });
  });

  it('reads the media store from media.store_dir, or from the older top-level media_store_path', () => {
    expect(loadConfig({ configPath: write(`${MINIMAL}media:\n  store_dir: files\n`), env: {} }).media.store_dir).toBe(join(dir, 'files'));
    expect(loadConfig({ configPath: write(`${MINIMAL}media_store_path: old\n`), env: {} }).media.store_dir).toBe(join(dir, 'old'));
  });

  it('open registration on 0.0.0.0 is allowed with the explicit opt-in, and closed registration needs none', () => {
    const base = 'server_name: example.org\nlisteners:\n  - port: 8008\n    bind_addresses: ["0.0.0.0"]\n';
    expect(
      loadConfig({ configPath: write(`${base}registration:\n  open: true\n  open_on_public_address: true\n`), env: {} }).registration.open,
    ).toBe(true);
    expect(loadConfig({ configPath: write(`${base}registration:\n  open: false\n`), env: {} }).registration.open).toBe(false);
    // public_baseurl for a wildcard bind points at loopback, not at 0.0.0.0.
    expect(loadConfig({ configPath: write(base), env: {} }).public_baseurl).toBe('http://127.0.0.1:8008/');
  });
});

describe('configWarnings: allowed, but logged at start-up', () => {
  it("a short shared secret (Complement's `complement`) loads, with a warning", () => {
    const c = loadConfig({ configPath: write(`${MINIMAL}registration:\n  shared_secret: complement\n`), env: {} });
    expect(c.registration.shared_secret).toBe('complement');
    expect(configWarnings(c)).toEqual([expect.stringMatching(/^registration\.shared_secret is shorter than 16 characters/)]);
  });

  it('a long shared secret, or none, gives no warning', () => {
    const long = loadConfig({ configPath: write(`${MINIMAL}registration:\n  shared_secret: "0123456789abcdef"\n`), env: {} });
    expect(configWarnings(long)).toEqual([]);
    expect(configWarnings(loadConfig({ configPath: write(MINIMAL), env: {} }))).toEqual([]);
  });
});

describe('loadConfig: a bad config is one ConfigError line naming the key', () => {
  it.each([
    ['a port that is a string', 'listeners:\n  - port: eighty\n', 'listeners.0.port'],
    ['a port out of range', 'listeners:\n  - port: 70000\n', 'listeners.0.port'],
    ['a body limit that is not a number', 'max_request_body_bytes: big\n', 'max_request_body_bytes'],
    ['a section that is not a mapping', 'registration: yes\n', 'registration'],
    ['a negative rate', 'rate_limits:\n  login: { per_second: -1, burst_count: 3 }\n', 'rate_limits.login.per_second'],
    ['an unknown log level', 'logging: { level: loud }\n', 'logging.level'],
    ['a database URL that is not postgres', 'database: { url: "mysql://x/y" }\n', 'database.url'],
    ['a malformed registration token', 'registration:\n  tokens: [{ token: "has space" }]\n', 'registration.tokens.0.token'],
    ['an empty shared secret', 'registration:\n  shared_secret: ""\n', 'registration.shared_secret'],
  ])('%s', (_what, yaml, key) => {
    configError(() => loadConfig({ configPath: write(`server_name: example.org\n${yaml}`), env: {} }), key);
  });

  it.each(['not a name!', 'under_score.org', '', 'host:port'])('server_name %j', (name) => {
    configError(() => loadConfig({ configPath: write(`server_name: ${JSON.stringify(name)}\n`), env: {} }), 'server_name');
  });

  it('open registration on 0.0.0.0 without the opt-in', () => {
    const path = write(
      'server_name: example.org\nlisteners:\n  - port: 8008\n    bind_addresses: ["0.0.0.0"]\nregistration:\n  open: true\n',
    );
    const err = configError(() => loadConfig({ configPath: path, env: {} }), 'registration.open');
    expect(err.message).toContain('open_on_public_address');
  });

  it('two listeners on one port', () => {
    const path = write('server_name: example.org\nlisteners:\n  - port: 8008\n  - port: 8008\n');
    configError(() => loadConfig({ configPath: path, env: {} }), 'listeners');
  });

  it('YAML that does not parse names the file', () => {
    const path = write('server_name: example.org\nlisteners: [ { port: 8008\n  oops: : :\n');
    const err = configError(() => loadConfig({ configPath: path, env: {} }), path);
    expect(err.message).toMatch(/YAML/);
  });

  it('YAML that is not a mapping names the file', () => {
    const path = write('- just\n- a list\n');
    configError(() => loadConfig({ configPath: path, env: {} }), path);
  });

  it('a missing file (without generateIfMissing)', () => {
    const err = configError(() => loadConfig({ configPath: join(dir, 'absent.yaml'), env: {} }), 'config');
    expect(err.message).toContain('absent.yaml');
    expect(existsSync(join(dir, 'absent.yaml'))).toBe(false);
  });
});

describe('loadConfig: environment overrides', () => {
  it('applies every documented variable', () => {
    const dataDir = join(dir, 'elsewhere');
    const c = loadConfig({
      configPath: write(MINIMAL),
      env: {
        COMMCOMMS_SERVER_NAME: 'env.example',
        COMMCOMMS_PORT: '9009',
        COMMCOMMS_DATA_DIR: dataDir,
        DATABASE_URL: 'postgres://u:p@db:5432/commcomms',
        REDIS_URL: 'redis://cache:6379',
        NEO4J_URL: 'bolt://graph:7687',
        TEMPORAL_ADDRESS: 'temporal:7233',
      },
    });
    expect(c.server_name).toBe('env.example');
    expect(c.listeners[0]!.port).toBe(9009);
    expect(c.listeners[0]!.bind_addresses).toEqual(['127.0.0.1']);
    expect(c.public_baseurl).toBe('http://127.0.0.1:9009/');
    expect(c.data_dir).toBe(dataDir);
    expect(c.signing_key_path).toBe(join(dataDir, 'signing.key'));
    expect(c.database.url).toBe('postgres://u:p@db:5432/commcomms');
    expect(c.redis.url).toBe('redis://cache:6379');
    expect(c.neo4j.url).toBe('bolt://graph:7687');
    expect(c.temporal.address).toBe('temporal:7233');
  });

  it('empty variables are ignored', () => {
    const c = loadConfig({ configPath: write(MINIMAL), env: { COMMCOMMS_SERVER_NAME: '', COMMCOMMS_PORT: '', DATABASE_URL: '' } });
    expect(c.server_name).toBe('example.org');
    expect(c.listeners[0]!.port).toBe(8008);
    expect(c.database.url).toBeNull();
  });

  it('finds the config in COMMCOMMS_CONFIG, or in COMMCOMMS_DATA_DIR', () => {
    const path = write(MINIMAL, 'custom.yaml');
    expect(loadConfig({ env: { COMMCOMMS_CONFIG: path } }).config_path).toBe(path);
    write(MINIMAL);
    expect(loadConfig({ env: { COMMCOMMS_DATA_DIR: dir } }).config_path).toBe(join(dir, 'homeserver.yaml'));
  });

  it('bad values from the environment are ConfigErrors too', () => {
    const path = write(MINIMAL);
    configError(() => loadConfig({ configPath: path, env: { COMMCOMMS_PORT: 'http' } }), 'COMMCOMMS_PORT');
    configError(() => loadConfig({ configPath: path, env: { COMMCOMMS_PORT: '65536' } }), 'COMMCOMMS_PORT');
    configError(() => loadConfig({ configPath: path, env: { COMMCOMMS_SERVER_NAME: 'bad name' } }), 'server_name');
    configError(() => loadConfig({ configPath: path, env: { DATABASE_URL: 'sqlite:///tmp/x.db' } }), 'database.url');
    configError(() => loadConfig({ configPath: path, env: { REDIS_URL: 'http://cache' } }), 'redis.url');
  });
});

describe('loadConfig: generateIfMissing', () => {
  it('writes a private config file that loads back the same', () => {
    const path = join(dir, 'new', 'homeserver.yaml');
    const env = { COMMCOMMS_SERVER_NAME: 'fresh.example', COMMCOMMS_PORT: '8118' };
    const generated = loadConfig({ configPath: path, env, generateIfMissing: true });
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(generated.server_name).toBe('fresh.example');
    expect(generated.listeners[0]!.port).toBe(8118);
    // A loopback development config: open registration, a random shared secret.
    expect(generated.registration.open).toBe(true);
    expect(generated.registration.shared_secret?.length).toBeGreaterThanOrEqual(32);

    const again = loadConfig({ configPath: path, env: {} });
    expect(again).toEqual(generated);
    expect(readFileSync(path, 'utf8')).toContain('server_name: fresh.example');
  });

  it('leaves an existing file alone', () => {
    const path = write(MINIMAL);
    const c = loadConfig({ configPath: path, env: { COMMCOMMS_SERVER_NAME: 'other.example' }, generateIfMissing: true });
    expect(readFileSync(path, 'utf8')).toBe(MINIMAL);
    expect(c.server_name).toBe('other.example');
  });

  it('two generated configs have different shared secrets', () => {
    const a = loadConfig({ configPath: join(dir, 'a.yaml'), env: {}, generateIfMissing: true });
    const b = loadConfig({ configPath: join(dir, 'b.yaml'), env: {}, generateIfMissing: true });
    expect(a.registration.shared_secret).not.toBe(b.registration.shared_secret);
  });
});
