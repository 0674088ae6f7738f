import type { Tx } from '../../db/database.ts';

export type CrossSigningKeyType = 'master' | 'self_signing' | 'user_signing';

export interface CrossSigningKeyRow {
  user_id: string;
  key_type: CrossSigningKeyType;
  public_key: string;
  key_json: string;
}

export async function crossSigningKeysOf(tx: Tx, userIds: readonly string[]): Promise<CrossSigningKeyRow[]> {
  if (userIds.length === 0) return [];
  return tx<CrossSigningKeyRow[]>`
    select user_id, key_type, public_key, key_json from e2e_cross_signing_keys where user_id = any(${userIds as string[]}::text[])`;
}

export async function putCrossSigningKey(
  tx: Tx,
  userId: string,
  type: CrossSigningKeyType,
  publicKey: string,
  keyJson: string,
): Promise<void> {
  await tx`
    insert into e2e_cross_signing_keys (user_id, key_type, public_key, key_json)
    values (${userId}, ${type}, ${publicKey}, ${keyJson})
    on conflict (user_id, key_type) do update set public_key = excluded.public_key, key_json = excluded.key_json`;
}

/** Signatures by a replaced key sign nothing any more: dropped with it. */
export async function deleteSignaturesBy(tx: Tx, signerUserId: string, signerKeyId: string): Promise<void> {
  await tx`delete from e2e_signatures where signer_user_id = ${signerUserId} and signer_key_id = ${signerKeyId}`;
}

export interface SignatureRow {
  target_user_id: string;
  target_key_id: string;
  signer_user_id: string;
  signer_key_id: string;
  signature: string;
}

export async function putSignatures(tx: Tx, rows: readonly SignatureRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx`
    insert into e2e_signatures (target_user_id, target_key_id, signer_user_id, signer_key_id, signature)
    select * from unnest(
      ${rows.map((r) => r.target_user_id)}::text[], ${rows.map((r) => r.target_key_id)}::text[],
      ${rows.map((r) => r.signer_user_id)}::text[], ${rows.map((r) => r.signer_key_id)}::text[],
      ${rows.map((r) => r.signature)}::text[])
    on conflict (target_user_id, target_key_id, signer_user_id, signer_key_id) do update set signature = excluded.signature`;
}

/** The separately uploaded signatures on the keys of these users. */
export async function signaturesOn(tx: Tx, targetUserIds: readonly string[]): Promise<SignatureRow[]> {
  if (targetUserIds.length === 0) return [];
  return tx<SignatureRow[]>`
    select target_user_id, target_key_id, signer_user_id, signer_key_id, signature
    from e2e_signatures where target_user_id = any(${targetUserIds as string[]}::text[])`;
}
