import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateSigningKey, parseSigningKeyFile, serialiseSigningKeyFile, type SigningKey } from '../../federation/events/index.ts';
import { ConfigError } from '../config/config-error.ts';

/**
 * The server's ed25519 signing key, in Synapse's file format so a key can move
 * between implementations. Made on first start; losing it means peers will not
 * trust events this server signed before, so it is never overwritten.
 */
export function loadOrCreateSigningKey(path: string): SigningKey {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, serialiseSigningKeyFile([generateSigningKey()]), { mode: 0o600, flag: 'wx' });
  }
  let keys: SigningKey[];
  try {
    keys = parseSigningKeyFile(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError('signing_key_path', `${path}: ${(err as Error).message}`);
  }
  const key = keys[0];
  if (!key) throw new ConfigError('signing_key_path', `${path} holds no key`);
  return key;
}
