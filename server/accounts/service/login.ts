import { transaction } from '../../db/transaction.ts';
import type { Config } from '../../config/load.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { getUser } from '../storage/users.ts';
import { localpartFromLogin, userIdFor } from './identifiers.ts';
import { hashPassword, verifyPassword } from './secrets.ts';
import type { IssuedSession, Sessions } from './sessions.ts';

export interface PasswordLogin {
  user: string;
  password: string;
  deviceId?: string | undefined;
  displayName?: string | undefined;
  refreshable: boolean;
}

export function createLogin({ sql, config, sessions }: { sql: Sql; config: Config; sessions: Sessions }) {
  // Verifying against a real hash for unknown users keeps the response time from
  // telling which user names exist.
  const decoy = hashPassword('decoy password that matches nothing');

  return {
    flows: () => [{ type: 'm.login.password' }],

    async withPassword(req: PasswordLogin): Promise<IssuedSession> {
      const userId = userIdFor(localpartFromLogin(req.user, config.server_name), config.server_name);
      const user = await getUser(sql, userId);
      const ok = await verifyPassword(req.password, user?.password_hash ?? (await decoy));
      if (!user || !ok) throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid username or password');
      if (user.deactivated) throw new MatrixError(403, 'M_USER_DEACTIVATED', 'This account has been deactivated');
      return transaction(sql, (tx) =>
        sessions.issue(tx, userId, { deviceId: req.deviceId, displayName: req.displayName, refreshable: req.refreshable }),
      );
    },
  };
}

export type Login = ReturnType<typeof createLogin>;
