import type { Tx } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { getUser } from '../storage/users.ts';
import { getRegistrationToken } from '../storage/registration-tokens.ts';
import { localpartFromLogin, userIdFor } from './identifiers.ts';
import { verifyPassword } from './secrets.ts';
import type { StageCheck } from './uia.ts';

export const DUMMY = 'm.login.dummy';
export const PASSWORD = 'm.login.password';
export const REGISTRATION_TOKEN = 'm.login.registration_token';

export const dummyStage: StageCheck = async () => ({ result: {} });

/** Re-authentication with the account's own password (device deletion, password change, deactivation). */
export function passwordStage(serverName: string): StageCheck {
  return async (tx, auth, session) => {
    const identifier = auth.identifier as Record<string, unknown> | undefined;
    const user = identifier?.type === 'm.id.user' ? identifier.user : auth.user;
    const password = auth.password;
    if (typeof user !== 'string' || typeof password !== 'string') {
      return { error: { errcode: 'M_BAD_JSON', error: 'm.login.password needs identifier.user and password' } };
    }
    let userId: string;
    try {
      userId = userIdFor(localpartFromLogin(user, serverName), serverName);
    } catch {
      return { error: { errcode: 'M_FORBIDDEN', error: 'Invalid username or password' } };
    }
    // Not a stage to retry but a request to refuse, as Synapse and sytest have it: a plain 403.
    if (userId !== session.userId) throw new MatrixError(403, 'M_FORBIDDEN', 'You can only authenticate as yourself');
    const row = await getUser(tx, userId);
    if (!row || !(await verifyPassword(password, row.password_hash))) {
      return { error: { errcode: 'M_FORBIDDEN', error: 'Invalid username or password' } };
    }
    return { result: {} };
  };
}

export async function registrationTokenUsable(tx: Tx, token: string): Promise<boolean> {
  const row = await getRegistrationToken(tx, token);
  if (!row) return false;
  if (row.expiry_time !== null && row.expiry_time <= Date.now()) return false;
  return row.uses_allowed === null || row.completed < row.uses_allowed;
}

export const registrationTokenStage: StageCheck = async (tx, auth) => {
  const token = auth.token;
  if (typeof token !== 'string' || !(await registrationTokenUsable(tx, token))) {
    return { error: { errcode: 'M_FORBIDDEN', error: 'Invalid registration token' } };
  }
  return { result: { token } };
};
