import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { canonicalJsonBytes } from './canonical-json.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';
import { verifyKey } from './ed25519.ts';
import { signJson, verifyJsonSignature } from './signing.ts';
import { SigningKeyError, generateSigningKey, parseEd25519KeyId, publicKeyBase64, signingKeyFromSeed } from './signing-key.ts';
import { parseSigningKeyFile, serialiseSigningKeyFile } from './signing-key-file.ts';

// Spec appendix "Cryptographic Test Vectors".
const SEED = decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1');
const SERVER = 'domain';
const KEY_ID = 'ed25519:1';
const specKey = signingKeyFromSeed(SEED, KEY_ID);

describe('signJson: spec appendix JSON signing vectors', () => {
  const cases: Array<[name: string, input: object, expected: object]> = [
    [
      'empty object',
      {},
      {
        signatures: {
          domain: {
            'ed25519:1': 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ',
          },
        },
      },
    ],
    [
      'object with data',
      { one: 1, two: 'Two' },
      {
        one: 1,
        signatures: {
          domain: {
            'ed25519:1': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
          },
        },
        two: 'Two',
      },
    ],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    const signed = signJson(input, SERVER, specKey);
    expect(signed).toEqual(expected);
    expect(verifyJsonSignature(signed, SERVER, KEY_ID, publicKeyBase64(specKey))).toBe(true);
  });
});

describe('signJson: behaviour', () => {
  it('excludes unsigned and existing signatures from the signed bytes, and keeps both', () => {
    const input = {
      one: 1,
      two: 'Two',
      unsigned: { age_ts: 5 },
      signatures: { other: { 'ed25519:x': 'abc' }, domain: { 'ed25519:old': 'def' } },
    };
    const signed = signJson(input, SERVER, specKey);
    expect(signed.unsigned).toEqual({ age_ts: 5 });
    expect(signed.signatures).toEqual({
      other: { 'ed25519:x': 'abc' },
      domain: {
        'ed25519:old': 'def',
        // Same bytes as the spec's {"one":1,"two":"Two"} vector.
        'ed25519:1': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
      },
    });
  });

  it('does not modify its input', () => {
    const input = { a: 1, signatures: { other: { 'ed25519:x': 'abc' } } };
    const snapshot = structuredClone(input);
    signJson(input, SERVER, specKey);
    expect(input).toEqual(snapshot);
  });

  it('rejects a malformed existing signatures value', () => {
    expect(() => signJson({ signatures: { domain: 'nope' } }, SERVER, specKey)).toThrow(SigningKeyError);
  });

  it('treats "__proto__" as an ordinary server name', () => {
    const signed = signJson({}, '__proto__', specKey);
    expect(Object.keys(signed.signatures)).toEqual(['__proto__']);
    expect(verifyJsonSignature(signed, '__proto__', KEY_ID, publicKeyBase64(specKey))).toBe(true);
  });
});

describe('verifyJsonSignature', () => {
  const pub = publicKeyBase64(specKey);
  const good = signJson({ one: 1, two: 'Two' }, SERVER, specKey);
  const sig = good.signatures[SERVER]?.[KEY_ID] ?? '';
  const other = generateSigningKey();

  const cases: Array<[name: string, obj: object, server: string, keyId: string, publicKey: string, ok: boolean]> = [
    ['valid', good, SERVER, KEY_ID, pub, true],
    ['unsigned data may change', { ...good, unsigned: { age: 1 } }, SERVER, KEY_ID, pub, true],
    ['other signatures may be added', { ...good, signatures: { ...good.signatures, x: { 'ed25519:1': 'A' } } }, SERVER, KEY_ID, pub, true],
    ['padded signature accepted', { ...good, signatures: { domain: { 'ed25519:1': `${sig}==` } } }, SERVER, KEY_ID, pub, true],
    ['tampered data', { ...good, two: 'Three' }, SERVER, KEY_ID, pub, false],
    ['added data', { ...good, three: 3 }, SERVER, KEY_ID, pub, false],
    ['wrong public key', good, SERVER, KEY_ID, publicKeyBase64(other), false],
    ['no entry for server', good, 'elsewhere', KEY_ID, pub, false],
    ['no entry for key id', good, SERVER, 'ed25519:2', pub, false],
    ['unknown algorithm', { signatures: { domain: { 'curve:1': sig } } }, SERVER, 'curve:1', pub, false],
    ['no signatures at all', { one: 1, two: 'Two' }, SERVER, KEY_ID, pub, false],
    ['signatures not an object', { one: 1, signatures: 'x' }, SERVER, KEY_ID, pub, false],
    ['signature not a string', { ...good, signatures: { domain: { 'ed25519:1': 5 } } }, SERVER, KEY_ID, pub, false],
    ['signature bad base64', { ...good, signatures: { domain: { 'ed25519:1': '!!!' } } }, SERVER, KEY_ID, pub, false],
    ['signature wrong length', { ...good, signatures: { domain: { 'ed25519:1': 'AAAA' } } }, SERVER, KEY_ID, pub, false],
    ['public key bad base64', good, SERVER, KEY_ID, '***', false],
    ['public key wrong length', good, SERVER, KEY_ID, 'AAAA', false],
    ['not canonical-JSON encodable', { ...good, f: 1.5 }, SERVER, KEY_ID, pub, false],
    ['inherited key id name', good, SERVER, 'constructor', pub, false],
  ];
  it.each(cases)('%s', (_name, obj, server, keyId, publicKey, ok) => {
    expect(verifyJsonSignature(obj, server, keyId, publicKey)).toBe(ok);
    // The same verdict with the key parsed once, as a key store holds it.
    const raw = (() => {
      try {
        return decodeBase64(publicKey);
      } catch {
        return undefined;
      }
    })();
    const parsed = raw && verifyKey(raw);
    if (parsed) expect(verifyJsonSignature(obj, server, keyId, parsed)).toBe(ok);
  });

  it('an all-zero or off-curve public key verifies nothing', () => {
    for (const raw of [new Uint8Array(32), new Uint8Array(32).fill(0xff)]) {
      const key = verifyKey(raw);
      if (key) expect(verifyJsonSignature(good, SERVER, KEY_ID, key)).toBe(false);
      expect(verifyJsonSignature(good, SERVER, KEY_ID, encodeBase64(raw))).toBe(false);
    }
  });
});

describe('signing keys', () => {
  it('derives the same key pair from the spec seed every time', () => {
    const again = signingKeyFromSeed(SEED, KEY_ID);
    expect(again.publicKey).toEqual(specKey.publicKey);
    expect(again.secretKey.subarray(0, 32)).toEqual(SEED);
    expect(specKey.publicKey).toHaveLength(32);
  });

  it('generates distinct random keys with Synapse-style ids', () => {
    const a = generateSigningKey();
    const b = generateSigningKey();
    expect(a.keyId).toMatch(/^ed25519:a_[A-Za-z0-9]{4}$/);
    expect(a.seed).toHaveLength(32);
    expect(encodeBase64(a.seed)).not.toBe(encodeBase64(b.seed));
    const signed = signJson({ x: 1 }, 'example.org', a);
    expect(verifyJsonSignature(signed, 'example.org', a.keyId, publicKeyBase64(a))).toBe(true);
  });

  const badKeys: Array<[name: string, seed: Uint8Array, keyId: string]> = [
    ['short seed', new Uint8Array(31), 'ed25519:1'],
    ['long seed', new Uint8Array(33), 'ed25519:1'],
    ['no algorithm', SEED, '1'],
    ['other algorithm', SEED, 'curve25519:1'],
    ['empty version', SEED, 'ed25519:'],
    ['bad version characters', SEED, 'ed25519:a-b'],
  ];
  it.each(badKeys)('rejects %s', (_name, seed, keyId) => {
    expect(() => signingKeyFromSeed(seed, keyId)).toThrow(SigningKeyError);
  });

  it('splits key ids', () => {
    expect(parseEd25519KeyId('ed25519:a_Xy3z')).toEqual({ algorithm: 'ed25519', version: 'a_Xy3z' });
  });
});

describe('signing key file', () => {
  const specLine = 'ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1\n';

  it('serialises in the Synapse format', () => {
    // The spec's seed text ends in "1", which sets non-zero padding bits; a
    // canonical encoder emits "0" for the same 32 bytes.
    expect(serialiseSigningKeyFile([specKey])).toBe('ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0\n');
  });

  const parseCases: Array<[name: string, text: string, keyIds: string[]]> = [
    ['single line', specLine, ['ed25519:1']],
    ['no trailing newline', specLine.trim(), ['ed25519:1']],
    ['padded seed, CRLF, blank lines and extra spaces', `\r\n  ed25519   1  ${encodeBase64(SEED)}=  \r\n\n`, ['ed25519:1']],
    ['several keys', `${specLine}ed25519 a_old ${encodeBase64(new Uint8Array(32))}\n`, ['ed25519:1', 'ed25519:a_old']],
    ['empty file', '', []],
  ];
  it.each(parseCases)('parses %s', (_name, text, keyIds) => {
    const keys = parseSigningKeyFile(text);
    expect(keys.map((k) => k.keyId)).toEqual(keyIds);
    if (keys[0]) expect(keys[0].seed).toEqual(SEED);
  });

  it('round-trips generated keys', () => {
    const keys = [generateSigningKey(), generateSigningKey()];
    const parsed = parseSigningKeyFile(serialiseSigningKeyFile(keys));
    expect(parsed.map((k) => [k.keyId, encodeBase64(k.seed)])).toEqual(keys.map((k) => [k.keyId, encodeBase64(k.seed)]));
  });

  const badFiles: Array<[name: string, text: string]> = [
    ['missing seed', 'ed25519 1\n'],
    ['extra field', `${specLine.trim()} extra\n`],
    ['other algorithm', 'curve25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1\n'],
    ['bad version', 'ed25519 a-b YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1\n'],
    ['bad base64', 'ed25519 1 not*base64\n'],
    ['wrong seed length', 'ed25519 1 AAAA\n'],
  ];
  it.each(badFiles)('rejects %s', (_name, text) => {
    expect(() => parseSigningKeyFile(text)).toThrow(SigningKeyError);
  });
});

describe('native ed25519 signing', () => {
  it('verifies exactly what tweetnacl verifies: random keys and messages, intact and with one bit flipped', () => {
    for (let i = 0; i < 50; i++) {
      const key = generateSigningKey();
      const signed = signJson({ n: i, text: 'y'.repeat(i * 7) }, 'example.org', key);
      const sig = decodeBase64(signed.signatures['example.org']![key.keyId]!);
      const flipped = Uint8Array.from(sig);
      flipped[i % 64]! ^= 1 << (i % 8);
      const message = canonicalJsonBytes({ n: i, text: 'y'.repeat(i * 7) });
      for (const [bytes, obj] of [
        [sig, signed],
        [flipped, { ...signed, signatures: { 'example.org': { [key.keyId]: encodeBase64(flipped) } } }],
      ] as const) {
        const reference = nacl.sign.detached.verify(message, bytes, key.publicKey);
        expect(verifyJsonSignature(obj, 'example.org', key.keyId, publicKeyBase64(key))).toBe(reference);
      }
    }
  });

  it('gives the same signatures as tweetnacl for random keys and messages', () => {
    for (let i = 0; i < 50; i++) {
      const key = generateSigningKey();
      const obj = { n: i, text: 'x'.repeat(i * 13), nested: { a: [i, 'b'] } };
      const ours = signJson(obj, 'example.org', key).signatures['example.org']![key.keyId]!;
      const theirs = encodeBase64(nacl.sign.detached(canonicalJsonBytes(obj), key.secretKey));
      expect(ours).toBe(theirs);
    }
  });
});
