import { describe, expect, it } from 'vitest';
import { Base64Error, decodeBase64, decodeEitherBase64, decodeUrlSafeBase64, encodeBase64, encodeUrlSafeBase64 } from './base64.ts';

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

describe('encodeBase64: spec appendix examples', () => {
  const cases: Array<[input: string, expected: string]> = [
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['fooba', 'Zm9vYmE'],
    ['foobar', 'Zm9vYmFy'],
  ];
  it.each(cases)('%j -> %j', (input, expected) => {
    expect(encodeBase64(utf8(input))).toBe(expected);
    expect(decodeBase64(expected)).toEqual(utf8(input));
  });
});

// Bytes chosen so the encodings hit indices 62 and 63, where the alphabets differ.
const tricky = new Uint8Array([0xfb, 0xff, 0xbf]);

describe('alphabets', () => {
  const cases: Array<[name: string, encode: (b: Uint8Array) => string, expected: string]> = [
    ['standard', encodeBase64, '+/+/'],
    ['url-safe', encodeUrlSafeBase64, '-_-_'],
  ];
  it.each(cases)('%s', (_name, encode, expected) => {
    expect(encode(tricky)).toBe(expected);
  });

  it('encodes a subarray view, not its whole backing buffer', () => {
    const backing = new Uint8Array([0, 0x66, 0x6f, 0x6f, 0]);
    expect(encodeBase64(backing.subarray(1, 4))).toBe('Zm9v');
    expect(encodeUrlSafeBase64(backing.subarray(1, 4))).toBe('Zm9v');
  });
});

describe('decoding accepts padded and unpadded input', () => {
  const cases: Array<[name: string, decode: (s: string) => Uint8Array, input: string, expected: number[]]> = [
    ['standard unpadded', decodeBase64, 'Zg', [0x66]],
    ['standard padded', decodeBase64, 'Zg==', [0x66]],
    ['standard padded 1', decodeBase64, 'Zm8=', [0x66, 0x6f]],
    ['standard no padding needed', decodeBase64, 'Zm9v', [0x66, 0x6f, 0x6f]],
    ['standard 62/63', decodeBase64, '+/+/', [0xfb, 0xff, 0xbf]],
    ['url-safe unpadded', decodeUrlSafeBase64, '-_-_', [0xfb, 0xff, 0xbf]],
    ['url-safe padded', decodeUrlSafeBase64, '-w==', [0xfb]],
    ['empty', decodeBase64, '', []],
    // Non-canonical trailing bits ("Zh" vs "Zg") are tolerated for interoperability.
    ['non-zero trailing bits', decodeBase64, 'Zh', [0x66]],
  ];
  it.each(cases)('%s', (_name, decode, input, expected) => {
    expect(Array.from(decode(input))).toEqual(expected);
  });
});

describe('decoding rejects malformed input', () => {
  const cases: Array<[name: string, decode: (s: string) => Uint8Array, input: string]> = [
    ['url-safe char in standard', decodeBase64, '-_-_'],
    ['standard char in url-safe', decodeUrlSafeBase64, '+/+/'],
    ['whitespace', decodeBase64, 'Zm9 v'],
    ['junk character', decodeBase64, 'Zm9v!'],
    ['impossible length', decodeBase64, 'Zm9vY'],
    ['too much padding', decodeBase64, 'Zg==='],
    ['too little padding', decodeBase64, 'Zg='],
    ['padding on a full quantum', decodeBase64, 'Zm9v===='],
    ['data after padding', decodeBase64, 'Zg==Zg'],
    ['only padding', decodeBase64, '=='],
  ];
  it.each(cases)('%s', (_name, decode, input) => {
    expect(() => decode(input)).toThrow(Base64Error);
  });
});

describe('decodeEitherBase64 (keys others publish in either alphabet)', () => {
  it.each([
    ['standard alphabet', '+/+/', [0xfb, 0xff, 0xbf]],
    ['url-safe alphabet', '-_-_', [0xfb, 0xff, 0xbf]],
    ['padded', 'Zg==', [102]],
    ['empty', '', []],
  ])('accepts %s', (_name, text, bytes) => {
    expect(Array.from(decodeEitherBase64(text))).toEqual(bytes);
  });

  it.each([
    ['illegal characters', 'a*b'],
    ['impossible length', 'abcde'],
    ['mixed alphabets', 'a+b_'],
    ['wrong padding', 'Zg='],
  ])('rejects %s', (_name, text) => {
    expect(() => decodeEitherBase64(text)).toThrow(Base64Error);
  });
});
