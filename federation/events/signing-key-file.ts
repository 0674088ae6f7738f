/**
 * The Synapse-compatible signing key file: one key per line,
 * `ed25519 <key_version> <unpadded base64 seed>`.
 *
 * Being compatible lets an operator move an existing server's key (and so its
 * identity towards other servers) to CommComms and back.
 */
import { Base64Error, decodeBase64, encodeBase64 } from './base64.ts';
import { ED25519, type SigningKey, SigningKeyError, isValidKeyVersion, parseEd25519KeyId, signingKeyFromSeed } from './signing-key.ts';

/** Parse every key in the file, in order. Blank lines are ignored; anything else malformed throws. */
export function parseSigningKeyFile(text: string): SigningKey[] {
  const keys: SigningKey[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `signing key file line ${index + 1}`;
    const parts = line.split(/\s+/);
    if (parts.length !== 3) throw new SigningKeyError(`${where}: expected "ed25519 <version> <seed>"`);
    const [algorithm, version, seedText] = parts as [string, string, string];
    if (algorithm !== ED25519) throw new SigningKeyError(`${where}: unsupported algorithm ${JSON.stringify(algorithm)}`);
    if (!isValidKeyVersion(version)) throw new SigningKeyError(`${where}: invalid key version ${JSON.stringify(version)}`);
    let seed: Uint8Array;
    try {
      seed = decodeBase64(seedText);
    } catch (e) {
      if (e instanceof Base64Error) throw new SigningKeyError(`${where}: seed is not valid base64`);
      throw e;
    }
    keys.push(signingKeyFromSeed(seed, `${ED25519}:${version}`));
  });
  return keys;
}

/** Serialise keys one per line with a trailing newline, seeds as unpadded base64. */
export function serialiseSigningKeyFile(keys: readonly SigningKey[]): string {
  return keys
    .map((key) => {
      const { version } = parseEd25519KeyId(key.keyId);
      return `${ED25519} ${version} ${encodeBase64(key.seed)}\n`;
    })
    .join('');
}
