import { sharedSecretMac } from './accounts/index.ts';
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/config-error.ts';
import { generateConfigYaml } from './config/generate.ts';
import { loadConfig } from './config/load.ts';
import { openDatabase } from './db/database.ts';
import { migrate, migrateDown, readMigrations } from './db/migrate.ts';
import { MIGRATIONS_DIR, startHomeserver } from './main.ts';
import { createLogger } from './ops/logger.ts';

const HELP: Record<string, string> = {
  '': `Usage: commcomms <command> [options]

Commands:
  start            run the homeserver (default)
  migrate          apply database migrations (or roll back with --down N)
  generate-config  write a homeserver.yaml
  register-user    create a user on a running homeserver (shared-secret registration)

Run 'commcomms <command> --help' for a command's options.`,
  start: `Usage: commcomms start [--config FILE]

Starts the homeserver. Without a config file one is generated at
$COMMCOMMS_DATA_DIR/homeserver.yaml (default ./data/homeserver.yaml).`,
  migrate: `Usage: commcomms migrate [--config FILE] [--down N]

Applies pending migrations from schema/postgres, or rolls back the newest N.
With the embedded database, stop the homeserver first: PGlite has one writer.`,
  'generate-config': `Usage: commcomms generate-config [--server-name NAME] [--port N] [--bind ADDR] [--out FILE]

Prints a complete homeserver.yaml (or writes it to --out, never overwriting).`,
  'register-user': `Usage: commcomms register-user --user NAME --password PW [--admin] [--config FILE] [--url URL]

Creates a user through /_synapse/admin/v1/register on the running homeserver,
using registration.shared_secret from the config.`,
};

async function main(argv: string[]): Promise<number> {
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'start';
  const rest = command === argv[0] ? argv.slice(1) : argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      help: { type: 'boolean', short: 'h' },
      config: { type: 'string', short: 'c' },
      down: { type: 'string' },
      'server-name': { type: 'string' },
      port: { type: 'string' },
      bind: { type: 'string' },
      out: { type: 'string' },
      user: { type: 'string', short: 'u' },
      password: { type: 'string', short: 'p' },
      admin: { type: 'boolean' },
      url: { type: 'string' },
    },
    strict: true,
  });
  if (!(command in HELP)) {
    console.error(`unknown command: ${command}\n\n${HELP['']}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP[command === 'start' && argv[0] !== 'start' ? '' : command]);
    return 0;
  }

  switch (command) {
    case 'start': {
      const config = loadConfig({ configPath: values.config, generateIfMissing: true });
      const hs = await startHomeserver(config);
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          hs.log.info({ signal }, 'shutting down');
          hs.close().then(
            // A component that failed or hung in its stop was logged; say so to the supervisor too.
            (report) => process.exit(report.every((r) => r.outcome === 'stopped') ? 0 : 1),
            (err) => {
              hs.log.error({ err }, 'shutdown failed');
              process.exit(1);
            },
          );
        });
      }
      return -1; // keep running
    }
    case 'migrate': {
      const config = loadConfig({ configPath: values.config, generateIfMissing: true });
      const log = createLogger(config.logging.level);
      const db = await openDatabase({ url: config.database.url, maxConnections: 1, dataDir: config.data_dir, log });
      try {
        const migrations = readMigrations(MIGRATIONS_DIR);
        if (values.down) {
          const reverted = await migrateDown(db.sql, migrations, Number(values.down), log);
          console.log(`reverted: ${reverted.join(', ') || 'nothing'}`);
        } else {
          const { applied, version } = await migrate(db.sql, migrations, log);
          console.log(`schema at version ${version}; applied: ${applied.join(', ') || 'nothing'}`);
        }
      } finally {
        await db.close();
      }
      return 0;
    }
    case 'generate-config': {
      const yaml = generateConfigYaml({
        serverName: values['server-name'] ?? 'localhost',
        port: values.port ? Number(values.port) : 8008,
        bindAddress: values.bind ?? '127.0.0.1',
      });
      if (!values.out) {
        process.stdout.write(yaml);
      } else {
        if (existsSync(values.out)) throw new ConfigError('--out', `${values.out} exists; not overwriting it`);
        writeFileSync(values.out, yaml, { mode: 0o600 });
        console.log(`wrote ${values.out}`);
      }
      return 0;
    }
    case 'register-user': {
      if (!values.user || !values.password) {
        console.error(HELP['register-user']);
        return 2;
      }
      const config = loadConfig({ configPath: values.config });
      const secret = config.registration.shared_secret;
      if (!secret) throw new ConfigError('registration.shared_secret', 'is not set, so shared-secret registration is off');
      const base = (values.url ?? config.public_baseurl).replace(/\/$/, '');
      const endpoint = `${base}/_synapse/admin/v1/register`;
      const { nonce } = (await (await fetch(endpoint)).json()) as { nonce: string };
      const admin = values.admin ?? false;
      const mac = sharedSecretMac(secret, { nonce, username: values.user, password: values.password, admin });
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ nonce, username: values.user, password: values.password, admin, mac }),
      });
      const body = (await res.json()) as { user_id?: string; errcode?: string; error?: string };
      if (!res.ok) {
        console.error(`registration failed: ${body.errcode}: ${body.error}`);
        return 1;
      }
      console.log(`created ${body.user_id}${admin ? ' (admin)' : ''}`);
      return 0;
    }
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    // Configuration and usage problems are one clear line, not a stack trace.
    if (
      err instanceof ConfigError ||
      (err instanceof Error &&
        (err.name === 'SchemaTooNewError' || ('code' in err && String((err as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'))))
    ) {
      console.error(err.message);
    } else {
      console.error(err);
    }
    process.exit(1);
  },
);
