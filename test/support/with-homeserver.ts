import { afterAll, beforeAll } from 'vitest';
import { ApiClient, registerUser, type TestUser } from './client.ts';
import { startTestHomeserver, type TestHomeserver } from './homeserver.ts';

type Overrides = Parameters<typeof startTestHomeserver>[0];

export interface WithHomeserverOptions<Names extends readonly string[]> {
  /** Localparts registered (in order, through the UIA dance) once the server is up. */
  users?: Names;
  /** Config overrides for the server (as for startTestHomeserver). */
  config?: Overrides;
}

export interface HomeserverFixture<Names extends readonly string[]> {
  /** The running server; reads through to it once the suite's beforeAll has run. */
  hs: TestHomeserver;
  /** The registered users, one for each name, in the same order. */
  users: { [K in keyof Names]: TestUser };
}

/**
 * One homeserver for a whole file: starts it (and registers `users`) in a beforeAll
 * and closes it in an afterAll. Call it at the top of the file, before the file's own
 * hooks: vitest runs beforeAll hooks in the order they were registered and afterAll
 * hooks in reverse, so the file's setup sees a running server and its teardown runs
 * before the server closes.
 *
 *   const { hs, users: [alice, bob] } = withHomeserver({ users: ['st_alice', 'st_bob'] });
 *
 * `hs` and the users are usable as plain constants in tests. They exist before the
 * server does (the file body runs before any hook), so they read through to the real
 * objects and throw if touched before the beforeAll, as an unset `let` would.
 */
export function withHomeserver<const Names extends readonly string[] = []>(
  opts: WithHomeserverOptions<Names> = {},
): HomeserverFixture<Names> {
  let server: TestHomeserver | undefined;
  const names: readonly string[] = opts.users ?? [];
  const registered: Array<TestUser | undefined> = names.map(() => undefined);
  beforeAll(async () => {
    server = await startTestHomeserver(opts.config);
    for (const [i, name] of names.entries()) registered[i] = await registerUser(server.url, name);
  });
  afterAll(async () => {
    await server?.close();
  });
  const running = (): TestHomeserver => server ?? notYet('the homeserver');
  const hs: TestHomeserver = {
    get url() {
      return running().url;
    },
    get config() {
      return running().config;
    },
    get dataDir() {
      return running().dataDir;
    },
    // After a restart the fixture's TestHomeserver points at the new process: read it each time.
    get hs() {
      return running().hs;
    },
    restart: (whileStopped?: () => Promise<void>) => running().restart(whileStopped),
    close: () => running().close(),
  };
  const users = names.map((name, i) => {
    const user = (): TestUser => registered[i] ?? notYet(`user ${name}`);
    const shell: TestUser = {
      get userId() {
        return user().userId;
      },
      get deviceId() {
        return user().deviceId;
      },
      get accessToken() {
        return user().accessToken;
      },
      get password() {
        return user().password;
      },
      get client(): ApiClient {
        return user().client;
      },
    };
    return shell;
  });
  return { hs, users: users as HomeserverFixture<Names>['users'] };
}

function notYet(what: string): never {
  throw new Error(`${what} is used before withHomeserver's beforeAll ran (use it inside a hook or a test)`);
}
