import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Tx } from '../../db/database.ts';

export interface UiaSessionRow {
  session_id: string;
  purpose: string;
  user_id: string | null;
  completed: string[];
  params: JsonObject;
  request: JsonObject;
  created_at: Date;
}

export async function insertUiaSession(
  tx: Tx,
  s: { sessionId: string; purpose: string; userId: string | null; request: JsonObject },
): Promise<void> {
  await tx`insert into uia_sessions (session_id, purpose, user_id, request)
    values (${s.sessionId}, ${s.purpose}, ${s.userId}, ${tx.json(s.request)})`;
}

export async function getUiaSession(tx: Tx, sessionId: string): Promise<UiaSessionRow | undefined> {
  const [row] = await tx<UiaSessionRow[]>`select * from uia_sessions where session_id = ${sessionId}`;
  return row;
}

/** `params` holds what each completed stage remembered (e.g. the registration token used). */
export async function setUiaCompleted(tx: Tx, sessionId: string, completed: string[], results: JsonObject): Promise<void> {
  await tx`update uia_sessions set completed = ${tx.json(completed)}, params = ${tx.json(results)} where session_id = ${sessionId}`;
}

export async function deleteUiaSession(tx: Tx, sessionId: string): Promise<void> {
  await tx`delete from uia_sessions where session_id = ${sessionId}`;
}

export async function deleteExpiredUiaSessions(tx: Tx, olderThan: Date): Promise<void> {
  await tx`delete from uia_sessions where created_at < ${olderThan}`;
}
