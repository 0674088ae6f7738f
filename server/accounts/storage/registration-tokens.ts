import type { Tx } from '../../db/database.ts';

export interface RegistrationTokenRow {
  token: string;
  uses_allowed: number | null;
  pending: number;
  completed: number;
  expiry_time: number | null;
}

/** Tokens listed in the config are kept in the table so their use counts survive restarts. */
export async function ensureRegistrationToken(
  tx: Tx,
  t: { token: string; uses_allowed: number | null; expiry_time: number | null },
): Promise<void> {
  await tx`insert into registration_tokens (token, uses_allowed, expiry_time)
    values (${t.token}, ${t.uses_allowed}, ${t.expiry_time})
    on conflict (token) do update set uses_allowed = excluded.uses_allowed, expiry_time = excluded.expiry_time`;
}

export async function getRegistrationToken(tx: Tx, token: string): Promise<RegistrationTokenRow | undefined> {
  const [row] = await tx<RegistrationTokenRow[]>`select * from registration_tokens where token = ${token} for update`;
  return row;
}

export async function completeRegistrationToken(tx: Tx, token: string): Promise<void> {
  await tx`update registration_tokens set completed = completed + 1 where token = ${token}`;
}
