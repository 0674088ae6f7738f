import { transaction } from '../../db/transaction.ts';
import type { Config } from '../../config/load.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { completeRegistrationToken, ensureRegistrationToken } from '../storage/registration-tokens.ts';
import { deleteUiaSession } from '../storage/uia.ts';
import { handleExists, insertUser } from '../storage/users.ts';
import { userIdFor, validateNewLocalpart } from './identifiers.ts';
import { sharedSecretMac } from './shared-secret-mac.ts';
import { hashPassword, randomId, secretsEqual } from './secrets.ts';
import type { IssuedSession, Sessions } from './sessions.ts';
import { DUMMY, REGISTRATION_TOKEN, dummyStage, registrationTokenStage, registrationTokenUsable } from './stages.ts';
import { requireUia } from './uia.ts';

export interface RegisterRequest {
  username?: string | undefined;
  password?: string | undefined;
  deviceId?: string | undefined;
  initialDeviceDisplayName?: string | undefined;
  inhibitLogin: boolean;
  refreshToken: boolean;
  auth: unknown;
  path: string;
}

export interface NewAccount {
  localpart: string;
  password: string | null;
  displayName?: string | null;
  admin?: boolean;
  userType?: string | null;
}

export interface RegistrationDeps {
  sql: Sql;
  config: Config;
  sessions: Sessions;
}

export function createRegistration({ sql, config, sessions }: RegistrationDeps) {
  const serverName = config.server_name;
  const nonces = new Map<string, number>();

  function flows(): string[][] {
    const f: string[][] = [];
    if (config.registration.open) f.push([DUMMY]);
    f.push([REGISTRATION_TOKEN]);
    return f;
  }

  function checkPassword(password: string | undefined): void {
    if (password !== undefined && password.length < config.auth.password_min_length) {
      throw new MatrixError(400, 'M_WEAK_PASSWORD', `Password must be at least ${config.auth.password_min_length} characters`);
    }
  }

  /** The availability check a client makes while the user types. */
  async function available(localpart: string): Promise<void> {
    validateNewLocalpart(localpart, serverName);
    if (await handleExists(sql, localpart)) throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken.');
  }

  async function syncConfigTokens(): Promise<void> {
    for (const t of config.registration.tokens) await ensureRegistrationToken(sql, t);
  }

  async function register(req: RegisterRequest, rateCheck: () => Promise<void>): Promise<IssuedSession | { user_id: string }> {
    if (!config.registration.enabled) throw new MatrixError(403, 'M_FORBIDDEN', 'Registration has been disabled');
    // User ids are lower-case; `Alice` registers @alice, as on Synapse (login is case-insensitive too).
    const username = req.username?.toLowerCase();
    // Refuse a taken or invalid name before asking for auth, so the client can say so at once.
    if (username !== undefined) await available(username);
    checkPassword(req.password);

    const uia = await requireUia(sql, {
      purpose: 'register',
      userId: null,
      auth: req.auth,
      flows: flows(),
      stages: { [DUMMY]: dummyStage, [REGISTRATION_TOKEN]: registrationTokenStage },
      request: { method: 'POST', path: req.path },
    });
    await rateCheck();
    const localpart = username ?? randomId(12, 'abcdefghijklmnopqrstuvwxyz0123456789');
    const passwordHash = req.password === undefined ? null : await hashPassword(req.password);
    const token = (uia.results[REGISTRATION_TOKEN] as { token?: string } | undefined)?.token;

    return transaction(sql, async (tx) => {
      if (token !== undefined) {
        if (!(await registrationTokenUsable(tx, token))) throw new MatrixError(403, 'M_FORBIDDEN', 'Registration token has been used up');
        await completeRegistrationToken(tx, token);
      }
      const userId = userIdFor(localpart, serverName);
      const created = await insertUser(tx, {
        userId,
        handle: localpart,
        passwordHash,
        displayName: localpart,
        isAdmin: false,
        userType: null,
      });
      if (!created) throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken.');
      await deleteUiaSession(tx, uia.sessionId);
      if (req.inhibitLogin) return { user_id: userId };
      return sessions.issue(tx, userId, {
        deviceId: req.deviceId,
        displayName: req.initialDeviceDisplayName,
        refreshable: req.refreshToken,
      });
    });
  }

  /** Creates an account directly (CLI, admin API); no UIA, no rate limit. */
  async function createAccount(a: NewAccount, login: boolean): Promise<IssuedSession | { user_id: string }> {
    validateNewLocalpart(a.localpart, serverName);
    const passwordHash = a.password === null ? null : await hashPassword(a.password);
    return transaction(sql, async (tx) => {
      const userId = userIdFor(a.localpart, serverName);
      const created = await insertUser(tx, {
        userId,
        handle: a.localpart,
        passwordHash,
        displayName: a.displayName ?? a.localpart,
        isAdmin: a.admin ?? false,
        userType: a.userType ?? null,
      });
      if (!created) throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken.');
      if (!login) return { user_id: userId };
      return sessions.issue(tx, userId, { refreshable: false });
    });
  }

  /** Synapse's shared-secret registration: a one-time nonce, then an HMAC-SHA1 over the request. */
  function newNonce(): string {
    const now = Date.now();
    for (const [n, t] of nonces) if (t < now - 60_000) nonces.delete(n);
    const nonce = randomId(32, 'abcdef0123456789');
    nonces.set(nonce, now);
    return nonce;
  }

  async function sharedSecretRegister(body: {
    nonce: string;
    username: string;
    password: string;
    admin: boolean;
    user_type?: string | null | undefined;
    displayname?: string | undefined;
    mac: string;
  }): Promise<IssuedSession | { user_id: string }> {
    const secret = config.registration.shared_secret;
    if (!secret) throw new MatrixError(400, 'M_UNKNOWN', 'Shared secret registration is not enabled');
    const issued = nonces.get(body.nonce);
    if (issued === undefined || issued < Date.now() - 60_000) throw new MatrixError(400, 'M_UNKNOWN', 'unrecognised nonce');
    const expected = Buffer.from(sharedSecretMac(secret, body));
    if (!secretsEqual(expected, Buffer.from(body.mac.toLowerCase()))) throw new MatrixError(403, 'M_FORBIDDEN', 'HMAC incorrect');
    // Only a correct request spends the nonce, so a typo can be retried.
    nonces.delete(body.nonce);
    return createAccount(
      {
        // The MAC covers what the tool sent; the account is lower-case, as /register makes it.
        localpart: body.username.toLowerCase(),
        password: body.password,
        admin: body.admin,
        userType: body.user_type ?? null,
        displayName: body.displayname ?? null,
      },
      true,
    );
  }

  const tokenValid = (token: string) => registrationTokenUsable(sql, token);

  return { flows, available, tokenValid, register, createAccount, newNonce, sharedSecretRegister, syncConfigTokens, checkPassword };
}

export type Registration = ReturnType<typeof createRegistration>;
