import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { getUiaSession, insertUiaSession, setUiaCompleted } from '../storage/uia.ts';
import { randomId } from './secrets.ts';

/**
 * User-interactive authentication: the 401 dance of the client-server API.
 * Sessions live in the database, so a restart between two stages loses nothing.
 */
export class UiaChallenge extends MatrixError {
  constructor(
    readonly session: string,
    readonly flows: string[][],
    readonly completed: string[],
    readonly params: JsonObject,
    readonly stageError?: { errcode: string; error: string },
  ) {
    super(401, stageError?.errcode ?? 'M_FORBIDDEN', stageError?.error ?? 'Additional authentication required');
  }

  override body(): Record<string, unknown> {
    return {
      session: this.session,
      flows: this.flows.map((stages) => ({ stages })),
      params: this.params,
      completed: this.completed,
      ...(this.stageError ?? {}),
    };
  }
}

/** A stage's verdict: an error to show, or what to remember of it (e.g. which token was used). */
export type StageOutcome = { error: { errcode: string; error: string } } | { result: JsonObject };

/** Checks one stage's `auth` dict. */
export type StageCheck = (tx: Tx, auth: Record<string, unknown>, session: { userId: string | null }) => Promise<StageOutcome>;

export interface UiaRequest {
  purpose: string;
  userId: string | null;
  /** The `auth` dict of the body, if any. */
  auth: unknown;
  flows: string[][];
  stages: Record<string, StageCheck>;
  params?: JsonObject;
  /** Method and path: a session may not be reused for a different operation. */
  request: { method: string; path: string };
}

export interface UiaResult {
  sessionId: string;
  completed: string[];
  /** What each completed stage remembered, by stage type. */
  results: JsonObject;
}

/**
 * Throws UiaChallenge until a flow is complete. Runs outside the protected
 * operation's transaction: the session's progress must persist even though the
 * request that made it answers 401. The caller deletes the session in the
 * transaction of the operation it protects.
 */
export async function requireUia(tx: Tx, req: UiaRequest): Promise<UiaResult> {
  const auth = req.auth && typeof req.auth === 'object' ? (req.auth as Record<string, unknown>) : undefined;
  const params = req.params ?? {};
  const sessionId = typeof auth?.session === 'string' ? auth.session : undefined;

  if (!sessionId) {
    const fresh = randomId(24, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
    await insertUiaSession(tx, {
      sessionId: fresh,
      purpose: req.purpose,
      userId: req.userId,
      request: req.request as unknown as JsonObject,
    });
    // A client may send its credentials with the first request (password change does).
    if (auth?.type === undefined) throw new UiaChallenge(fresh, req.flows, [], params);
    return continueSession(tx, req, auth, fresh, [], {}, params);
  }

  const session = await getUiaSession(tx, sessionId);
  if (!session) throw new MatrixError(400, 'M_UNKNOWN', 'Unknown UIA session');
  if (session.purpose !== req.purpose || session.user_id !== req.userId || session.request.path !== req.request.path) {
    throw new MatrixError(403, 'M_FORBIDDEN', 'Requested operation has changed during the UI authentication session.');
  }
  return continueSession(tx, req, auth ?? {}, sessionId, session.completed, session.params, params);
}

async function continueSession(
  tx: Tx,
  req: UiaRequest,
  auth: Record<string, unknown>,
  sessionId: string,
  completedBefore: string[],
  resultsBefore: JsonObject,
  params: JsonObject,
): Promise<UiaResult> {
  const completed = [...completedBefore];
  const results = { ...resultsBefore };
  const type = auth.type;
  if (typeof type === 'string') {
    const allowed = req.flows.some((f) => f.includes(type));
    const check = req.stages[type];
    if (!allowed || !check) {
      throw new UiaChallenge(sessionId, req.flows, completed, params, {
        errcode: 'M_UNRECOGNIZED',
        error: `Unrecognised login type ${type}`,
      });
    }
    const outcome = await check(tx, auth, { userId: req.userId });
    if ('error' in outcome) throw new UiaChallenge(sessionId, req.flows, completed, params, outcome.error);
    if (!completed.includes(type)) completed.push(type);
    results[type] = outcome.result;
    await setUiaCompleted(tx, sessionId, completed, results);
  }
  if (!req.flows.some((flow) => flow.every((s) => completed.includes(s)))) {
    throw new UiaChallenge(sessionId, req.flows, completed, params);
  }
  return { sessionId, completed, results };
}
